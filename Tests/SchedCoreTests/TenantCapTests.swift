import SchedCore
import Testing

@Suite("Tenant caps")
struct TenantCapTests {
    @Test("a request within the cap passes; one past it says which dimension and by how much")
    func excess() {
        let cap = TenantCap(cpus: 8, gpuMilli: 2000)
        #expect(cap.excess(tenant: "r", usage: TenantQuota(cpus: 4), request: ResourceRequest(cpus: 4)) == nil)
        #expect(cap.excess(tenant: "r", usage: TenantQuota(cpus: 6), request: ResourceRequest(cpus: 4))
                == "tenant cap: r holds 6 of max 8 cpus, needs 4 more")
        #expect(cap.excess(tenant: "r", usage: TenantQuota(cpus: 0, gpuMilli: 1500), request: ResourceRequest(cpus: 1, gpus: 1))
                == "tenant cap: r holds 1.5 of max 2 gpus, needs 1 more")
        // A gang counts all its tasks.
        #expect(cap.excess(tenant: "r", usage: TenantQuota(), request: ResourceRequest(cpus: 3), tasks: 3) != nil)
        #expect(cap.excess(tenant: "r", usage: TenantQuota(), request: ResourceRequest(cpus: 2), tasks: 4) == nil)
        // An uncapped dimension never blocks.
        #expect(TenantCap(cpus: nil, gpuMilli: 0).excess(tenant: "r", usage: TenantQuota(cpus: 1000), request: ResourceRequest(cpus: 64)) == nil)
    }

    @Test("holdings add an assignment's PUs and GPU share")
    func adding() {
        let a = Assignment(node: "n", pus: CPUSet([0, 1]), numaNodes: NUMASet([0]), gpus: [3], gpuMilli: 500)
        #expect(TenantQuota(cpus: 1, gpuMilli: 0).adding(a) == TenantQuota(cpus: 3, gpuMilli: 500))
    }
}
