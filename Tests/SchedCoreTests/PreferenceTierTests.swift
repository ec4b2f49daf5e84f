import SchedCore
import Testing
import SchedTestSupport

@Suite("Preference tier: CPU-only tasks keep off GPU nodes")
struct PreferenceTierTests {
    @Test("a CPU-only task goes to a CPU node even when a GPU node scores higher")
    func cpuTaskPrefersCPUNode() {
        // GPU node: 4 PUs (small, so best fit scores it high); CPU node: 64 PUs.
        let gpu = TopologyFixture.node("a-gpu", TopologyFixture.make(numa: 1, coresPerNUMA: 2, threadsPerCore: 2, gpusPerNUMA: 2))
        let cpu = TopologyFixture.node("b-cpu", TopologyFixture.make(numa: 2, coresPerNUMA: 16, threadsPerCore: 2))
        let request = ResourceRequest(cpus: 2)
        let gpuScore = SchedulingPolicy.bestFit.score(request, on: gpu)
        let cpuScore = SchedulingPolicy.bestFit.score(request, on: cpu)
        #expect(gpuScore > cpuScore)
        guard case .placed(let a, let score, let e) = Placer().place(request, in: ClusterSnapshot(nodes: [gpu, cpu])) else {
            Issue.record("not placed")
            return
        }
        #expect(a.node == "b-cpu")
        #expect(score == cpuScore)
        // The GPU node is in the other tier: with a CPU node feasible it is not looked at.
        #expect(e.topCandidates.map(\.node) == ["b-cpu"])
        #expect(e.nodesNotExamined == 1)
    }

    @Test("with no CPU node feasible, a CPU-only task still runs on a GPU node")
    func cpuTaskFallsBackToGPUNode() {
        let gpu = TopologyFixture.node("a-gpu", TopologyFixture.make(numa: 1, coresPerNUMA: 2, threadsPerCore: 2, gpusPerNUMA: 2))
        let cpu = TopologyFixture.node("b-cpu", TopologyFixture.make(arch: "aarch64", numa: 1, coresPerNUMA: 4))
        guard case .placed(let a, _, let e) = Placer().place(ResourceRequest(cpus: 2, arch: "x86_64"), in: ClusterSnapshot(nodes: [gpu, cpu])) else {
            Issue.record("not placed")
            return
        }
        #expect(a.node == "a-gpu")
        // The breakdown says why: 2 of 4 PUs in use after placement, GPUs untouched, fallback tier.
        #expect(e.chosen == ScoreBreakdown(tier: 0, cpuPercentAfter: 50, memoryPercentAfter: 0, gpuPercentAfter: 0))
    }
}
