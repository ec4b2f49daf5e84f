import SchedCore
import SchedProtocol
import SchedStore
import SchedulerKit
import Testing
import SchedTestSupport

@Suite("Scheduler: placement log", .timeLimit(.minutes(1)))
struct SchedulerPlacementLogTests {
    @Test func pendingReasonIsLoggedOnlyWhenItChanges() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var agent = try await AgentConn(s, node: "n1", registering: smallTopology())
        let job = try await s.submit(spec(cpus: 8))
        for _ in 0..<5 {
            await s.schedulePendingFromTick()
            try await agent.heartbeat()
            await s.tick()
        }
        var log = try await s.logRecords(LogQuery(job: job.id))
        #expect(log.count == 1)
        #expect(log.first?.outcome == .pending)
        #expect(log.first?.summary == "0/1 nodes available: 1 too few free CPUs")
        #expect(try await s.job(job.id).reason == "0/1 nodes available: 1 too few free CPUs")

        // A different reason is logged once, and so is the return to the old one.
        _ = try await s.drain("n1", reason: nil)
        await s.schedulePendingFromTick()
        await s.schedulePendingFromTick()
        _ = try await s.undrain("n1")
        await s.schedulePendingFromTick()
        log = try await s.logRecords(LogQuery(job: job.id))
        #expect(log.map(\.summary) == ["0/1 nodes available: 1 too few free CPUs",
                                       "0/1 nodes available: 1 draining",
                                       "0/1 nodes available: 1 too few free CPUs"])
        #expect(try await s.job(job.id).reason == "0/1 nodes available: 1 too few free CPUs")
        #expect(await agent.received().isEmpty)
    }

    @Test func otherJobsActivityDoesNotRelogAWaitingJob() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var agent = try await AgentConn(s, node: "n1", registering: smallTopology())
        let huge = try await s.submit(spec(cpus: 64))
        for _ in 0..<3 {
            let j = try await s.submit(spec(cpus: 1))
            await agent.exited(j.id, TaskExit(exitCode: 0))
        }
        #expect(try await s.logRecords(LogQuery(job: huge.id)).count == 1)
        // One pending and three placed records in all, in order.
        #expect(try await s.logRecords(LogQuery()).map(\.outcome) == [.pending, .placed, .placed, .placed])
        _ = await agent.received()
    }

    @Test func followLogYieldsNewRecordsAndUnfollowEndsTheStream() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        let early = try await s.submit(spec("early", cpus: 2))          // before following: not replayed

        let (allID, all) = await s.followLog(LogQuery())
        var allIt = all.makeAsyncIterator()
        let (n1ID, onN1) = await s.followLog(LogQuery(node: "n1"))
        let (jobID, forJob) = await s.followLog(LogQuery(job: JobID(2)))

        let second = try await s.submit(spec("second", cpus: 2))       // pending: 0/0
        #expect(second.id == JobID(2))
        let r1 = try #require(await allIt.next())
        #expect(r1.job == second.id)
        #expect(r1.outcome == .pending)
        #expect(r1.seq == 2)

        var agent = try await AgentConn(s, node: "n1", registering: smallTopology())                   // places both
        let r2 = try #require(await allIt.next())
        let r3 = try #require(await allIt.next())
        #expect([r2.job, r3.job] == [early.id, second.id])
        #expect(r2.outcome == .placed && r3.outcome == .placed)
        #expect(r2.node == "n1")

        // The records streamed are the stored ones.
        #expect(try await s.logRecords(LogQuery(after: 1)) == [r1, r2, r3])

        await s.unfollowLog(allID)
        await s.unfollowLog(n1ID)
        await s.unfollowLog(jobID)
        #expect(await allIt.next() == nil)
        var onN1Records: [PlacementRecord] = []
        for await r in onN1 { onN1Records.append(r) }
        #expect(onN1Records == [r2, r3])
        var jobRecords: [PlacementRecord] = []
        for await r in forJob { jobRecords.append(r) }
        #expect(jobRecords == [r1, r3])

        // Nothing is sent to a follower that has gone.
        _ = try await s.submit(spec(cpus: 99))
        _ = await agent.received()
    }

    @Test func explainPendingJobGivesAFreshEvaluation() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        let job = try await s.submit(spec(cpus: 4))
        var agent = try await AgentConn(s, node: "n1", registering: smallTopology(cores: 1, threads: 2))
        let e = try await s.explain(job.id)
        #expect(e.job.state == .pending)
        #expect(e.latest?.summary == "0/1 nodes available: 1 too few free CPUs")
        #expect(e.current?.summary == "0/1 nodes available: 1 too few free CPUs")
        #expect(e.current?.outcome == .pending)

        let ok = try await s.submit(spec(cpus: 1))
        let e2 = try await s.explain(ok.id)
        #expect(e2.current == nil)
        #expect(e2.latest?.outcome == .placed)
        #expect(e2.latest?.node == "n1")
        await expectReply(.notFound) { try await s.explain(JobID(42)) }
        _ = await agent.received()
    }
}
