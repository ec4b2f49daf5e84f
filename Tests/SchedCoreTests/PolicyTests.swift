import Testing
import SchedCore
import SchedTestSupport

/// The scheduling policies: each doc comment's worked example, how they rank a small fleet,
/// their names, and the 0...100 range. Fixture: 16 PUs (2 NUMA × 4 cores × 2 threads),
/// 2 × 64 GiB, 4 GPUs. Expectations are worked by hand.
@Suite("Scheduling policies")
struct PolicyTests {
    static let topo = TopologyFixture.make(numa: 2, coresPerNUMA: 4, threadsPerCore: 2, gpusPerNUMA: 2)

    /// A node with `pus` PUs and `gpus` whole GPUs in use (lowest numbers first), no memory.
    static func node(_ id: String, pus: Int, gpus: Int, topology: NodeTopology = topo) -> NodeState {
        var n = TopologyFixture.node(id, topology)
        n.apply(Assignment(node: n.id, pus: CPUSet(0..<pus), numaNodes: NUMASet([0]), gpus: Array(0..<gpus)))
        return n
    }

    static func winner(_ policy: SchedulingPolicy, _ r: ResourceRequest, _ nodes: [NodeState]) -> NodeID? {
        guard case .placed(let a, _, _) = Placer(policy: policy).place(r, in: ClusterSnapshot(nodes: nodes)) else { return nil }
        return a.node
    }

    @Test("best fit doc example: (75 + 0 + 50) / 3 = 41")
    func bestFitExample() {
        #expect(SchedulingPolicy.bestFit.score(ResourceRequest(cpus: 4), on: Self.node("n", pus: 8, gpus: 2)) == 41)
    }

    @Test("most allocated doc example: (75 + 75) / 2 = 75; least allocated 100 - 75 = 25")
    func mostAndLeastAllocatedExample() {
        let n = Self.node("n", pus: 8, gpus: 2)
        let r = ResourceRequest(cpus: 4, gpus: 1)
        // CPUs (8 + 4) / 16 = 75 %; GPUs (2000 + 1000) / 4000 = 75 %; memory not requested.
        #expect(SchedulingPolicy.mostAllocated.score(r, on: n) == 75)
        #expect(SchedulingPolicy.leastAllocated.score(r, on: n) == 25)
    }

    @Test("most allocated ignores dimensions the task does not request; best fit does not")
    func mostAllocatedOnlyRequestedDimensions() {
        let n = Self.node("n", pus: 0, gpus: 4)
        let r = ResourceRequest(cpus: 4)
        #expect(SchedulingPolicy.mostAllocated.score(r, on: n) == 25)   // CPUs only: 4 / 16
        #expect(SchedulingPolicy.bestFit.score(r, on: n) == 41)         // (25 + 0 + 100) / 3
        // Memory counts once requested: CPUs 25, memory 32 GiB of 128 GiB = 25 → 25.
        #expect(SchedulingPolicy.mostAllocated.score(ResourceRequest(cpus: 4, memoryBytes: 32 * GiB), on: n) == 25)
        #expect(SchedulingPolicy.mostAllocated.score(ResourceRequest(cpus: 4, memoryBytes: 96 * GiB), on: n) == 50)
    }

    @Test("dot product doc example: (0.25 × 0.5 + 0.25 × 0.25) / 0.5 = 0.375 → 37")
    func dotProductExample() {
        // 16 PUs with 8 free, 4 GPUs with 1 free; request 4 CPUs and 1 GPU.
        #expect(SchedulingPolicy.dotProduct.score(ResourceRequest(cpus: 4, gpus: 1), on: Self.node("n", pus: 8, gpus: 3)) == 37)
    }

    @Test("dot product counts GPU shares: 1 GPU free in halves is 0.5 of a GPU")
    func dotProductShares() {
        // 4 GPUs: 3 whole used, GPU 3 half used → 500/4000 free = 0.125; CPUs 16/16 free.
        // Request 2 CPUs (0.125) and a 500 share (0.125): (0.125 × 1 + 0.125 × 0.125) / 0.25 = 0.5625 → 56.
        var n = Self.node("n", pus: 0, gpus: 3)
        n.apply(Assignment(node: "n", pus: CPUSet(), numaNodes: NUMASet([1]), gpus: [3], gpuMilli: 500))
        #expect(SchedulingPolicy.dotProduct.score(ResourceRequest(cpus: 2, gpus: 1, gpuMilli: 500), on: n) == 56)
    }

    @Test func mostAndLeastAllocatedPickOppositeNodes() {
        // n1 empty (score 25 packed / 75 spread), n2 half full (75 packed / 25 spread).
        let fleet = [Self.node("n1", pus: 0, gpus: 0), Self.node("n2", pus: 8, gpus: 0)]
        let r = ResourceRequest(cpus: 4)
        #expect(Self.winner(.mostAllocated, r, fleet) == "n2")
        #expect(Self.winner(.leastAllocated, r, fleet) == "n1")
        #expect(Self.winner(.bestFit, r, fleet) == "n2")
        guard case .placed(_, let score, let e) = Placer(policy: .leastAllocated).place(r, in: ClusterSnapshot(nodes: fleet)) else {
            Issue.record("not placed"); return
        }
        #expect(score == 75)
        #expect(e.policy == "least-allocated")
        #expect(e.topCandidates == [CandidateScore(node: "n1", score: 75), CandidateScore(node: "n2", score: 25)])
    }

