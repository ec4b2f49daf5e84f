import Logging
import SchedCore
import SchedProtocol
import SchedulerKit
import Testing
import SchedTestSupport

@Suite("Tenants in the scheduler")
struct SchedulerTenantTests {
    func scheduler(_ h: Harness, tenants: [String: TenantQuota]) throws -> Scheduler {
        var config = h.config
        config.tenants = tenants
        return try h.makeScheduler(config: config, logger: Logger(label: "test"))
    }

    @Test("a tenant within its quota reclaims capacity that another tenant borrowed")
    func reclaimBorrowedCapacity() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try scheduler(h, tenants: ["research": TenantQuota(cpus: 2)])
        var agent = try await AgentConn(s, node: "n1", registering: smallTopology(cores: 4, threads: 1))       // 4 PUs
        var borrowed: [JobID] = []
        for i in 0..<4 {
            let j = try await s.submit(spec("batch\(i)", cpus: 1, tenant: "batch"))   // no quota: all borrowed
            await agent.started(j.id)
            borrowed.append(j.id)
        }
        _ = await agent.received()
        let r = try await s.submit(spec("paper", cpus: 2, tenant: "research"))
        let kills = await agent.received().compactMap(\.killTask)
        #expect(kills.count == 2)
        #expect(Set(kills.map(\.ref.job)).isSubset(of: Set(borrowed)))
        #expect(kills.allSatisfy { $0.reason == "preempted by job \(r.id)" })
        #expect(try await s.job(r.id).state == .pending)
        // The victims stop; research's job starts on the room they leave.
        for k in kills { await agent.exited(k.ref.job, TaskExit(signal: 15)) }
        #expect(try await s.job(r.id).state == .starting)
        for k in kills { #expect(try await s.job(k.ref.job).state == .pending) }
    }

    @Test("among equal priorities, the tenant that used less goes first")
    func fairShareOrder() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try scheduler(h, tenants: [:])
        var agent = try await AgentConn(s, node: "n1", registering: smallTopology(cores: 2, threads: 1))       // 2 PUs
        let heavy = try await s.submit(spec("heavy", cpus: 2, tenant: "heavy"))
        await agent.started(heavy.id)
        h.clock.advance(by: 600_000)                                            // heavy holds 2 cores for 10 min
        let again = try await s.submit(spec("heavy-2", cpus: 2, tenant: "heavy"))   // older
        let light = try await s.submit(spec("light", cpus: 2, tenant: "light"))     // newer, but its tenant used nothing
        _ = await agent.received()
        await agent.exited(heavy.id, TaskExit(exitCode: 0))
        let starts = await agent.received().compactMap(\.startTask).map(\.ref.job)
        #expect(starts == [light.id])
        #expect(try await s.job(again.id).state == .pending)
    }
}
