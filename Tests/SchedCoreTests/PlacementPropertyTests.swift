import Testing
import SchedCore
import SchedTestSupport

/// Test conveniences on the core's seeded generator.
extension SplitMix64 {
    /// Uniform enough in 0..<n for tests (modulo bias is irrelevant here).
    mutating func next(below n: UInt64) -> UInt64 { next() % n }
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next(below: UInt64(range.count)))
    }
    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
    mutating func pick<T>(_ xs: [T]) -> T { xs[int(0...(xs.count - 1))] }
}

/// A random small fleet and a random stream of place/release steps, checked against invariants.
struct PlacementSimulation {
    struct Live {
        var request: ResourceRequest
        var assignment: Assignment
    }
    /// What happened at each step, for comparing two runs.
    enum Event: Hashable {
        case placed(PlacementDecision)
        case unplaceable(PlacementDecision)
        case released(Assignment)
    }

    var rng: SplitMix64
    var nodes: [NodeID: NodeState] = [:]
    var live: [Live] = []
    var events: [Event] = []
    var placedCount = 0
    var failures: [String] = []

    init(seed: UInt64) {
        rng = SplitMix64(seed: seed)
        let count = rng.int(1...4)
        for i in 0..<count {
            let topo: NodeTopology
            switch rng.int(0...9) {
            case 0: topo = TopologyFixture.withGPUMemoryNodes()
            case 1: topo = TopologyFixture.kunpeng()
            default:
                let cores = rng.pick([2, 4, 6])
                let l3 = rng.pick(cores == 6 ? [1, 2, 3] : [1, 2])
                topo = TopologyFixture.make(arch: rng.pick(["x86_64", "x86_64", "aarch64"]),
                                            numa: rng.int(1...3), coresPerNUMA: cores, threadsPerCore: rng.int(1...2),
                                            l3PerNUMA: l3, gpusPerNUMA: rng.pick([0, 0, 1, 2]),
                                            gpuModel: rng.pick(["Tesla V100-SXM2-32GB", "Tesla T4"]),
                                            memoryPerNUMA: Int64(rng.int(4...32)) * GiB)
            }
            var n = NodeState(id: NodeID("node-\(i)"), topology: topo)
            if i > 0 && rng.chance(10) {   // node-0 always takes work
                n.schedulable = false
                n.unschedulableReason = rng.chance(50) ? .draining : .notReady
            }
            nodes[n.id] = n
        }
    }

    mutating func randomRequest() -> ResourceRequest {
        let gpus = rng.chance(30) ? rng.int(1...3) : 0
        return ResourceRequest(cpus: rng.int(1...10),
                               memoryBytes: rng.chance(30) ? 0 : Int64(rng.int(1...24)) * GiB / Int64(rng.int(1...4)),
                               gpus: gpus,
                               gpuModel: gpus > 0 && rng.chance(30) ? rng.pick(["V100", "t4", "H100"]) : nil,
                               arch: rng.chance(20) ? rng.pick(["amd64", "arm64", "x86_64", "aarch64"]) : nil)
    }

    mutating func fail(_ s: String) { failures.append(s) }

    mutating func run(steps: Int) {
        for step in 0..<steps {
            if !live.isEmpty && rng.chance(35) {
                let k = rng.int(0...(live.count - 1))
                let gone = live.remove(at: k)
                nodes[gone.assignment.node]!.release(gone.assignment)
                events.append(.released(gone.assignment))
            } else {
                let request = randomRequest()
                let snapshot = ClusterSnapshot(nodes: Array(nodes.values))
                let decision = Placer().place(request, in: snapshot)
                checkExplanation(decision.explanation, request: request, snapshot: snapshot, step: step)
                switch decision {
                case .placed(let a, _, _):
                    events.append(.placed(decision))
                    check(a, for: request, step: step)
                    nodes[a.node]!.apply(a)
                    live.append(Live(request: request, assignment: a))
                    placedCount += 1
                case .unplaceable:
                    events.append(.unplaceable(decision))
                }
            }
            checkLedger(step: step)
        }
        // Releasing everything leaves every node empty.
        for l in live { nodes[l.assignment.node]!.release(l.assignment) }
        live.removeAll()
        for n in nodes.values where !(n.usedPUs.isEmpty && n.usedGPUs.isEmpty && n.usedMemory.allSatisfy { $0 == 0 }) {
            fail("\(n.id) not empty after releasing everything")
        }
    }

