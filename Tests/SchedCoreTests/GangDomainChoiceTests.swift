import SchedCore
import Testing
import SchedTestSupport

@Suite("Gang domain choice from the capacity index")
struct GangDomainChoiceTests {
    /// The rule written out directly: try every domain, keep the one left with the fewest free
    /// GPUs, then PUs, then the first name.
    static func bruteForce(_ request: ResourceRequest, count: Int, in snapshot: ClusterSnapshot, placer: Placer) -> [Assignment]? {
        var domains: [String: [NodeState]] = [:]
        for n in snapshot.nodes { if let d = n.labels[GangPlacer.domainLabel] { domains[d, default: []].append(n) } }
        var best: (key: (Int, Int, String), assignments: [Assignment])?
        for (d, nodes) in domains {
            var scratch = ClusterSnapshot(nodes: nodes)
            var out: [Assignment] = []
            for _ in 0..<count {
                guard case .placed(let a, _, _) = placer.place(request, in: scratch) else { break }
                scratch.apply(a)
                out.append(a)
            }
            guard out.count == count else { continue }
            let key = (scratch.nodes.reduce(0) { $0 + $1.freeGPUCount }, scratch.nodes.reduce(0) { $0 + $1.freePUCount }, d)
            if best == nil || key < best!.key { best = (key, out) }
        }
        return best?.assignments
    }

    @Test("with required locality the index-driven choice equals trying every domain", arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func sameAsBruteForce(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let tray = TopologyFixture.make(arch: "aarch64", numa: 2, coresPerNUMA: 8, threadsPerCore: 2, gpusPerNUMA: 2, gpuModel: "Rubin")
        var registry = NodeClassRegistry()
        var nodes: [NodeState] = []
        for rack in 0..<6 {
            for t in 0..<4 { nodes.append(registry.node(id: NodeID("r\(rack)-t\(t)"), topology: tray, labels: [GangPlacer.domainLabel: "rack-\(rack)"])) }
        }
        var snapshot = ClusterSnapshot(nodes: nodes)
        let placer = Placer(), gang = GangPlacer(placer: placer)
        // Random load: single tasks of 1-2 GPUs here and there.
        for _ in 0..<rng.int(4...14) {
            let r = ResourceRequest(cpus: rng.int(1...8), gpus: rng.int(1...2), gpuModel: "Rubin")
            let i = rng.int(0...(snapshot.nodes.count - 1))
            if case .success(let a) = placer.check(r, on: snapshot.nodes[i]) { snapshot.apply(a, toNodeAt: i) }
        }
        var compared = 0
        for (gpus, count) in [(1, 3), (2, 4), (4, 2), (2, 6), (1, 10)] {
            let r = ResourceRequest(cpus: 2, gpus: gpus, gpuModel: "Rubin")
            let expected = Self.bruteForce(r, count: count, in: snapshot, placer: placer)
            switch gang.place(r, count: count, in: snapshot, locality: .required) {
            case .placed(let ds):
                let got = ds.compactMap { d -> Assignment? in if case .placed(let a, _, _) = d { a } else { nil } }
                #expect(got == expected, "seed \(seed): \(gpus) GPUs x \(count)")
                compared += 1
            case .unplaceable:
                #expect(expected == nil, "seed \(seed): \(gpus) GPUs x \(count) fits by brute force")
            }
        }
        #expect(compared > 0)
    }
}
