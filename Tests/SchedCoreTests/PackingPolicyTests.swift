import Testing
@testable import SchedCore
import SchedTestSupport

/// Each packing policy's score on small cases worked by hand (see the comments for the arithmetic).
@Suite("Packing policies")
struct PackingPolicyTests {
    /// A node with `cpus` CPUs and GPUs whose free shares are `free` (thousandths).
    static func node(cpus: Int = 32, model: String = "T4", free: [Int]) -> ShareNode {
        var n = ShareNode(model: model, cpuMilli: cpus * 1000, memoryMiB: 65_536, gpus: free.count)
        n.gpuFree = free
        return n
    }
    static func score(_ p: PackingPolicy, _ pod: ShareRequest, _ n: ShareNode, workload: TargetWorkload = TargetWorkload(shapes: [])) -> PackingCandidate {
        let s = PackingScorer(policy: p, workload: workload)
        return s.score(pod, on: n, model: s.modelIndex(of: n))
    }
    static let half = ShareRequest(cpuMilli: 4000, memoryMiB: 1024, gpus: 1, gpuMilli: 500)
    /// One GPU half used, one free.
    static let halfUsed = Self.node(free: [500, 1000])

    @Test("filters: CPU, memory, GPU model, GPU share")
    func filters() {
        #expect(PackingScorer.fits(Self.half, Self.halfUsed))
        #expect(!PackingScorer.fits(ShareRequest(cpuMilli: 33_000), Self.halfUsed))
        #expect(!PackingScorer.fits(ShareRequest(cpuMilli: 1000, memoryMiB: 70_000), Self.halfUsed))
        // gpu_spec: a V100M16 pod does not fit a T4 node; "T4|P100" does.
        #expect(!PackingScorer.fits(ShareRequest(cpuMilli: 1000, gpus: 1, gpuMilli: 500, gpuModels: ["V100M16"]), Self.halfUsed))
        #expect(PackingScorer.fits(ShareRequest(cpuMilli: 1000, gpus: 1, gpuMilli: 500, gpuModels: ["t4", "P100"]), Self.halfUsed))
        // A sharing pod needs one GPU with enough free share; a k-GPU pod k wholly free GPUs.
        #expect(!PackingScorer.fits(ShareRequest(cpuMilli: 1000, gpus: 1, gpuMilli: 600), Self.node(free: [500, 400])))
        #expect(!PackingScorer.fits(ShareRequest(cpuMilli: 1000, gpus: 2, gpuMilli: 1000), Self.halfUsed))
        #expect(PackingScorer.fits(ShareRequest(cpuMilli: 1000, gpus: 2, gpuMilli: 1000), Self.node(free: [1000, 500, 1000])))
    }

    @Test("GPU choice: a sharing pod takes the fullest GPU it fits; whole GPUs the lowest free ones")
    func gpuChoice() {
        #expect(PackingScorer.bestFitGPUs(Self.half, Self.node(free: [1000, 600, 500, 900])) == [2])
        #expect(PackingScorer.bestFitGPUs(ShareRequest(cpuMilli: 1, gpus: 2, gpuMilli: 1000), Self.node(free: [300, 1000, 0, 1000, 1000])) == [1, 3])
    }

    @Test("Random's GPU choice: a uniformly random fitting GPU, one Intn per fitting GPU; whole GPUs the lowest free")
    func randomGPUChoice() {
        let n = Self.node(free: [1000, 300, 600, 0, 500])  // the half pod fits GPUs 0, 2 and 4
        var seen = Set<Int>()
        for seed in Int64(0)..<200 {
            var r = GoRandom(seed: seed), manual = GoRandom(seed: seed)
            let g = PackingScorer.randomGPUs(Self.half, n, rng: &r)
            // Reservoir sampling by hand: Intn(1), Intn(2), Intn(3) for the 1st, 2nd, 3rd fitting GPU.
            var pick = -1
            for (k, gpu) in [0, 2, 4].enumerated() where manual.intn(k + 1) == 0 { pick = gpu }
            #expect(g == [pick])
            #expect(r.int63() == manual.int63())
            seen.insert(pick)
        }
        #expect(seen == [0, 2, 4])
        var r = GoRandom(seed: 1), fresh = GoRandom(seed: 1)
        #expect(PackingScorer.randomGPUs(ShareRequest(cpuMilli: 1, gpus: 2, gpuMilli: 1000), Self.node(free: [300, 1000, 0, 1000, 1000]), rng: &r) == [1, 3])
        #expect(r.int63() == fresh.int63())  // no draw for whole GPUs
    }