    /// One assignment against the request and the node's state before it is applied.
    mutating func check(_ a: Assignment, for r: ResourceRequest, step: Int) {
        let where_ = "step \(step) \(a.node) pus \(a.pus) numa \(a.numaNodes) gpus \(a.gpus)"
        guard let node = nodes[a.node] else { return fail("\(where_): unknown node") }
        let topo = node.topology
        if !node.schedulable { fail("\(where_): placed on an unschedulable node") }
        if !node.canApply(a) { fail("\(where_): cannot be applied") }
        if a.pus.count != r.cpus { fail("\(where_): \(a.pus.count) PUs for \(r.cpus) requested") }
        if !a.pus.isSubset(of: topo.allPUs) { fail("\(where_): PUs not on the node") }
        if !a.pus.isDisjoint(with: node.usedPUs) { fail("\(where_): PU assigned twice") }
        if a.gpus.count != r.gpus { fail("\(where_): \(a.gpus.count) GPUs for \(r.gpus) requested") }
        if Set(a.gpus).count != a.gpus.count { fail("\(where_): a GPU listed twice") }
        for g in a.gpus {
            if g < 0 || g >= topo.gpus.count { fail("\(where_): GPU \(g) not on the node"); continue }
            if node.usedGPUs.contains(g) { fail("\(where_): GPU \(g) assigned twice") }
            if !r.gpuModelMatches(topo.gpus[g].model) { fail("\(where_): GPU \(g) is \(topo.gpus[g].model), want \(r.gpuModel ?? "")") }
        }
        if let arch = r.arch, ResourceRequest.canonicalArch(arch) != ResourceRequest.canonicalArch(topo.arch) {
            fail("\(where_): arch \(topo.arch) for \(arch)")
        }
        // Every PU lies in a NUMA node the task is bound to.
        for p in a.pus {
            guard let numa = topo.numaNodes.first(where: { $0.cpus.contains(p) }) else { fail("\(where_): PU \(p) in no NUMA node"); continue }
            if !a.numaNodes.contains(numa.id) { fail("\(where_): PU \(p) is on NUMA \(numa.id), not listed") }
        }
        // Listed NUMA nodes exist and have CPUs; memory only on listed, CPU-bearing nodes.
        for id in a.numaNodes {
            guard let pos = topo.numaPosition(ofOS: id) else { fail("\(where_): NUMA \(id) not on the node"); continue }
            if topo.numaNodes[pos].cpus.isEmpty { fail("\(where_): bound to CPU-less NUMA \(id)") }
        }
        for m in a.memory {
            if !a.numaNodes.contains(m.numa) { fail("\(where_): memory on NUMA \(m.numa), not listed") }
            if m.bytes <= 0 { fail("\(where_): empty memory entry") }
        }
        if a.memoryBytes != r.memoryBytes { fail("\(where_): \(a.memoryBytes) bytes for \(r.memoryBytes) requested") }
        // The placer's pick is the one `check` gives for that node.
        if Placer().check(r, on: node) != .success(a) { fail("\(where_): check() disagrees") }
    }

    mutating func checkExplanation(_ e: PlacementExplanation, request: ResourceRequest, snapshot: ClusterSnapshot, step: Int) {
        if e.nodesEvaluated != snapshot.nodes.count { fail("step \(step): evaluated \(e.nodesEvaluated)") }
        let rejected = e.rejections.reduce(0) { $0 + $1.nodes }
        // Every node is accounted for: ruled out, feasible, or not looked at (enough candidates found).
        if rejected + e.nodesFeasible + (e.nodesNotExamined ?? 0) != e.nodesEvaluated {
            fail("step \(step): \(rejected) rejected + \(e.nodesFeasible) feasible + \(e.nodesNotExamined ?? 0) not examined")
        }
        if e.topCandidates.count != min(3, e.nodesFeasible) { fail("step \(step): \(e.topCandidates.count) candidates") }
        let order = e.rejections.map { RejectionReason.allCases.firstIndex(of: $0.reason)! }
        if order != order.sorted() || Set(order).count != order.count { fail("step \(step): rejections out of filter order") }
        // Ranked by preference tier (CPU-only tasks prefer nodes without GPUs), then score, then id.
        func tier(_ id: NodeID) -> Int {
            request.gpus == 0 && !(snapshot.nodes.first { $0.id == id }?.topology.gpus.isEmpty ?? true) ? 0 : 1
        }
        for (x, y) in zip(e.topCandidates, e.topCandidates.dropFirst())
        where (tier(x.node), x.score) < (tier(y.node), y.score) || (tier(x.node) == tier(y.node) && x.score == y.score && x.node >= y.node) {
            fail("step \(step): candidates out of order \(e.topCandidates)")
        }
    }

