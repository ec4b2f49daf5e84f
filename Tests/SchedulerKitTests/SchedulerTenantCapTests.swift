import SchedCore
import SchedProtocol
import SchedulerKit
import Testing
import SchedTestSupport

@Suite("Tenant caps in the scheduler")
struct SchedulerTenantCapTests {
    func scheduler(_ h: Harness, caps: [String: TenantCap]) throws -> Scheduler {
        var config = h.config
        config.tenantCaps = caps
        return try h.makeScheduler(config: config)
    }

    @Test("a tenant at its cap waits on an idle fleet, with the reason in the job and in explain; others run")
    func capHoldsOnIdleFleet() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try scheduler(h, caps: ["guests": TenantCap(cpus: 2)])
        let agent = try await AgentConn(s, node: "n1", registering: smallTopology(cores: 8, threads: 1))       // 8 PUs
        let g1 = try await s.submit(spec("g1", cpus: 1, tenant: "guests"))
        let g2 = try await s.submit(spec("g2", cpus: 1, tenant: "guests"))
        let g3 = try await s.submit(spec("g3", cpus: 1, tenant: "guests"))
        let other = try await s.submit(spec("other", cpus: 4, tenant: "research"))
        #expect(try await s.job(g1.id).state == .starting)
        #expect(try await s.job(g2.id).state == .starting)
        #expect(try await s.job(other.id).state == .starting)
        let held = try await s.job(g3.id)
        #expect(held.state == .pending)
        #expect(held.reason == "tenant cap: guests holds 2 of max 2 cpus, needs 1 more")
        let x = try await s.explain(g3.id)
        #expect(x.held == "tenant cap: guests holds 2 of max 2 cpus, needs 1 more")
        #expect(x.current?.outcome == .placed)       // the fleet itself could take it
        let status = await s.status()
        #expect(status.tenants?["guests"]?.cap == TenantCap(cpus: 2))
        // One guest job ends: the held one starts.
        await agent.started(g1.id)
        await agent.exited(g1.id, TaskExit(exitCode: 0))
        #expect(try await s.job(g3.id).state == .starting)
    }

    @Test("a gang counts all its members against the cap: held whole, never partly placed")
    func gangHeldWhole() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try scheduler(h, caps: ["guests": TenantCap(cpus: 3)])
        _ = try await AgentConn(s, node: "n1", registering: smallTopology(cores: 8, threads: 1))
        var g = spec("gang", cpus: 1, tenant: "guests")
        g.array = 4
        g.gang = true
        let first = try await s.submit(g)
        for i in 0..<4 {
            let m = try await s.job(JobID(first.id.rawValue + Int64(i)))
            #expect(m.state == .pending)
            #expect(m.reason == "tenant cap: guests holds 0 of max 3 cpus, needs 4 more")
        }
        #expect(try await s.explain(first.id).held?.hasPrefix("tenant cap") == true)
    }
}