    @Test("GpuPacking: shared GPU, free GPU of a used node, empty node")
    func packing() {
        // Shared GPU with 500 free: 100 - (500*100/1000)/10 = 95.
        #expect(Self.score(.gpuPacking, Self.half, Self.halfUsed).score == 95)
        // Pod of 600 cannot share: uses 1 free GPU of a used node: 50 - 1 = 49.
        #expect(Self.score(.gpuPacking, ShareRequest(cpuMilli: 1, gpus: 1, gpuMilli: 600), Self.halfUsed).score == 49)
        // Empty 2-GPU node: max(33 - 2, 2) = 31; CPU-only pod: 0.
        #expect(Self.score(.gpuPacking, Self.half, Self.node(free: [1000, 1000])).score == 31)
        #expect(Self.score(.gpuPacking, ShareRequest(cpuMilli: 1000), Self.halfUsed).score == 0)
    }

    @Test("GpuClustering: same kind only, mixed, empty, other kinds")
    func clustering() {
        var n = Self.halfUsed  // 1500 free: within = 25 * (8000 - 1500) / 8000 = 20
        #expect(Self.score(.gpuClustering, Self.half, n).score == 45)  // no GPU task yet: 20 + 25
        n.tasksByKind[0] = 1
        #expect(Self.score(.gpuClustering, Self.half, n).score == 95)  // only sharing tasks: 20 + 75
        n.tasksByKind[1] = 1
        #expect(Self.score(.gpuClustering, Self.half, n).score == 70)  // sharing among others: 20 + 50
        n.tasksByKind[0] = 0
        #expect(Self.score(.gpuClustering, Self.half, n).score == 20)  // only 1-GPU tasks: 20 + 0
    }

    @Test("BestFit raw score and DotProd")
    func bestFitAndDot() {
        // CPU left 28000/128000*0.5 = 0.109375; GPU left 1000/8000*0.5 = 0.0625 → (1 - 0.171875) * 100 = 82.
        #expect(Self.score(.bestFit, Self.half, Self.halfUsed).score == 82)
        // DotProd: the half-used GPU: cpu 32000/128000 × 4000/128000 = 0.0078125, gpu 500/8000 × 500/8000
        // = 0.00390625; dot/2 = 0.005859375 → int(100 × 0.994140625) = 99, on GPU 0.
        let d = Self.score(.dotProduct, Self.half, Self.halfUsed)
        #expect(d.score == 99)
        #expect(d.gpus == [0])
    }

    @Test("FGD: one half-used GPU and a sharing pod")
    func fgdHalfUsed() {
        // Target workload: one shape, 700 of one GPU, 1 CPU.
        let w = TargetWorkload(shapes: [.init(request: ShareRequest(cpuMilli: 1000, gpus: 1, gpuMilli: 700), frequency: 1)])
        // Before: GPU 0 (500 free) cannot take 700 → fragmentation 500.
        // Pod of 500 on GPU 0: GPUs 0, 1000 → 0; Δ = 500 → ⌊sigmoid(0.5) × 100⌋ = 62.
        // On GPU 1: 500, 500 → 1000; Δ = −500 → ⌊sigmoid(−0.5) × 100⌋ = 37. GPU 0 wins.
        let c = Self.score(.fgd, Self.half, Self.halfUsed, workload: w)
        #expect(c.score == 62)
        #expect(c.gpus == [0])
        #expect(GPUFragmentation.amount(of: Self.halfUsed, workload: w) == 500)
    }