    @Test("dot product sends a GPU-heavy task to the node with free GPUs, a CPU task to the node with free CPUs")
    func dotProductAlignsShapes() {
        // n1: all 16 PUs free, 1 of 4 GPUs free.   n2: 4 PUs free, all 4 GPUs free.
        let fleet = [Self.node("n1", pus: 0, gpus: 3), Self.node("n2", pus: 12, gpus: 0)]
        // 2 CPUs (0.125) + 1 GPU (0.25):
        //   n1: (0.125 × 1 + 0.25 × 0.25) / 0.375 = 0.5 → 50;  n2: (0.125 × 0.25 + 0.25 × 1) / 0.375 = 0.75 → 75.
        let gpuHeavy = ResourceRequest(cpus: 2, gpus: 1)
        #expect(SchedulingPolicy.dotProduct.score(gpuHeavy, on: fleet[0]) == 50)
        #expect(SchedulingPolicy.dotProduct.score(gpuHeavy, on: fleet[1]) == 75)
        #expect(Self.winner(.dotProduct, gpuHeavy, fleet) == "n2")
        // 4 CPUs, no GPU: n1 free CPU fraction 1 → 100; n2 4/16 → 25.
        let cpuOnly = ResourceRequest(cpus: 4)
        #expect(SchedulingPolicy.dotProduct.score(cpuOnly, on: fleet[0]) == 100)
        #expect(SchedulingPolicy.dotProduct.score(cpuOnly, on: fleet[1]) == 25)
        #expect(Self.winner(.dotProduct, cpuOnly, fleet) == "n1")
    }

    @Test("fragmentation-aware falls back to best fit for CPU-only work on CPU nodes")
    func fragmentationAwareFallback() throws {
        var n = TopologyFixture.node("c", TopologyFixture.kunpeng())   // 32 PUs, 128 GiB, no GPUs
        n.apply(Assignment(node: "c", pus: CPUSet(0..<8), numaNodes: NUMASet([0])))
        let r = ResourceRequest(cpus: 8)
        let a = try #require(CPUAllocator.pick(r, on: n))
        let profile = WorkloadProfile(shapes: [.init(request: ResourceRequest(cpus: 1, gpus: 1), weight: 1)])
        // (8 + 8) / 32 = 50 % CPUs, 0 % memory → 25.
        #expect(SchedulingPolicy.fragmentationAware.score(r, on: n, assignment: a, workload: profile) == 25)
        #expect(SchedulingPolicy.fragmentationAware.score(r, on: n) == 25)
        #expect(SchedulingPolicy.bestFit.score(r, on: n) == 25)
    }

    @Test("policy names and aliases", arguments: [
        ("best-fit", SchedulingPolicy.bestFit), ("bestfit", .bestFit), ("best_fit", .bestFit), ("Best-Fit", .bestFit),
        ("most-allocated", .mostAllocated), ("pack", .mostAllocated), ("PACK", .mostAllocated),
        ("least-allocated", .leastAllocated), ("spread", .leastAllocated), ("Spread", .leastAllocated),
        ("dot-product", .dotProduct), ("DOT-PRODUCT", .dotProduct),
        ("fragmentation-aware", .fragmentationAware), ("fgd", .fragmentationAware), ("FGD", .fragmentationAware),
        ("fragmentation", .fragmentationAware),
    ] as [(String, SchedulingPolicy)])
    func names(name: String, policy: SchedulingPolicy) {
        #expect(SchedulingPolicy(name: name) == policy)
    }

    @Test("unknown names give nil", arguments: ["", "tetris", "best fit", "most_allocated", "packed", " pack", "fgd2"])
    func unknownNames(name: String) {
        #expect(SchedulingPolicy(name: name) == nil)
    }

    @Test func canonicalNamesRoundTrip() {
        for p in SchedulingPolicy.allCases { #expect(SchedulingPolicy(name: p.rawValue) == p) }
        #expect(SchedulingPolicy.allCases.count == 6)
    }

    @Test("every policy scores within 0...100 on random nodes", arguments: 0..<40)
    func scoresInRange(seed: Int) {
        var rng = SplitMix64(seed: UInt64(seed) &* 7919 &+ 11)
        func randomRequest() -> ResourceRequest {
            let gpus = rng.pick([0, 0, 1, 1, 2, 4])
            return ResourceRequest(cpus: rng.int(1...40), memoryBytes: Int64(rng.int(0...8)) * 16 * GiB, gpus: gpus,
                                   gpuMilli: gpus == 1 ? rng.pick([1000, 100, 250, 500, 700, 999]) : 1000)
        }
        let topo = TopologyFixture.make(numa: rng.int(1...3), coresPerNUMA: rng.pick([2, 4, 6]), threadsPerCore: rng.int(1...2),
                                        gpusPerNUMA: rng.pick([0, 1, 2, 4]), memoryPerNUMA: Int64(rng.int(4...64)) * GiB)
        var n = TopologyFixture.node("n", topo)
        for _ in 0..<rng.int(0...12) {
            if case .success(let a) = Placer().check(randomRequest(), on: n) { n.apply(a) }
        }
        let workload = WorkloadProfile(shapes: (0..<rng.int(0...3)).map { _ in .init(request: randomRequest(), weight: rng.int(1...5)) })
        for _ in 0..<20 {
            let r = randomRequest()
            let pick = Placer().check(r, on: n)
            for p in SchedulingPolicy.allCases {
                let s = p.score(r, on: n)
                #expect((0...100).contains(s), "\(p) \(r) on \(n.usedPUs) \(n.gpuMilliUsed): \(s)")
                if case .success(let a) = pick {
                    let full = p.score(r, on: n, assignment: a, workload: workload)
                    #expect((0...100).contains(full), "\(p) \(r) with \(a): \(full)")
                }
            }
            #expect(SchedulingPolicy.mostAllocated.score(r, on: n) + SchedulingPolicy.leastAllocated.score(r, on: n) == 100)
        }
    }
}
