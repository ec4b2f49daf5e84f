import SchedCore
import SchedProtocol
import SchedulerKit
import Testing
import SchedTestSupport

/// A job with alternative shapes counts the shape it would run in against its tenant's cap.
@Suite("Tenant caps in the scheduler: alternative shapes")
struct SchedulerTenantCapShapeTests {
    @Test("a faster alternative shape that would take the tenant past its cap is not chosen")
    func alternativeShapeRespectsCap() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        var config = h.config
        config.tenantCaps = ["guests": TenantCap(cpus: 2)]
        let s = try h.makeScheduler(config: config)
        _ = try await AgentConn(s, node: "n1", registering: smallTopology(cores: 8, threads: 1))       // 8 PUs: both shapes fit
        let job = JobSpec(name: "j", command: ["x"], resources: ResourceRequest(cpus: 1),
                          alternatives: [TaskShape(resources: ResourceRequest(cpus: 4), speedMilli: 2000)], tenant: "guests")
        let placed = try await s.submit(job)
        let info = try await s.job(placed.id)
        #expect(info.state == .starting)
        let held = info.assignment?.pus.count ?? 0
        #expect(held <= 2, "tenant guests capped at 2 cpus holds \(held) (shape \(info.shape.map(String.init) ?? "-"))")
        #expect(info.shape == 0)
    }
}