    @Test("FGD: a 2-GPU pod on a fragmented node")
    func fgdMultiGPU() {
        // GPUs free 300, 1000, 1000, 1000; workload: whole 1-GPU tasks (freq 1).
        let w = TargetWorkload(shapes: [.init(request: ShareRequest(cpuMilli: 1000, gpus: 1, gpuMilli: 1000), frequency: 1)])
        let n = Self.node(free: [300, 1000, 1000, 1000])
        // Before: 300 fragmented. The pod takes GPUs 1, 2 → 300, 0, 0, 1000 → still 300. Δ = 0 → 50.
        let pod = ShareRequest(cpuMilli: 2000, gpus: 2, gpuMilli: 1000)
        let c = Self.score(.fgd, pod, n, workload: w)
        #expect(c.score == 50)
        #expect(c.gpus == [1, 2])
        // A 4-GPU pod does not fit; a CPU pod that leaves too little CPU for the shape makes all
        // 3300 free thousandths fragmented: Δ = 300 − 3300 → ⌊sigmoid(−3) × 100⌋ = 4.
        #expect(!PackingScorer.fits(ShareRequest(cpuMilli: 1, gpus: 4, gpuMilli: 1000), n))
        #expect(Self.score(.fgd, ShareRequest(cpuMilli: 31_500), n, workload: w).score == 4)
    }

    @Test("FGD: gpu_spec makes a node's share useless to shapes of other models")
    func fgdModel() {
        let w = TargetWorkload(shapes: [.init(request: ShareRequest(cpuMilli: 1000, gpus: 1, gpuMilli: 500, gpuModels: ["V100M16"]), frequency: 1)])
        #expect(GPUFragmentation.amount(of: Self.halfUsed, workload: w) == 1500)
    }

    @Test("target workload: popularity order, 95% coverage, renormalised")
    func targetWorkload() {
        let a = ShareRequest(cpuMilli: 1000, gpus: 1, gpuMilli: 500), b = ShareRequest(cpuMilli: 2000)
        let c = ShareRequest(cpuMilli: 3000, gpus: 2, gpuMilli: 1000)
        let tasks = Array(repeating: a, count: 60) + Array(repeating: b, count: 38) + [c, c]
        let w = TargetWorkload(tasks: tasks)  // 60% + 38% = 98% ≥ 95%: c is dropped
        #expect(w.shapes.map(\.request) == [a, b])
        #expect(abs(w.shapes[0].frequency - 60.0 / 98) < 1e-12)
        #expect(w.cpuThresholds == [1000, 2000])
    }

    @Test("the product policy: FGD's score; CPU-only ties go to the node with least free GPU share")
    func productPolicy() {
        let w = TargetWorkload(shapes: [.init(request: ShareRequest(cpuMilli: 1000, gpus: 1, gpuMilli: 700), frequency: 1)])
        var rng = GoRandom(seed: 1)
        // Node 0 empty, node 1 half used: the pod closes node 1's fragment (Δ = −500) there.
        let nodes = [Self.node(free: [1000, 1000]), Self.halfUsed]
        var placer = SharePlacer(scorer: PackingScorer(policy: .fragmentationPacking, workload: w), nodes: nodes)
        let pick = placer.place(Self.half, rng: &rng)
        #expect(placer.nodes[1].gpuFree == [0, 1000])
        #expect(pick?.node == 1)
        #expect(pick?.gpus == [0])
        // A CPU-only pod with an empty workload scores 50 everywhere (nothing to fragment): FGD
        // takes node 0 (first); the product policy node 1, which has less free GPU share.
        let cpuPod = ShareRequest(cpuMilli: 1000)
        var fgd = SharePlacer(scorer: PackingScorer(policy: .fgd), nodes: nodes)
        var ours = SharePlacer(scorer: PackingScorer(policy: .fragmentationPacking), nodes: nodes)
        #expect(fgd.place(cpuPod, rng: &rng)?.node == 0)
        #expect(ours.place(cpuPod, rng: &rng)?.node == 1)
    }

