import SchedCore
import SchedProtocol
import SchedStore
import SchedulerKit
import Testing
import SchedTestSupport

/// schedd killed (-9) and restarted: the old actor is simply dropped and a new one opens the same
/// store file; agents re-register with the tasks they know.
@Suite("Scheduler: restart and reconciliation", .timeLimit(.minutes(1)))
struct SchedulerRestartTests {
    @Test func reregistrationReconcilesEveryKindOfTask() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let topo = smallTopology(cores: 4, threads: 1)   // PUs 0-3
        var startsBefore: [JobID: Int] = [:]
        let running, starting, exited: JobID
        do {
            let s1 = try h.makeScheduler()
            var agent = try await AgentConn(s1, node: "n1", registering: topo)
            running = try await s1.submit(spec("running")).id
            starting = try await s1.submit(spec("starting")).id
            exited = try await s1.submit(spec("exited")).id
            for m in await agent.received() { if let st = m.startTask { startsBefore[st.ref.job, default: 0] += 1 } }
            await agent.started(running, pid: 100)
            await agent.started(exited, pid: 300)
            #expect(try await s1.job(running).state == .running)
            #expect(try await s1.job(starting).state == .starting)
        }
        #expect(startsBefore == [running: 1, starting: 1, exited: 1])

        let s2 = try h.makeScheduler()
        // Loaded from the store, unchanged, and holding their resources until the agent is back.
        #expect(try await s2.job(running).state == .running)
        #expect(try await s2.job(starting).state == .starting)
        let held = try #require(await s2.listNodes(topology: false).first)
        #expect(held.status == .down)
        #expect(held.cpusUsed == 3)

        var agent = await AgentConn(s2, node: "n1")
        let stranger = TaskRef(job: JobID(555))
        let lines = try await agent.register(topo, tasks: [
            TaskReport(ref: TaskRef(job: running), pid: 101, binding: someBinding),
            TaskReport(ref: TaskRef(job: exited), pid: 300, exit: TaskExit(exitCode: 2)),
            TaskReport(ref: stranger, pid: 999),
        ])

        #expect(lines.first?.registered?.node == "n1")
        // (a) still running: stays running, never started again.
        let r = try await s2.job(running)
        #expect(r.state == .running)
        #expect(r.pid == 101)
        #expect(r.hostBinding == someBinding)
        // (b) never reached the agent: re-queued, then placed again exactly once.
        let st = try await s2.job(starting)
        #expect(st.state == .starting)
        // (c) unknown task: killed.
        #expect(lines.compactMap(\.killTask).map(\.ref) == [stranger])
        // (d) reported with an exit: finished with that exit and acknowledged.
        let e = try await s2.job(exited)
        #expect(e.state == .failed)
        #expect(e.exit == TaskExit(exitCode: 2))
        #expect(e.reason == "exit code 2")
        #expect(lines.compactMap(\.ackExit).map(\.ref) == [TaskRef(job: exited)])

        var startsAfter: [JobID: Int] = [:]
        for m in lines { if let st = m.startTask { startsAfter[st.ref.job, default: 0] += 1 } }
        #expect(startsAfter == [starting: 1])
        #expect(lines.count == 4, "REGISTERED, ACK_EXIT, KILL_TASK, START_TASK: \(lines)")

        // The re-placed job does not overlap the running one.
        let startAgain = try #require(lines.compactMap(\.startTask).first)
        let runningPUs = try #require(r.assignment?.pus)
        #expect(startAgain.assignment.pus.isDisjoint(with: runningPUs))
        let log = try await s2.logRecords(LogQuery(job: starting))
        #expect(log.map(\.outcome) == [.placed, .placed])

