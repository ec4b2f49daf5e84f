import SchedCore
import Testing
import SchedTestSupport

@Suite("Gang placement")
struct GangPlacerTests {
    /// A tray-like node: 1 NUMA, 8 cores, 4 GPUs, in NVLink domain `domain`.
    static func tray(_ id: String, domain: String?) -> NodeState {
        var n = TopologyFixture.node(id, TopologyFixture.make(numa: 1, coresPerNUMA: 8, threadsPerCore: 1, gpusPerNUMA: 4))
        if let domain { n.labels = [GangPlacer.domainLabel: domain] }
        return n
    }

    @Test("all members or none: a gang that does not fit places nothing")
    func allOrNothing() {
        let snap = ClusterSnapshot(nodes: [Self.tray("a", domain: nil), Self.tray("b", domain: nil)])
        let g = GangPlacer(placer: Placer())
        guard case .placed(let ds) = g.place(ResourceRequest(cpus: 2, gpus: 4), count: 2, in: snap, locality: nil) else {
            Issue.record("a gang of 2 × 4 GPUs fits two 4-GPU nodes")
            return
        }
        let nodes = ds.compactMap { d -> NodeID? in if case .placed(let a, _, _) = d { a.node } else { nil } }
        #expect(Set(nodes) == ["a", "b"])
        guard case .unplaceable(let e) = g.place(ResourceRequest(cpus: 2, gpus: 4), count: 3, in: snap, locality: nil) else {
            Issue.record("a gang of 3 × 4 GPUs cannot fit 8 GPUs")
            return
        }
        #expect(e.summary == "0/2 nodes available: 2 too few free GPUs")
    }

    @Test("required locality keeps the gang in one domain; the tightest domain wins")
    func requiredDomainBestFit() {
        // Domain r1 has 3 trays, r2 has 2: a gang of 2 fits both; r2 is left with less free, so it wins.
        let nodes = ["r1-a", "r1-b", "r1-c"].map { Self.tray($0, domain: "r1") } + ["r2-a", "r2-b"].map { Self.tray($0, domain: "r2") }
        let g = GangPlacer(placer: Placer())
        guard case .placed(let ds) = g.place(ResourceRequest(cpus: 1, gpus: 4), count: 2, in: ClusterSnapshot(nodes: nodes), locality: .required) else {
            Issue.record("fits")
            return
        }
        let placed = ds.compactMap { d -> NodeID? in if case .placed(let a, _, _) = d { a.node } else { nil } }
        #expect(Set(placed) == ["r2-a", "r2-b"])
        // A gang of 4 fits no single domain: required waits, preferred spreads over both.
        #expect({ if case .unplaceable = g.place(ResourceRequest(cpus: 1, gpus: 4), count: 4, in: ClusterSnapshot(nodes: nodes), locality: .required) { true } else { false } }())
        guard case .placed(let spread) = g.place(ResourceRequest(cpus: 1, gpus: 4), count: 4, in: ClusterSnapshot(nodes: nodes), locality: .preferred) else {
            Issue.record("preferred falls back to the whole fleet")
            return
        }
        #expect(spread.count == 4)
    }

    @Test("members never share a PU or GPU")
    func membersAreDisjoint() {
        let snap = ClusterSnapshot(nodes: [Self.tray("a", domain: "r")])
        guard case .placed(let ds) = GangPlacer(placer: Placer()).place(ResourceRequest(cpus: 2, gpus: 1), count: 4, in: snap, locality: .required) else {
            Issue.record("4 × (2 CPUs, 1 GPU) fit one tray")
            return
        }
        let as_ = ds.compactMap { d -> Assignment? in if case .placed(let a, _, _) = d { a } else { nil } }
        var pus = CPUSet(), gpus = Set<Int>()
        for a in as_ {
            #expect(a.pus.isDisjoint(with: pus))
            pus.formUnion(a.pus)
            for g in a.gpus { #expect(gpus.insert(g).inserted) }
        }
        #expect(gpus.count == 4)
    }
}
