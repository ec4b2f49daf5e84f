import SchedCore
import SchedProtocol
import SchedulerKit
import Testing
import SchedTestSupport

@Suite("Backfill and time limits in the scheduler")
struct SchedulerBackfillTests {
    @Test("a short job backfills a free PU; a job without a time limit may not delay the reserved one")
    func backfillKeepsTheReservation() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        let agent = try await AgentConn(s, node: "n1", registering: smallTopology(cores: 4, threads: 1))     // 4 PUs
        var long = spec("long", cpus: 3)
        long.timeLimitSeconds = 100
        let a = try await s.submit(long)
        await agent.started(a.id)
        var big = spec("big", cpus: 4)
        big.priority = 5
        let b = try await s.submit(big)                                       // waits; reserved at a's end
        let waiting = try await s.job(b.id)
        #expect(waiting.state == .pending)
        let estimate = try #require(waiting.estimatedStartMs)
        #expect(estimate >= (try await s.job(a.id)).startedAtMs! + 100_000)
        let unlimited = try await s.submit(spec("unlimited", cpus: 1))        // would delay big: stays pending
        var quick = spec("quick", cpus: 1)
        quick.timeLimitSeconds = 10
        let q = try await s.submit(quick)                                     // ends before big's start: runs
        #expect(try await s.job(unlimited.id).state == .pending)
        #expect(try await s.job(unlimited.id).reason?.contains("1 reserved for an earlier job") == true)
        #expect(try await s.job(q.id).state == .starting)
        let x = try await s.explain(b.id)
        #expect(x.queuePosition == 1 && x.queueLength == 2)
    }
}
