import Testing
import SchedCore
import SchedTestSupport

/// GPU sharing (`gpuMilli` < 1000): accounting in `NodeState` and the best-fit GPU pick of
/// `CPUAllocator`. Fixture: 2 NUMA nodes × 4 cores × 2 threads (16 PUs), GPUs 0-1 on NUMA 0 and
/// GPUs 2-3 on NUMA 1. Expectations are worked by hand.
@Suite("GPU sharing")
struct GPUShareTests {
    static let topo = TopologyFixture.make(numa: 2, coresPerNUMA: 4, threadsPerCore: 2, gpusPerNUMA: 2)

    static func share(_ milli: Int, cpus: Int = 1) -> ResourceRequest {
        ResourceRequest(cpus: cpus, gpus: 1, gpuMilli: milli)
    }

    /// Holds `milli` of GPU `gpu` (no PUs), as a running sharing task would.
    static func hold(_ n: inout NodeState, gpu: Int, milli: Int?) {
        n.apply(Assignment(node: n.id, pus: CPUSet(), numaNodes: NUMASet([0]), gpus: [gpu], gpuMilli: milli))
    }

    /// Places on a one-node snapshot, applies the result and returns it.
    static func placeAndApply(_ r: ResourceRequest, _ n: inout NodeState) -> Assignment? {
        guard case .placed(let a, _, _) = Placer().place(r, in: ClusterSnapshot(nodes: [n])) else { return nil }
        #expect(n.canApply(a))
        n.apply(a)
        return a
    }

    @Test func twoHalvesShareOneGPUAndAThirdGoesElsewhere() throws {
        var n = TopologyFixture.node("n", Self.topo)
        let a = try #require(Self.placeAndApply(Self.share(500), &n))
        let b = try #require(Self.placeAndApply(Self.share(500), &n))
        #expect(a.gpus == [0])
        #expect(a.gpuMilli == 500)
        #expect(b.gpus == a.gpus)
        #expect(n.gpuMilliUsed == [1000, 0, 0, 0])
        #expect(n.usedGPUs == NUMASet([0]))
        #expect(n.freeMilli(gpu: 0) == 0)
        // GPU 0 is full: the third half goes to the next GPU (all others are whole, lowest index).
        let c = try #require(Self.placeAndApply(Self.share(500), &n))
        #expect(c.gpus == [1])
        #expect(n.gpuMilliUsed == [1000, 500, 0, 0])
        #expect(n.gpuMilliUsedTotal == 1500)
        #expect(n.freeGPUCount == 2)
    }

    @Test("300 after 600 lands on the partly used GPU (least free that fits)")
    func bestFitGPU() throws {
        var n = TopologyFixture.node("n", Self.topo)
        Self.hold(&n, gpu: 2, milli: 600)   // GPU 2 (NUMA 1): free 400
        let a = try #require(Self.placeAndApply(Self.share(300), &n))
        #expect(a.gpus == [2])                 // not the empty GPU 0
        #expect(a.numaNodes == NUMASet([1]))   // PUs local to GPU 2
        #expect(a.pus.isSubset(of: n.pus(ofNUMA: 1)))
        #expect(n.gpuMilliUsed == [0, 0, 900, 0])
    }

    @Test("among partly used GPUs the one with least free share that fits wins")
    func leastFreeThatFits() throws {
        var n = TopologyFixture.node("n", Self.topo)
        Self.hold(&n, gpu: 0, milli: 800)   // free 200: too little for 300
        Self.hold(&n, gpu: 1, milli: 500)   // free 500
        Self.hold(&n, gpu: 3, milli: 600)   // free 400: least that fits
        let a = try #require(Self.placeAndApply(Self.share(300), &n))
        #expect(a.gpus == [3])
        #expect(n.gpuMilliUsed == [800, 500, 0, 900])
    }

    @Test("best-fit GPU whose NUMA node cannot hold the CPUs loses to one whose can")
    func prefersGPUWithRoomOnItsNUMANode() throws {
        var n = TopologyFixture.node("n", Self.topo)
        Self.hold(&n, gpu: 0, milli: 600)   // free 400, NUMA 0
        Self.hold(&n, gpu: 2, milli: 500)   // free 500, NUMA 1
        n.apply(Assignment(node: "n", pus: n.pus(ofNUMA: 0), numaNodes: NUMASet([0])))  // NUMA 0 has no free PUs
        let a = try #require(Self.placeAndApply(Self.share(300, cpus: 2), &n))
        #expect(a.gpus == [2])
        #expect(a.numaNodes == NUMASet([1]))
    }

