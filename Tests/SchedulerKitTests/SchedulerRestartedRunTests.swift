import Foundation
import SchedCore
import SchedProtocol
import SchedStore
import SchedulerKit
import Testing
import SchedTestSupport

/// A job that runs again (requeued after preemption, a service restart, a rolling update) is
/// timed from its new start: its time limit and minimum runtime count from when it runs again.
@Suite("Scheduler: a run that starts again is timed afresh", .timeLimit(.minutes(1)))
struct SchedulerRestartedRunTests {
    @Test("a requeued job that starts again is not stopped at once by the time limit of its earlier run")
    func requeuedJobTimedFromItsNewStart() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        // The record a preempted job leaves when requeued: pending, with its first run's start
        // (here far in the past) and a time limit of one hour.
        var limited = spec("requeued", cpus: 1)
        limited.timeLimitSeconds = 3600
        let stored = try h.openStore().insertJob { id in
            var j = JobInfo(id: id, spec: limited, state: .pending, submittedAtMs: 1_000)
            j.startedAtMs = 2_000
            j.preemptions = 1
            return j
        }
        let s = try h.makeScheduler()
        var agent = await AgentConn(s, node: "n1")
        let start = try #require(try await agent.register(smallTopology()).compactMap(\.startTask).first)
        #expect(start.ref.job == stored.id)
        let before = Int64(Date().timeIntervalSince1970 * 1000) - 1
        await agent.started(stored.id)
        let running = try await s.job(stored.id)
        #expect(running.state == .running)
        #expect((running.startedAtMs ?? 0) >= before, "startedAtMs \(running.startedAtMs ?? 0) is the earlier run's")
        await s.enforceTimeLimits()
        #expect(await agent.received().compactMap(\.killTask).isEmpty, "killed for a time limit counted from its earlier run")
        #expect(try await s.job(stored.id).timedOut != true)
    }
}
