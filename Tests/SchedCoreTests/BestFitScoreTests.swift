import Testing
import SchedCore
import SchedTestSupport

/// Best fit: the mean over the node's dimensions (CPUs; memory when the node has any; GPUs when
/// it has any) of the integer percentage in use after placement. Numbers below are worked by hand.
@Suite("Best-fit score")
struct BestFitScoreTests {
    static func usePUs(_ n: inout NodeState, _ pus: [Int], gpus: [Int] = []) {
        n.apply(Assignment(node: n.id, pus: CPUSet(pus), numaNodes: NUMASet([0]), gpus: gpus))
    }

    @Test("the doc comment's example: (75 + 0 + 50) / 3 = 41")
    func docExample() {
        // 16 PUs, 8 used; 4 GPUs, 2 used; 128 GiB, none used; request 4 CPUs, 0 GPUs, no memory.
        var n = TopologyFixture.node("n", TopologyFixture.make(numa: 2, coresPerNUMA: 4, threadsPerCore: 2, gpusPerNUMA: 2))
        Self.usePUs(&n, Array(0..<8), gpus: [0, 1])
        // CPUs (8+4)/16 = 75 %, memory 0 %, GPUs 2/4 = 50 %  →  125 / 3 = 41 (integer division)
        #expect(SchedulingPolicy.bestFit.score(ResourceRequest(cpus: 4), on: n) == 41)
    }

    @Test("CPU and memory dimensions only on a node without GPUs")
    func cpuAndMemory() {
        // 16 PUs, 2 × 64 GiB. Request 4 CPUs, 32 GiB.
        // CPUs 4*100/16 = 25; memory 32 GiB / (128 GiB / 100 = 1374389534) = 25 (34359738368 / 1374389534 = 25.00…)
        // → (25 + 25) / 2 = 25
        let n = TopologyFixture.node("n", TopologyFixture.make(numa: 2, coresPerNUMA: 4, threadsPerCore: 2))
        #expect(SchedulingPolicy.bestFit.score(ResourceRequest(cpus: 4, memoryBytes: 32 * GiB), on: n) == 25)
    }

    @Test("GPU request on an empty GPU node")
    func gpuRequest() {
        // CPUs 8/16 = 50, memory 0, GPUs 2/4 = 50 → 100 / 3 = 33
        let n = TopologyFixture.node("n", TopologyFixture.make(numa: 2, coresPerNUMA: 4, threadsPerCore: 2, gpusPerNUMA: 2))
        #expect(SchedulingPolicy.bestFit.score(ResourceRequest(cpus: 8, gpus: 2), on: n) == 33)
    }

    @Test("memory of CPU-less (GPU memory) NUMA nodes is not counted")
    func gpuMemoryNodesIgnored() {
        // 4 PUs, CPU memory 16 GiB (the two 80 GiB GPU-memory nodes don't count), 2 GPUs.
        // 40 GiB "used" on a GPU-memory node is ignored.
        // CPUs 1/4 = 25; memory 4 GiB / (16 GiB / 100 = 171798691) = 25; GPUs 1/2 = 50 → 100 / 3 = 33
        var n = TopologyFixture.node("n", TopologyFixture.withGPUMemoryNodes())
        n.usedMemory[1] = 40 * GiB
        #expect(SchedulingPolicy.bestFit.score(ResourceRequest(cpus: 1, memoryBytes: 4 * GiB, gpus: 1), on: n) == 33)
    }

    @Test("used memory counts; percentages truncate")
    func usedMemoryCounts() {
        // 4 PUs, 1 NUMA node of 100 GiB with 10 GiB used; request 1 CPU, 512 MiB.
        // CPUs 1/4 = 25; memory 10.5 GiB / (100 GiB / 100 = 1 GiB) = 10 (truncated) → 35 / 2 = 17
        var n = TopologyFixture.node("n", TopologyFixture.make(numa: 1, coresPerNUMA: 4, threadsPerCore: 1, memoryPerNUMA: 100 * GiB))
        n.apply(Assignment(node: "n", pus: CPUSet(), numaNodes: NUMASet([0]), memory: [NUMAMemory(numa: 0, bytes: 10 * GiB)]))
        #expect(SchedulingPolicy.bestFit.score(ResourceRequest(cpus: 1, memoryBytes: 512 * MiB), on: n) == 17)
    }

    @Test("the memory percentage is capped at 100")
    func memoryCapped() {
        // 4 PUs, 1 GiB with 2 GiB recorded as used (e.g. stale state): memory term min(100, 200) = 100.
        // CPUs 1/4 = 25 → (25 + 100) / 2 = 62
        var n = TopologyFixture.node("n", TopologyFixture.make(numa: 1, coresPerNUMA: 4, threadsPerCore: 1, memoryPerNUMA: GiB))
        n.usedMemory[0] = 2 * GiB
        #expect(SchedulingPolicy.bestFit.score(ResourceRequest(cpus: 1), on: n) == 62)
    }

    @Test("CPU dimension alone when the node reports no memory and no GPUs")
    func cpuOnly() {
        // 3 PUs, request 1 → 100/3 = 33, one dimension
        let n = TopologyFixture.node("n", TopologyFixture.make(numa: 1, coresPerNUMA: 3, threadsPerCore: 1, memoryPerNUMA: 0))
        #expect(SchedulingPolicy.bestFit.score(ResourceRequest(cpus: 1), on: n) == 33)
        #expect(SchedulingPolicy.bestFit.score(ResourceRequest(cpus: 3), on: n) == 100)
    }