    /// Node state equals what the live assignments add up to; nothing is over capacity.
    mutating func checkLedger(step: Int) {
        for (id, node) in nodes {
            let mine = live.filter { $0.assignment.node == id }.map(\.assignment)
            var pus = CPUSet(), gpus = IndexSet64()
            var puTotal = 0
            var mem = Array(repeating: Int64(0), count: node.topology.numaNodes.count)
            for a in mine {
                pus.formUnion(a.pus)
                puTotal += a.pus.count
                for g in a.gpus { gpus.insert(g) }
                for m in a.memory { mem[node.topology.numaPosition(ofOS: m.numa)!] += m.bytes }
            }
            if puTotal != pus.count { fail("step \(step) \(id): a PU is held by two live tasks") }
            if mine.reduce(0, { $0 + $1.gpus.count }) != gpus.count { fail("step \(step) \(id): a GPU is held by two live tasks") }
            if node.usedPUs != pus { fail("step \(step) \(id): usedPUs \(node.usedPUs) != \(pus)") }
            if node.usedGPUs != gpus { fail("step \(step) \(id): usedGPUs \(node.usedGPUs) != \(gpus)") }
            if node.usedMemory != mem { fail("step \(step) \(id): usedMemory \(node.usedMemory) != \(mem)") }
            for (i, n) in node.topology.numaNodes.enumerated() where mem[i] > n.memoryBytes {
                fail("step \(step) \(id): NUMA \(n.id) holds \(mem[i]) of \(n.memoryBytes) bytes")
            }
        }
    }
}

@Suite("Placement properties (seeded random fleets and request streams)")
struct PlacementPropertyTests {
    @Test("invariants hold over 300 place/release steps", arguments: 1...40)
    func invariants(seed: UInt64) {
        var sim = PlacementSimulation(seed: seed)
        sim.run(steps: 300)
        #expect(sim.failures.isEmpty, "seed \(seed): \(sim.failures.prefix(5))")
        #expect(sim.placedCount > 0, "seed \(seed): nothing was ever placed")
    }

    @Test("the same seed gives identical decisions", arguments: [7, 1234, 99_999] as [UInt64])
    func deterministic(seed: UInt64) {
        var a = PlacementSimulation(seed: seed)
        var b = PlacementSimulation(seed: seed)
        a.run(steps: 200)
        b.run(steps: 200)
        #expect(a.events.count == 200)
        #expect(a.events == b.events)
    }

    @Test("the streams are not vacuous: they place GPU and multi-NUMA tasks, reject some, release some")
    func coverage() {
        var gpuTasks = 0, multiNUMA = 0, withMemory = 0, unplaceable = 0, released = 0, placed = 0
        for seed in 1...40 as ClosedRange<UInt64> {
            var sim = PlacementSimulation(seed: seed)
            sim.run(steps: 300)
            for e in sim.events {
                switch e {
                case .placed(.placed(let a, _, _)):
                    placed += 1
                    if !a.gpus.isEmpty { gpuTasks += 1 }
                    if a.numaNodes.count > 1 { multiNUMA += 1 }
                    if !a.memory.isEmpty { withMemory += 1 }
                case .unplaceable: unplaceable += 1
                case .released: released += 1
                default: break
                }
            }
        }
        #expect(placed > 1000)
        #expect(gpuTasks > 50)
        #expect(multiNUMA > 50)
        #expect(withMemory > 500)
        #expect(unplaceable > 500)
        #expect(released > 1000)
    }

    @Test("the generator is deterministic and seed-dependent")
    func generator() {
        var x = SplitMix64(seed: 42), y = SplitMix64(seed: 42), z = SplitMix64(seed: 43)
        let xs = (0..<8).map { _ in x.next() }
        #expect(xs == (0..<8).map { _ in y.next() })
        #expect(xs != (0..<8).map { _ in z.next() })
        // Reference value of SplitMix64 from seed 0.
        var zero = SplitMix64(seed: 0)
        #expect(zero.next() == 0xE220_A839_7B1D_CDAF)
    }
}
