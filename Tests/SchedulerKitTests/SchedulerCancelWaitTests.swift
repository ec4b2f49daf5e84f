import SchedCore
import SchedProtocol
import SchedStore
import SchedulerKit
import Testing
import SchedTestSupport

@Suite("Scheduler: cancel and wait", .timeLimit(.minutes(1)))
struct SchedulerCancelWaitTests {
    @Test func cancelPendingIsImmediate() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        let job = try await s.submit(spec())
        let c = try await s.cancel(job.id)
        #expect(c.state == .cancelled)
        #expect(c.reason == "cancelled by user")
        #expect(c.finishedAtMs != nil)
        #expect(try await s.job(job.id) == c)
        #expect(try h.openStore().allJobs() == [c])

        // A node that arrives later does not run it.
        var agent = await AgentConn(s, node: "n1")
        let lines = try await agent.register(smallTopology())
        #expect(lines.compactMap(\.startTask).isEmpty)
    }

    @Test func cancelRunningKillsAndWaitsForTheExit() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var agent = try await AgentConn(s, node: "n1", registering: smallTopology())
        let job = try await s.submit(JobSpec(command: ["sleep", "100"], resources: ResourceRequest(cpus: 4), killGraceSeconds: 2))
        let waiting = try await s.submit(spec(cpus: 4))
        _ = await agent.received()
        await agent.started(job.id)

        let c = try await s.cancel(job.id)
        #expect(c.state == .running)
        #expect(c.cancelRequested == true)
        let kill = try #require(await agent.received().first?.killTask)
        #expect(kill.ref == TaskRef(job: job.id))
        #expect(kill.graceSeconds == 2)
        // Still holding its CPUs: the other job keeps waiting.
        #expect(try await s.job(waiting.id).state == .pending)
        #expect(try h.openStore().allJobs().first?.cancelRequested == true)

        // A second cancel while the kill is under way is not an error.
        #expect(try await s.cancel(job.id).state == .running)
        _ = await agent.received()

        await agent.exited(job.id, TaskExit(signal: 15))
        let done = try await s.job(job.id)
        #expect(done.state == .cancelled)
        #expect(done.reason == "cancelled by user")
        #expect(done.exit == TaskExit(signal: 15))
        let lines = await agent.received()
        #expect(lines.first?.ackExit?.ref == TaskRef(job: job.id))
        #expect(lines.compactMap(\.startTask).map(\.ref.job) == [waiting.id])
    }

    @Test func cancelWhileTheAgentIsDisconnectedIsImmediateAndFreesTheNode() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        let agent = try await AgentConn(s, node: "n1", registering: smallTopology())
        let job = try await s.submit(spec(cpus: 4))
        await agent.started(job.id)
        await s.linkClosed(agent.linkID, node: "n1")
        #expect(await s.listNodes(topology: false).first?.status == .down)

        let c = try await s.cancel(job.id)
        #expect(c.state == .cancelled)
        #expect(await s.listNodes(topology: false).first?.cpusUsed == 0)

        // When the agent comes back still running it, it is told to kill it.
        var again = await AgentConn(s, node: "n1")
        let lines = try await again.register(smallTopology(), tasks: [TaskReport(ref: TaskRef(job: job.id), pid: 5)])
        #expect(lines.compactMap(\.killTask).map(\.ref) == [TaskRef(job: job.id)])
        #expect(try await s.job(job.id).state == .cancelled)
    }

    @Test
    func cancelledStartingJobIsNotRequeuedOnReregistration() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var agent = try await AgentConn(s, node: "n1", registering: smallTopology())
        let job = try await s.submit(spec())
        _ = await agent.received()
        // Cancelled while still `starting`: KILL_TASK goes out, the job waits for the exit.
        let c = try await s.cancel(job.id)
        #expect(c.state == .starting)
        #expect(c.cancelRequested == true)
        // The connection drops before the agent got START_TASK; it comes back knowing nothing of the job.
        await s.linkClosed(agent.linkID, node: "n1")
        var back = await AgentConn(s, node: "n1")
        let lines = try await back.register(smallTopology(), tasks: [])
        #expect(lines.compactMap(\.startTask).isEmpty, "a cancelled job was started again: \(lines)")
        let after = try await s.job(job.id)
        #expect(after.state == .cancelled)
        #expect(after.reason == "cancelled by user")
    }

    @Test func cancelFinishedJobIsAConflict() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        let agent = try await AgentConn(s, node: "n1", registering: smallTopology())
        let job = try await s.submit(spec())
        await agent.exited(job.id, TaskExit(exitCode: 0))
        await expectReply(.conflict) { try await s.cancel(job.id) }
        #expect(try await s.job(job.id).state == .completed)

        let p = try await s.submit(spec(cpus: 99))
        _ = try await s.cancel(p.id)
        await expectReply(.conflict) { try await s.cancel(p.id) }
    }

    @Test func cancelUnknownIsNotFound() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        await expectReply(.notFound) { try await s.cancel(JobID(12)) }
    }

    @Test func waitForTerminalReturnsWhenTheJobEnds() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var agent = try await AgentConn(s, node: "n1", registering: smallTopology())
        let job = try await s.submit(spec())
        await agent.started(job.id)

        let waiter = Task { try await s.waitForTerminal(job.id) }
        let second = Task { try await s.waitForTerminal(job.id) }
        // Let the waiters park on the actor; the result must be right whichever comes first.
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await s.job(job.id).state == .running)
        await agent.exited(job.id, TaskExit(exitCode: 3))
        let result = try await waiter.value
        #expect(result.state == .failed)
        #expect(result.exit == TaskExit(exitCode: 3))
        #expect(try await second.value == result)
        _ = await agent.received()
    }

    @Test func waitForTerminalOnACancelledPendingJob() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        let job = try await s.submit(spec())
        let waiter = Task { try await s.waitForTerminal(job.id) }
        try await Task.sleep(for: .milliseconds(50))
        _ = try await s.cancel(job.id)
        #expect(try await waiter.value.state == .cancelled)
    }

    @Test func waitForTerminalOnAFinishedOrUnknownJob() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        let job = try await s.submit(spec())
        _ = try await s.cancel(job.id)
        #expect(try await s.waitForTerminal(job.id).state == .cancelled)
        await expectReply(.notFound) { try await s.waitForTerminal(JobID(5)) }
    }
}