    @Test func wholeGPUNeverLandsOnAPartlyUsedGPU() throws {
        var n = TopologyFixture.node("n", Self.topo)
        Self.hold(&n, gpu: 0, milli: 100)
        let a = try #require(Self.placeAndApply(ResourceRequest(cpus: 1, gpus: 1), &n))
        #expect(a.gpus == [1])
        #expect(a.gpuMilli == nil)
        #expect(n.gpuMilliUsed == [100, 1000, 0, 0])
        // Shares on every GPU: no whole GPU is left although 3 × 900 is free in shares.
        Self.hold(&n, gpu: 2, milli: 100)
        Self.hold(&n, gpu: 3, milli: 100)
        guard case .unplaceable(let e) = Placer().place(ResourceRequest(gpus: 1), in: ClusterSnapshot(nodes: [n])) else {
            Issue.record("a whole GPU was placed on a partly used GPU"); return
        }
        #expect(e.summary == "0/1 nodes available: 1 too few free GPUs")
        // A share still fits on a partly used GPU (GPUs 0, 2, 3 have 900 free: lowest index wins).
        let s = try #require(Self.placeAndApply(Self.share(900), &n))
        #expect(s.gpus == [0])
    }

    @Test func canApplyRefusesOverSubscriptionAndAcceptsExactFill() {
        var n = TopologyFixture.node("n", Self.topo)
        Self.hold(&n, gpu: 0, milli: 600)
        func a(_ milli: Int?, gpu: Int = 0) -> Assignment {
            Assignment(node: "n", pus: CPUSet([1]), numaNodes: NUMASet([0]), gpus: [gpu], gpuMilli: milli)
        }
        #expect(!n.canApply(a(500)))    // 600 + 500 > 1000
        #expect(!n.canApply(a(401)))
        #expect(n.canApply(a(400)))     // 600 + 400 == 1000
        #expect(!n.canApply(a(nil)))    // a whole GPU on a partly used GPU
        #expect(n.canApply(a(nil, gpu: 1)))
        #expect(!n.canApply(a(0, gpu: 1)))     // shares are 1...1000
        #expect(!n.canApply(a(1001, gpu: 1)))
        n.apply(a(400))
        #expect(n.gpuMilliUsed[0] == 1000)
        #expect(!n.canApply(Assignment(node: "n", pus: CPUSet([2]), numaNodes: NUMASet([0]), gpus: [0], gpuMilli: 1)))
    }

    @Test func releaseRestoresSharesAndFreesTheGPUOnlyAtZero() {
        var n = TopologyFixture.node("n", Self.topo)
        let half = Assignment(node: "n", pus: CPUSet([0]), numaNodes: NUMASet([0]), gpus: [1], gpuMilli: 500)
        let third = Assignment(node: "n", pus: CPUSet([1]), numaNodes: NUMASet([0]), gpus: [1], gpuMilli: 300)
        n.apply(half)
        n.apply(third)
        #expect(n.gpuMilliUsed == [0, 800, 0, 0])
        #expect(n.freeGPUCount == 3)
        n.release(half)
        #expect(n.gpuMilliUsed == [0, 300, 0, 0])
        #expect(n.usedGPUs == NUMASet([1]))
        #expect(n.freeGPUCount == 3)
        #expect(n.usedPUs == CPUSet([1]))
        n.release(third)
        #expect(n.gpuMilliUsed == [0, 0, 0, 0])
        #expect(n.usedGPUs.isEmpty)
        #expect(n.freeGPUCount == 4)
        #expect(n == TopologyFixture.node("n", Self.topo))
    }

    @Test("too-few-GPUs numbers count GPUs that fit the share")
    func explanationNumbers() throws {
        // n1: 4 GPUs at 600 each (1600 free in shares, none fits 500).
        // n2: 2 GPUs (1 per NUMA) at 700 and 1000.  n3: one GPU at 200 → fits, placed there.
        var n1 = TopologyFixture.node("n1", Self.topo)
        for g in 0..<4 { Self.hold(&n1, gpu: g, milli: 600) }
        var n2 = TopologyFixture.node("n2", TopologyFixture.make(numa: 2, coresPerNUMA: 4, gpusPerNUMA: 1))
        Self.hold(&n2, gpu: 0, milli: 700)
        Self.hold(&n2, gpu: 1, milli: nil)
        var n3 = TopologyFixture.node("n3", TopologyFixture.make(numa: 1, coresPerNUMA: 4, gpusPerNUMA: 1))
        Self.hold(&n3, gpu: 0, milli: 200)
        let d = Placer().place(Self.share(500), in: ClusterSnapshot(nodes: [n1, n2, n3]))
        guard case .placed(let a, _, let e) = d else { Issue.record("not placed: \(d)"); return }
        #expect(a.node == "n3")
        #expect(a.gpus == [0])
        #expect(e.summary == "1/3 nodes available: 2 too few free GPUs")
        #expect(e.rejections == [RejectionCount(reason: .tooFewGPUs, nodes: 2, requested: 1, bestFree: 0, bestCapacity: 4)])

        // Whole GPUs: 3 GPUs on a 4-GPU node where one is shared → 3 fit, capacity 4.
        var n4 = TopologyFixture.node("n4", Self.topo)
        Self.hold(&n4, gpu: 2, milli: 250)
        let w = Placer().place(ResourceRequest(gpus: 4), in: ClusterSnapshot(nodes: [n4, n2]))
        #expect(w.explanation.rejections == [RejectionCount(reason: .tooFewGPUs, nodes: 2, requested: 4, bestFree: 3, bestCapacity: 4)])
    }
}