        // Everything is durable, and a later heartbeat or registration starts nothing more.
        let s3Jobs = try h.openStore().allJobs()
        #expect(s3Jobs.first { $0.id == running }?.state == .running)
        #expect(s3Jobs.first { $0.id == exited }?.state == .failed)
        try await agent.heartbeat()
        await s2.schedulePendingFromTick()
        #expect(await agent.received().isEmpty)
    }

    @Test func startingJobTheAgentReportsRunningBecomesRunningWithoutARestart() async throws {
        // TASK_STARTED was lost with the old schedd; the agent's REGISTER says the task runs.
        let h = try Harness()
        defer { h.cleanup() }
        let job: JobID
        do {
            let s1 = try h.makeScheduler()
            _ = try await AgentConn(s1, node: "n1", registering: smallTopology())
            job = try await s1.submit(spec(cpus: 2)).id
        }
        let s2 = try h.makeScheduler()
        #expect(try await s2.job(job).state == .starting)
        var agent = await AgentConn(s2, node: "n1")
        let lines = try await agent.register(smallTopology(), tasks: [TaskReport(ref: TaskRef(job: job), pid: 77, binding: someBinding)])
        #expect(lines.count == 1, "only REGISTERED: \(lines)")
        let j = try await s2.job(job)
        #expect(j.state == .running)
        #expect(j.pid == 77)
        #expect(j.hostBinding == someBinding)
        #expect(j.startedAtMs != nil)
        #expect(await s2.listNodes(topology: false).first?.cpusUsed == 2)
        #expect(try h.openStore().allJobs().first == j)
    }

    @Test func runningJobTheAgentNoLongerKnowsFails() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let job = try await h.jobRunningWhenKilled(spec(cpus: 4))
        let s2 = try h.makeScheduler()
        var agent = await AgentConn(s2, node: "n1")
        let lines = try await agent.register(smallTopology(), tasks: [])
        let j = try await s2.job(job)
        #expect(j.state == .failed)
        #expect(j.reason?.contains("lost") == true)
        #expect(lines.compactMap(\.startTask).isEmpty)
        #expect(await s2.listNodes(topology: false).first?.cpusUsed == 0)
    }

    @Test func restartKeepsResourcesOfRunningJobsHeld() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let job = try await h.jobRunningWhenKilled(spec(cpus: 3))
        let s2 = try h.makeScheduler()
        var agent = try await AgentConn(s2, node: "n1", registering: smallTopology(), tasks: [TaskReport(ref: TaskRef(job: job), pid: 1)])
        // Only one PU is free: a 2-CPU job waits, a 1-CPU job gets PU not used by the running one.
        let big = try await s2.submit(spec(cpus: 2))
        #expect(big.state == .pending)
        let small = try await s2.submit(spec(cpus: 1))
        #expect(small.state == .starting)
        let runningPUs = try #require(try await s2.job(job).assignment?.pus)
        #expect(small.assignment?.pus.isDisjoint(with: runningPUs) == true)
        _ = await agent.received()
    }

    @Test func pendingJobsSurviveARestartAndArePlacedWhenANodeComes() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        do {
            let s1 = try h.makeScheduler()
            _ = try await s1.submit(spec("p1"))
            _ = try await s1.submit(spec("p2"))
        }
        let s2 = try h.makeScheduler()
        #expect(await s2.listJobs(ListJobs()).map(\.state) == [.pending, .pending])
        var agent = await AgentConn(s2, node: "n1")
        let lines = try await agent.register(smallTopology())
        #expect(lines.compactMap(\.startTask).map(\.ref.job) == [JobID(1), JobID(2)])
        // New ids continue after the stored ones.
        #expect(try await s2.submit(spec()).id == JobID(3))
    }

    @Test func cancelRequestedBeforeTheRestartIsReissuedOnReregistration() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let job: JobID
        do {
            let s1 = try h.makeScheduler()
            let agent = try await AgentConn(s1, node: "n1", registering: smallTopology())
            job = try await s1.submit(spec()).id
            await agent.started(job)
            _ = try await s1.cancel(job)
        }
        let s2 = try h.makeScheduler()
        var agent = await AgentConn(s2, node: "n1")
        let lines = try await agent.register(smallTopology(), tasks: [TaskReport(ref: TaskRef(job: job), pid: 1)])
        #expect(lines.compactMap(\.killTask).map(\.ref) == [TaskRef(job: job)])
        #expect(try await s2.job(job).state == .running)
        await agent.exited(job, TaskExit(signal: 15))
        #expect(try await s2.job(job).state == .cancelled)
        _ = await agent.received()
    }

    @Test func exitAlreadyRecordedIsAcknowledgedAgain() async throws {
        // schedd recorded the exit but the agent never got the ACK_EXIT: it reports the exit again.
        let h = try Harness()
        defer { h.cleanup() }
        let job: JobID
        do {
            let s1 = try h.makeScheduler()
            let agent = try await AgentConn(s1, node: "n1", registering: smallTopology())
            job = try await s1.submit(spec()).id
            await agent.exited(job, TaskExit(exitCode: 0))
        }
        let s2 = try h.makeScheduler()
        let before = try await s2.job(job)
        var agent = await AgentConn(s2, node: "n1")
        let lines = try await agent.register(smallTopology(),
                                             tasks: [TaskReport(ref: TaskRef(job: job), exit: TaskExit(exitCode: 0))])
        #expect(lines.compactMap(\.ackExit).map(\.ref) == [TaskRef(job: job)])
        #expect(lines.compactMap(\.killTask).isEmpty)
        #expect(try await s2.job(job) == before)
    }

    @Test func reregisteringOnANewConnectionReplacesTheOldLink() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var old = try await AgentConn(s, node: "n1", registering: smallTopology())
        var new = try await AgentConn(s, node: "n1", registering: smallTopology())
        // The old link's stream is finished; work goes to the new one.
        #expect(await old.received().isEmpty)
        let job = try await s.submit(spec())
        #expect(await new.received().compactMap(\.startTask).map(\.ref.job) == [job.id])
        // The old connection closing later does not take the node down.
        await s.linkClosed(old.linkID, node: "n1")
        #expect(await s.listNodes(topology: false).first?.status == .ready)
        await expectReply(.notFound) { try await old.heartbeat() }
        try await new.heartbeat()
    }
}
