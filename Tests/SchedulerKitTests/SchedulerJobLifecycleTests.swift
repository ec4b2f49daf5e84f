import SchedCore
import SchedProtocol
import SchedStore
import SchedulerKit
import Testing
import SchedTestSupport

@Suite("Scheduler: job lifecycle", .timeLimit(.minutes(1)))
struct SchedulerJobLifecycleTests {
    @Test func submitWithNoNodesIsPendingWithOnePendingRecord() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        let job = try await s.submit(spec("lonely", cpus: 2))
        #expect(job.id == JobID(1))
        #expect(job.state == .pending)
        #expect(job.assignment == nil)
        #expect(job.reason == "0/0 nodes available")

        let log = try await s.logRecords(LogQuery(job: job.id))
        #expect(log.count == 1)
        let r = try #require(log.first)
        #expect(r.outcome == .pending)
        #expect(r.summary == "0/0 nodes available")
        #expect(r.node == nil)
        #expect(r.jobName == "lonely")
        #expect(r.request.cpus == 2)

        // Durable: the stored record says the same.
        let stored = try h.openStore().allJobs()
        #expect(stored == [try await s.job(job.id)])
    }

    @Test func registeringAFittingNodePlacesThePendingJob() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        let job = try await s.submit(JobSpec(name: "train", command: ["/bin/sleep", "1"],
                                             resources: ResourceRequest(cpus: 2, memoryBytes: GiB),
                                             env: ["X": "1"], workdir: "/w", killGraceSeconds: 3))
        #expect(job.state == .pending)

        var agent = await AgentConn(s, node: "n1")
        let lines = try await agent.register(smallTopology())
        #expect(lines.count == 2, "\(lines)")
        let reg = try #require(lines.first?.registered)
        #expect(reg.node == "n1")
        #expect(reg.heartbeatIntervalMs == 1000)

        let start = try #require(lines.last?.startTask)
        let expected = Assignment(node: "n1", pus: CPUSet([0, 1]), numaNodes: NUMASet([0]), gpus: [],
                                  memory: [NUMAMemory(numa: 0, bytes: GiB)])
        #expect(start.ref == TaskRef(job: job.id))
        #expect(start.assignment == expected)
        #expect(start.jobName == "train")
        #expect(start.command == ["/bin/sleep", "1"])
        #expect(start.env == ["X": "1"])
        #expect(start.workdir == "/w")
        #expect(start.killGraceSeconds == 3)

        let now = try await s.job(job.id)
        #expect(now.state == .starting)
        #expect(now.assignment == expected)
        #expect(now.reason == nil)
        #expect(try h.openStore().allJobs().first == now)

        let log = try await s.logRecords(LogQuery(job: job.id))
        #expect(log.map(\.outcome) == [.pending, .placed])
        #expect(log.last?.node == "n1")
        #expect(log.last?.pus == CPUSet([0, 1]))

        let node = try #require(await s.listNodes(topology: false).first)
        #expect(node.status == .ready)
        #expect(node.cpusUsed == 2)
        #expect(node.memoryUsedBytes == GiB)
        #expect(node.runningJobs == 1)
    }

    @Test func submitOnAReadyNodeIsPlacedAtOnce() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var agent = await AgentConn(s, node: "n1")
        #expect(try await agent.register(smallTopology()).count == 1)
        let job = try await s.submit(spec(cpus: 1, gpus: 0))
        #expect(job.state == .starting)
        let lines = await agent.received()
        #expect(lines.compactMap(\.startTask).map(\.ref) == [TaskRef(job: job.id)])
        #expect(lines.count == 1)
    }

    @Test func fullLifecycleStartedThenCompletedReleasesResources() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var agent = try await AgentConn(s, node: "n1", registering: smallTopology())

        let a = try await s.submit(spec("a", cpus: 4))
        let b = try await s.submit(spec("b", cpus: 4))
        #expect(a.state == .starting)
        #expect(b.state == .pending)
        #expect(b.reason == "0/1 nodes available: 1 too few free CPUs")
        #expect(await agent.received().compactMap(\.startTask).map(\.ref.job) == [a.id])

        let binding = HostBinding(cpus: CPUSet([8, 9, 10, 11]), numaNodes: NUMASet([1]))
        await agent.started(a.id, pid: 777, binding: binding)
        let running = try await s.job(a.id)
        #expect(running.state == .running)
        #expect(running.pid == 777)
        #expect(running.hostBinding == binding)
        #expect(running.stdoutPath == "/tmp/\(a.id).out")
        #expect(running.stderrPath == "/tmp/\(a.id).err")
        #expect(running.startedAtMs != nil)
        #expect(try h.openStore().allJobs().first == running)
        #expect(await agent.received().isEmpty)

        await agent.exited(a.id, TaskExit(exitCode: 0))
        let done = try await s.job(a.id)
        #expect(done.state == .completed)
        #expect(done.exit == TaskExit(exitCode: 0))
        #expect(done.reason == nil)
        #expect(done.finishedAtMs != nil)
        #expect(try h.openStore().allJobs().first == done)

        // ACK_EXIT first, then the freed node takes the job that needs all of it.
        let lines = await agent.received()
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first?.ackExit?.ref == TaskRef(job: a.id))
        let start = try #require(lines.last?.startTask)
        #expect(start.ref.job == b.id)
        #expect(start.assignment.pus == CPUSet([0, 1, 2, 3]))
        #expect(try await s.job(b.id).state == .starting)
    }

    @Test(arguments: [
        (TaskExit(exitCode: 3), "exit code 3"),
        (TaskExit(signal: 9), "killed by signal 9"),
        (TaskExit(error: "exec failed: no such file"), "exec failed: no such file"),
    ])
    func nonZeroExitFails(_ exit: TaskExit, _ reason: String) async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var agent = try await AgentConn(s, node: "n1", registering: smallTopology())
        let job = try await s.submit(spec(cpus: 4))
        await agent.started(job.id)
        await agent.exited(job.id, exit)
        let failed = try await s.job(job.id)
        #expect(failed.state == .failed)
        #expect(failed.reason == reason)
        #expect(failed.exit == exit)
        let lines = await agent.received()
        #expect(lines.compactMap(\.ackExit).map(\.ref) == [TaskRef(job: job.id)])
        // Resources are back.
        #expect(await s.listNodes(topology: false).first?.cpusUsed == 0)
    }

    @Test func exitOfAJobStillStartingIsRecorded() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var agent = try await AgentConn(s, node: "n1", registering: smallTopology())
        let job = try await s.submit(spec())
        await agent.exited(job.id, TaskExit(error: "binding failed"))
        #expect(try await s.job(job.id).state == .failed)
        #expect(try await s.job(job.id).reason == "binding failed")
        _ = await agent.received()
    }

    @Test func duplicateTaskExitedIsAcknowledgedAndChangesNothing() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var agent = try await AgentConn(s, node: "n1", registering: smallTopology())
        let job = try await s.submit(spec())
        #expect(await agent.received().compactMap(\.startTask).count == 1)
        await agent.started(job.id)
        await agent.exited(job.id, TaskExit(exitCode: 0))
        let first = try await s.job(job.id)
        // The agent re-sends until it gets ACK_EXIT; a later copy (even a different one) changes nothing.
        await agent.exited(job.id, TaskExit(exitCode: 1))
        #expect(try await s.job(job.id) == first)
        let lines = await agent.received()
        #expect(lines.compactMap(\.ackExit).count == 2)
        #expect(lines.count == 2)
    }

    @Test func taskEventsFromTheWrongNodeAreRefused() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var n1 = try await AgentConn(s, node: "n1", registering: smallTopology())
        let job = try await s.submit(spec())
        _ = await n1.received()
        var n2 = try await AgentConn(s, node: "n2", registering: smallTopology())

        // n2 claims to run a job placed on n1: it is told to kill it; the job is untouched.
        await n2.started(job.id)
        #expect(try await s.job(job.id).state == .starting)
        #expect(await n2.received().compactMap(\.killTask).map(\.ref) == [TaskRef(job: job.id)])
        // n2 reports an exit for it: acknowledged (so the agent forgets it) but the job goes on.
        await n2.exited(job.id, TaskExit(exitCode: 0))
        #expect(try await s.job(job.id).state == .starting)
        #expect(await n2.received().compactMap(\.ackExit).count == 1)
        #expect(await n1.received().isEmpty)
    }

    @Test func taskStartedForAnUnknownJobIsKilled() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var agent = try await AgentConn(s, node: "n1", registering: smallTopology())
        await agent.started(JobID(77))
        let kill = try #require(await agent.received().first?.killTask)
        #expect(kill.ref == TaskRef(job: JobID(77)))
        #expect(await s.listJobs(ListJobs()).isEmpty)
    }

    @Test(arguments: [
        spec(cpus: 0),
        JobSpec(command: []),
        JobSpec(command: ["x"], resources: ResourceRequest(cpus: 1, gpus: -1)),
        JobSpec(command: ["x"], killGraceSeconds: -1),
    ])
    func invalidSpecIsRefusedAndNothingIsStored(_ bad: JobSpec) async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        await expectReply(.invalidSpec) { try await s.submit(bad) }
        #expect(await s.listJobs(ListJobs()).isEmpty)
        #expect(try h.openStore().allJobs().isEmpty)
        #expect(try await s.logRecords(LogQuery()).isEmpty)
        // The next valid job still gets id 1.
        #expect(try await s.submit(spec()).id == JobID(1))
    }

    @Test func listJobsIsNewestFirstAndFilters() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        _ = try await AgentConn(s, node: "n1", registering: smallTopology(cores: 1, threads: 1))
        let a = try await s.submit(spec())
        let b = try await s.submit(spec())
        let c = try await s.submit(spec())
        #expect(await s.listJobs(ListJobs()).map(\.id) == [c.id, b.id, a.id])
        #expect(await s.listJobs(ListJobs(states: [.pending])).map(\.id) == [c.id, b.id])
        #expect(await s.listJobs(ListJobs(states: [.starting])).map(\.id) == [a.id])
        #expect(await s.listJobs(ListJobs(limit: 1)).map(\.id) == [c.id])
        await expectReply(.notFound) { try await s.job(JobID(99)) }
    }
}
