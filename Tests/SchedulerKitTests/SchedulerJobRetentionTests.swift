import Foundation
import SchedCore
import SchedProtocol
@testable import SchedulerKit
import Testing
import SchedTestSupport

/// Finished jobs leave memory after `minJobAgeSeconds` and are read from the store after that.
@Suite("Scheduler: finished jobs leave memory after min-job-age", .timeLimit(.minutes(1)))
struct SchedulerJobRetentionTests {
    @Test func finishedJobsLeaveMemoryAndAreReadFromTheStore() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler(minJobAgeSeconds: 60)
        let agent = try await AgentConn(s, node: "n1", registering: smallTopology(cores: 4, threads: 1))
        let done = try await s.submit(spec("done", cpus: 1))
        await agent.started(done.id)
        await agent.exited(done.id, TaskExit(exitCode: 0))
        let failed = try await s.submit(spec("failed", cpus: 1))
        await agent.started(failed.id)
        await agent.exited(failed.id, TaskExit(exitCode: 2))
        let running = try await s.submit(spec("running", cpus: 1))
        await agent.started(running.id)

        // Younger than min-job-age: kept.
        h.clock.advance(by: 59_000)
        try await agent.heartbeat()
        await s.tick()
        #expect(await s.jobsLeftInStore == 0)
        #expect(await s.jobs.count == 3)

        // Older: gone from memory, still answered from the store.
        h.clock.advance(by: 2_000)
        try await agent.heartbeat()
        await s.tick()
        #expect(await s.jobsLeftInStore == 2)
        #expect(await s.jobs.keys.sorted() == [running.id])
        #expect(try await s.job(done.id).state == .completed)
        #expect(try await s.job(failed.id).exit?.exitCode == 2)
        #expect(await s.listJobs(ListJobs()).map(\.id) == [running.id, failed.id, done.id])
        #expect(await s.listJobs(ListJobs(states: [.completed])).map(\.id) == [done.id])
        #expect(await s.listJobs(ListJobs(limit: 2)).map(\.id) == [running.id, failed.id])
        #expect(await s.listJobs(ListJobs(states: [.running])).map(\.id) == [running.id])
        #expect(try await s.waitForTerminal(done.id).state == .completed)
        let e = await expectReply(.conflict) { try await s.cancel(done.id) }
        #expect(e?.message == "job \(done.id) already completed")
        await expectReply(.notFound) { try await s.job(JobID(999)) }

        // The running job finishes later and leaves in its turn.
        await agent.exited(running.id, TaskExit(exitCode: 0))
        h.clock.advance(by: 61_000)
        try await agent.heartbeat()
        await s.tick()
        #expect(await s.jobs.isEmpty)
        #expect(await s.listJobs(ListJobs()).map(\.id) == [running.id, failed.id, done.id])
    }

    @Test func minJobAgeZeroKeepsEveryFinishedJob() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler(minJobAgeSeconds: 0)
        let j = try await s.submit(spec("a", cpus: 1))
        _ = try await s.cancel(j.id)
        h.clock.advance(by: 1_000_000)
        await s.tick()
        #expect(await s.jobs.count == 1)
        #expect(await s.jobsLeftInStore == 0)
    }

    @Test func aRestartedScheddLoadsOnlyUnfinishedRecentAndLiveGangJobs() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let store = try h.openStore()
        let now = Int64(Date().timeIntervalSince1970 * 1000), hourAgo = now - 3_600_000
        func finished(_ state: JobState, at ms: Int64) -> (JobID) -> JobInfo {
            { id in
                var j = JobInfo(id: id, spec: spec("f"), state: state, submittedAtMs: ms)
                j.finishedAtMs = ms
                return j
            }
        }
        let old = try store.insertJob(finished(.completed, at: hourAgo))
        let recent = try store.insertJob(finished(.cancelled, at: now))
        let pending = try store.insertJob { JobInfo(id: $0, spec: spec("p"), state: .pending, submittedAtMs: now) }
        // A gang whose first member failed an hour ago while the others still wait.
        let gang = try store.insertJobs(count: 3) { id, i in
            var j = JobInfo(id: id, spec: JobSpec(command: ["true"], array: 3, gang: true), state: i == 0 ? .failed : .pending,
                            submittedAtMs: hourAgo)
            j.arrayJob = JobID(id.rawValue - Int64(i))
            j.arrayIndex = i
            if i == 0 { j.finishedAtMs = hourAgo }
            return j
        }

        let s = try h.makeScheduler(minJobAgeSeconds: 60)
        #expect(await s.jobs.keys.sorted() == [recent.id, pending.id] + gang.map(\.id))
        #expect(await s.jobsLeftInStore == 1)
        #expect(try await s.job(old.id).state == .completed)
        #expect(await s.listJobs(ListJobs()).count == 6)
        // 0 keeps (and loads) every job.
        let all = try h.makeScheduler(minJobAgeSeconds: 0)
        #expect(await all.jobs.count == 6)
        #expect(await all.jobsLeftInStore == 0)
    }

    @Test func aRestartedScheddKeepsOnlyRecentFinishedJobsInMemory() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        do {
            let s = try h.makeScheduler(minJobAgeSeconds: 60)
            let j = try await s.submit(spec("old", cpus: 1))
            _ = try await s.cancel(j.id)
        }
        // Restarted right away: the cancelled job is recent and stays until 60 s have passed.
        let s = try h.makeScheduler(minJobAgeSeconds: 60)
        await s.tick()
        #expect(await s.jobs.count == 1)
        h.clock.advance(by: 61_000)
        await s.tick()
        #expect(await s.jobs.isEmpty)
        #expect(try await s.job(JobID(1)).state == .cancelled)
    }
}