    @Test("the product policy: memory left next to free GPUs counts as CPU at the node's memory-to-CPU ratio")
    func productPolicyMemory() {
        // Workload: 1 whole GPU with 4 CPUs. Both nodes: 32 CPUs, 2 free GPUs; node 0 has 64 GiB,
        // node 1 128 GiB. A CPU-only pod of 1 CPU and 62 GiB leaves node 0 with 2 GiB = 1 CPU at
        // its 32 CPUs / 64 GiB (< 4 CPUs: both free GPUs stranded, Δ = 2000 → ⌊σ(−2) × 100⌋ = 11);
        // node 1 keeps 66 GiB = 16.5 CPUs (Δ = 0 → 50). FGD sees 31 free CPUs on both (50, 50)
        // and takes node 0, first; the product policy node 1.
        let w = TargetWorkload(shapes: [.init(request: ShareRequest(cpuMilli: 4000, gpus: 1, gpuMilli: 1000), frequency: 1)])
        var small = Self.node(free: [1000, 1000])
        small.memoryMiBCapacity = 65_536; small.memoryMiBFree = 65_536
        var large = Self.node(free: [1000, 1000])
        large.memoryMiBCapacity = 131_072; large.memoryMiBFree = 131_072
        let pod = ShareRequest(cpuMilli: 1000, memoryMiB: 63_488)
        #expect(Self.score(.fgd, pod, small, workload: w).score == 50)
        #expect(Self.score(.fragmentationPacking, pod, small, workload: w).score == 11)
        #expect(Self.score(.fragmentationPacking, pod, large, workload: w).score == 50)
        var rng = GoRandom(seed: 1)
        var fgd = SharePlacer(scorer: PackingScorer(policy: .fgd, workload: w), nodes: [small, large])
        var ours = SharePlacer(scorer: PackingScorer(policy: .fragmentationPacking, workload: w), nodes: [small, large])
        #expect(fgd.place(pod, rng: &rng)?.node == 0)
        #expect(ours.place(pod, rng: &rng)?.node == 1)
        // A node without memory capacity counts CPU only.
        var noMem = Self.node(free: [1000])
        noMem.memoryMiBCapacity = 0; noMem.memoryMiBFree = 0
        #expect(PackingScorer.usableCPU(noMem, cpuMilliFree: 5000, memoryMiBFree: 0) == 5000)
        #expect(PackingScorer.usableCPU(small, cpuMilliFree: 31_000, memoryMiBFree: 2048) == 1000)
    }
}

/// schedd's view of the product policy: `SchedulingPolicy.fragmentationPacking` on `NodeState`s.
@Suite("fgd-pack in the Placer")
struct FGDPackPlacerTests {
    static let topo = TopologyFixture.make(numa: 2, coresPerNUMA: 4, threadsPerCore: 2, gpusPerNUMA: 2)

    static func node(_ id: String, used: [Int]) -> NodeState { TopologyFixture.node(id, topo, gpuMilliUsed: used) }

    @Test("the name parses and the Placer prefers the node where the share closes a fragment")
    func placesOnFragment() {
        #expect(SchedulingPolicy(name: "fgd-pack") == .fragmentationPacking)
        // Workload: tasks of 700 thousandths. Node a is empty; node b has a GPU with 300 free (a
        // fragment for 700-tasks). A 300-task on b's GPU 0 removes that fragment: Δ = −300 → 57;
        // on a it creates one (700 left is fine for 700-tasks: Δ = 0 → 50). b wins.
        let profile = WorkloadProfile(shapes: [.init(request: ResourceRequest(cpus: 1, gpus: 1, gpuMilli: 700), weight: 1)])
        let placer = Placer(policy: .fragmentationPacking, workload: profile)
        let snap = ClusterSnapshot(nodes: [Self.node("a", used: [0, 0, 0, 0]), Self.node("b", used: [700, 0, 0, 0])])
        guard case .placed(let a, let score, _) = placer.place(ResourceRequest(cpus: 1, gpus: 1, gpuMilli: 300), in: snap) else {
            Issue.record("not placed"); return
        }
        #expect(a.node == NodeID("b"))
        #expect(score == 57)
        #expect(a.gpus == [0])
    }
}