    @Test("a node with no dimensions scores 0")
    func noDimensions() {
        let n = NodeState(id: "n", topology: NodeTopology(arch: "x86_64", packages: 0, numaNodes: [], cores: []))
        #expect(SchedulingPolicy.bestFit.score(ResourceRequest(cpus: 1), on: n) == 0)
    }

    @Test("the policy's wire name")
    func rawValue() {
        #expect(SchedulingPolicy.bestFit.rawValue == "best-fit")
        #expect(SchedulingPolicy(rawValue: "best-fit") == .bestFit)
    }

    // MARK: through the placer

    @Test("the placer reports the winner's score and prefers the fuller node")
    func placerPrefersFullerNode() throws {
        let topo = TopologyFixture.make(numa: 2, coresPerNUMA: 4, threadsPerCore: 2)   // 16 PUs, 128 GiB
        let empty = TopologyFixture.node("a", topo)
        var half = TopologyFixture.node("b", topo)
        Self.usePUs(&half, Array(0..<8))
        let d = Placer().place(ResourceRequest(cpus: 4), in: ClusterSnapshot(nodes: [empty, half]))
        // a: (4/16 = 25 + 0) / 2 = 12;  b: (12/16 = 75 + 0) / 2 = 37
        guard case .placed(let a, let score, let e) = d else { Issue.record("not placed"); return }
        #expect(a.node == "b")
        #expect(score == 37)
        #expect(e.topCandidates == [CandidateScore(node: "b", score: 37), CandidateScore(node: "a", score: 12)])
    }

    @Test("a CPU-only task drifts to a CPU node rather than an idle GPU node")
    func cpuWorkAvoidsGPUNodes() {
        // GPU node: CPUs 8/16 = 50, memory 0, GPUs 0/4 = 0 → 50/3 = 16
        // CPU node: CPUs 8/16 = 50, memory 0 → 50/2 = 25
        let gpuNode = TopologyFixture.node("a-gpu", TopologyFixture.make(numa: 2, coresPerNUMA: 4, threadsPerCore: 2, gpusPerNUMA: 2))
        let cpuNode = TopologyFixture.node("z-cpu", TopologyFixture.make(numa: 2, coresPerNUMA: 4, threadsPerCore: 2))
        // Exhaustive mode ranks every feasible node, the GPU node in the lower tier included.
        let d = Placer(candidateLimit: nil).place(ResourceRequest(cpus: 8), in: ClusterSnapshot(nodes: [gpuNode, cpuNode]))
        guard case .placed(let a, let score, let e) = d else { Issue.record("not placed"); return }
        #expect(a.node == "z-cpu")
        #expect(score == 25)
        #expect(e.topCandidates == [CandidateScore(node: "z-cpu", score: 25), CandidateScore(node: "a-gpu", score: 16)])
    }

    @Test("ties on score go to the node whose id sorts first, whatever the input order")
    func tieBreakById() {
        let topo = TopologyFixture.make(numa: 1, coresPerNUMA: 4, threadsPerCore: 1, memoryPerNUMA: 0)
        let nodes = ["node-c", "node-a", "node-b"].map { TopologyFixture.node($0, topo) }
        for order in [nodes, nodes.reversed(), [nodes[1], nodes[2], nodes[0]]] {
            let d = Placer().place(ResourceRequest(cpus: 1), in: ClusterSnapshot(nodes: order))
            guard case .placed(let a, let score, let e) = d else { Issue.record("not placed"); return }
            #expect(a.node == "node-a")
            #expect(score == 25)
            #expect(e.topCandidates.map(\.node) == ["node-a", "node-b", "node-c"])
        }
    }

    @Test("top candidates: at most three, best first, ties by id")
    func topCandidates() {
        // 4 PUs each, no memory, no GPUs; request 1 CPU → score = (used + 1) * 25.
        let topo = TopologyFixture.make(numa: 1, coresPerNUMA: 4, threadsPerCore: 1, memoryPerNUMA: 0)
        let used = ["a": 0, "b": 2, "c": 1, "d": 2, "e": 3]
        let nodes = used.map { id, k -> NodeState in
            var n = TopologyFixture.node(id, topo)
            Self.usePUs(&n, Array(0..<k))
            return n
        }
        let d = Placer().place(ResourceRequest(cpus: 1), in: ClusterSnapshot(nodes: nodes))
        guard case .placed(let a, let score, let e) = d else { Issue.record("not placed"); return }
        #expect(a.node == "e")
        #expect(a.pus == CPUSet([3]))
        #expect(score == 100)
        #expect(e.nodesFeasible == 5)
        #expect(e.topCandidates == [
            CandidateScore(node: "e", score: 100),
            CandidateScore(node: "b", score: 75),
            CandidateScore(node: "d", score: 75),
        ])
    }

    @Test("the same snapshot and request give the same decision")
    func deterministic() {
        let nodes = (0..<6).map { i in
            TopologyFixture.node("n\(i)", TopologyFixture.make(numa: 1 + i % 2, coresPerNUMA: 4, threadsPerCore: 2, gpusPerNUMA: i % 3))
        }
        let req = ResourceRequest(cpus: 3, memoryBytes: 5 * GiB, gpus: 1)
        let first = Placer().place(req, in: ClusterSnapshot(nodes: nodes))
        for _ in 0..<5 {
            #expect(Placer().place(req, in: ClusterSnapshot(nodes: nodes.shuffled())) == first)
        }
    }
}
