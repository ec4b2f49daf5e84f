import SchedCore
import Testing
import SchedTestSupport

@Suite("Tenants: fair share and reclaim")
struct FairShareTests {
    @Test("usage accrues in core-seconds and halves every half-life")
    func decay() {
        var f = FairShare(halfLifeMs: 60_000, gpuWeight: 32)
        f.advance(elapsedMs: 10_000, holding: ["a": TenantQuota(cpus: 4), "b": TenantQuota(cpus: 0, gpuMilli: 500)])
        #expect(abs(f.usage(of: "a") - 40) < 1e-6)          // 4 cores × 10 s
        #expect(abs(f.usage(of: "b") - 160) < 1e-6)         // half a GPU = 16 cores × 10 s
        f.advance(elapsedMs: 60_000, holding: [:])
        #expect(abs(f.usage(of: "a") - 20) < 1e-4)
        f.advance(elapsedMs: 120_000, holding: [:])
        #expect(abs(f.usage(of: "a") - 5) < 1e-4)
        #expect(f.usage(of: "nobody") == 0)
    }

    @Test("quota arithmetic")
    func quota() {
        let q = TenantQuota(cpus: 8, gpuMilli: 2000)
        #expect(q.covers(usage: TenantQuota(cpus: 6, gpuMilli: 1000), plus: ResourceRequest(cpus: 2, gpus: 1)))
        #expect(!q.covers(usage: TenantQuota(cpus: 7), plus: ResourceRequest(cpus: 2)))
        #expect(!q.covers(usage: TenantQuota(gpuMilli: 1500), plus: ResourceRequest(cpus: 1, gpus: 1)))
        #expect(q.exceeded(by: TenantQuota(cpus: 9)) && !q.exceeded(by: TenantQuota(cpus: 8, gpuMilli: 2000)))
    }

    @Test("reclaim may evict borrowed work whatever its priority, never before its minimum runtime")
    func reclaimEligibility() throws {
        var n = TopologyFixture.node("n1", TopologyFixture.make(numa: 1, coresPerNUMA: 2, threadsPerCore: 1))
        let a = Assignment(node: "n1", pus: CPUSet([0, 1]), numaNodes: NUMASet([0]))
        n.apply(a)
        let borrowed = PreemptionCandidate(job: JobID(1), assignment: a, priority: 100, preemptible: false,
                                           elapsedMs: 5_000, minRuntimeMs: 0, borrowing: true)
        let snap = ClusterSnapshot(nodes: [n])
        #expect(PreemptionPlanner.plan(ResourceRequest(cpus: 2), priority: 0, in: snap, running: [borrowed]) == nil)
        #expect(try #require(PreemptionPlanner.plan(ResourceRequest(cpus: 2), priority: 0, in: snap, running: [borrowed], reclaim: true)).victims == [JobID(1)])
        var young = borrowed
        young.minRuntimeMs = 60_000
        #expect(PreemptionPlanner.plan(ResourceRequest(cpus: 2), priority: 0, in: snap, running: [young], reclaim: true) == nil)
    }
}
