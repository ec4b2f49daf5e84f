import SchedCore
import SchedProtocol
import SchedStore
import SchedulerKit
import Testing
import SchedTestSupport

@Suite("Scheduler: nodes, heartbeats, drain", .timeLimit(.minutes(1)))
struct SchedulerNodeTests {
    // MARK: registration

    @Test func registerWithNoPUsIsMalformed() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var agent = await AgentConn(s, node: "n1")
        let empty = NodeTopology(arch: "x86_64", packages: 1,
                                 numaNodes: [NUMANodeInfo(id: 0, memoryBytes: GiB, cpus: CPUSet())], cores: [])
        let e = await expectReply(.malformed) { try await agent.register(empty) }
        #expect(e?.message.contains("no PUs") == true)
        #expect(await s.listNodes(topology: false).isEmpty)
        #expect(try h.openStore().allNodes().isEmpty)
        // The same connection may still register properly.
        let lines = try await agent.register(smallTopology())
        #expect(lines.compactMap(\.registered).count == 1)
    }

    @Test func registerWithGPUIndicesOutOfOrderIsMalformed() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var agent = await AgentConn(s, node: "n1")
        var topo = smallTopology(gpus: 2)
        topo.gpus[0].index = 1
        topo.gpus[1].index = 0
        await expectReply(.malformed) { try await agent.register(topo) }
        #expect(await s.listNodes(topology: false).isEmpty)
    }

    @Test func registerOnAnUnknownLinkIsRefused() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        await expectReply(.internalError) {
            try await s.register(Register(node: "n1", topology: smallTopology(), emulated: false, tasks: []), linkID: 4711)
        }
        #expect(await s.listNodes(topology: false).isEmpty)
    }

    @Test func registeredNodeIsListedAndStored() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var agent = await AgentConn(s, node: "n1")
        let topo = smallTopology(cores: 3, threads: 2, memory: 16 * GiB, gpus: 2)
        _ = try await agent.register(topo, emulated: true)
        let n = try #require(await s.listNodes(topology: true).first)
        #expect(n.name == "n1")
        #expect(n.status == .ready)
        #expect(n.cpus == 6)
        #expect(n.cores == 3)
        #expect(n.memoryBytes == 16 * GiB)
        #expect(n.gpus == 2)
        #expect(n.gpuModels == ["Tesla T4"])
        #expect(n.emulated)
        #expect(n.topology == topo)
        #expect(await s.listNodes(topology: false).first?.topology == nil)
        #expect(try h.openStore().allNodes() == [StoredNode(name: "n1", topology: topo, emulated: true, drained: false, drainReason: nil)])
    }

    @Test func reregisteringWithANewTopologyUpdatesTheNode() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        let agent = try await AgentConn(s, node: "n1", registering: smallTopology(cores: 1, threads: 1))
        let big = try await s.submit(spec(cpus: 4))
        #expect(big.state == .pending)
        await s.linkClosed(agent.linkID, node: "n1")
        var again = await AgentConn(s, node: "n1")
        let lines = try await again.register(smallTopology(cores: 2, threads: 2))
        #expect(await s.listNodes(topology: false).first?.cpus == 4)
        #expect(lines.compactMap(\.startTask).map(\.ref.job) == [big.id])
        #expect(try h.openStore().allNodes().first?.topology == smallTopology(cores: 2, threads: 2))
    }

    // MARK: heartbeats and timeouts

    @Test func heartbeatsBeforeTheTimeoutKeepTheNodeReady() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        let agent = try await AgentConn(s, node: "n1", registering: smallTopology())
        let job = try await s.submit(spec())
        await agent.started(job.id)
        for _ in 0..<10 {
            h.clock.advance(by: 4_000)
            try await agent.heartbeat()
            h.clock.advance(by: 900)
            await s.tick()
            #expect(await s.listNodes(topology: false).first?.status == .ready)
        }
        #expect(try await s.job(job.id).state == .running)
        #expect(await s.listNodes(topology: false).first?.lastHeartbeatMs != nil)
        // Silence just under the timeout is still fine.
        h.clock.advance(by: 4_099)
        await s.tick()
        #expect(await s.listNodes(topology: false).first?.status == .ready)
        #expect(try await s.job(job.id).state == .running)
    }

    @Test func silentNodeGoesDownAndItsJobsFail() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        let agent = try await AgentConn(s, node: "n1", registering: smallTopology())
        let other = try await AgentConn(s, node: "n2", registering: smallTopology())
        let a = try await s.submit(spec("a", cpus: 4))
        let b = try await s.submit(spec("b", cpus: 4))
        // Equal scores: the tie goes to the node whose name sorts first.
        #expect(a.node == "n1")
        #expect(b.node == "n2")
        let aNode: NodeID = "n1", bNode: NodeID = "n2"
        await agent.started(a.id)

        h.clock.advance(by: 3_000)
        try await other.heartbeat()                               // only n2 speaks
        h.clock.advance(by: 2_001)                                // 5001 ms since the silent one was seen
        await s.tick()

        let nodes = await s.listNodes(topology: false)
        #expect(nodes.first { $0.name == aNode }?.status == .down)
        #expect(nodes.first { $0.name == bNode }?.status == .ready)
        let failed = try await s.job(a.id)
        #expect(failed.state == .failed)
        #expect(failed.reason?.contains("down") == true)
        #expect(failed.exit?.error?.contains("down") == true)
        #expect(try await s.job(b.id).state == .starting)
        #expect(try h.openStore().allJobs().first { $0.id == a.id }?.state == .failed)
        #expect(nodes.first { $0.name == aNode }?.cpusUsed == 0)

        // New work does not go to the down node.
        let c = try await s.submit(spec("c", cpus: 1))
        #expect(c.state == .pending)
        #expect(c.reason?.contains("1 not ready") == true)

        // A second tick does not fail anything again or log twice.
        await s.tick()
        #expect(try await s.job(a.id) == failed)
    }

    @Test func downNodeComesBackByRegisteringAndKillsWhatIsLeft() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var agent = try await AgentConn(s, node: "n1", registering: smallTopology())
        let a = try await s.submit(spec(cpus: 4))
        await agent.started(a.id)
        #expect(await agent.received().compactMap(\.startTask).count == 1)
        h.clock.advance(by: 6_000)
        await s.tick()
        #expect(try await s.job(a.id).state == .failed)
        // The timed-out link was closed.
        #expect(await agent.received().isEmpty)
        let waiting = try await s.submit(spec(cpus: 4))

        var back = await AgentConn(s, node: "n1")
        let lines = try await back.register(smallTopology(), tasks: [TaskReport(ref: TaskRef(job: a.id), pid: 9)])
        #expect(await s.listNodes(topology: false).first?.status == .ready)
        #expect(lines.compactMap(\.killTask).map(\.ref) == [TaskRef(job: a.id)])
        #expect(lines.compactMap(\.startTask).map(\.ref.job) == [waiting.id])
        #expect(try await s.job(a.id).state == .failed)
    }

    @Test func nodeLoadedFromTheStoreThatNeverComesBackTimesOut() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let job = try await h.jobRunningWhenKilled()
        let s2 = try h.makeScheduler()
        h.clock.advance(by: 4_000)
        await s2.tick()
        #expect(try await s2.job(job).state == .running)
        h.clock.advance(by: 2_000)
        await s2.tick()
        #expect(try await s2.job(job).state == .failed)
        #expect(try await s2.job(job).reason?.contains("down") == true)
    }

    @Test
    func heartbeatOnATimedOutLinkDoesNotTakeWorkItCannotReceive() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var agent = try await AgentConn(s, node: "n1", registering: smallTopology())
        let a = try await s.submit(spec("a", cpus: 4))
        await agent.started(a.id)
        _ = await agent.received()
        // The agent stalls past the timeout (GC pause, SIGSTOP, network hiccup) ...
        h.clock.advance(by: 6_000)
        await s.tick()
        #expect(try await s.job(a.id).state == .failed)
        // ... then its next heartbeat arrives on the same, still open connection.
        try? await agent.heartbeat()
        let b = try await s.submit(spec("b", cpus: 4))
        let lines = await agent.received()
        let bNow = try await s.job(b.id)
        // Either the node waits for a fresh REGISTER (and b waits), or b's START_TASK reaches the agent.
        #expect(bNow.state == .pending || lines.compactMap(\.startTask).map(\.ref.job) == [b.id],
                "b is \(bNow.state) but the agent got \(lines)")
        // a's process still runs on the agent: it must not share the node's CPUs with b unannounced.
        #expect(bNow.state == .pending || lines.compactMap(\.killTask).map(\.ref.job).contains(a.id),
                "a still runs on the agent and b was placed on the same CPUs")
    }

    @Test func heartbeatFromAnUnregisteredNodeIsRefused() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        let (link, _) = await s.openLink()
        await expectReply(.notFound) { try await s.heartbeat(Heartbeat(node: "ghost", running: 0), linkID: link) }
    }

    @Test func disconnectMarksTheNodeDownButKeepsItsJobsUntilTheTimeout() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        let agent = try await AgentConn(s, node: "n1", registering: smallTopology())
        let job = try await s.submit(spec())
        await agent.started(job.id)
        await s.linkClosed(agent.linkID, node: "n1")
        #expect(await s.listNodes(topology: false).first?.status == .down)
        #expect(try await s.job(job.id).state == .running)
        await expectReply(.notFound) { try await agent.heartbeat() }

        // Reconnect in time: the job is still running.
        h.clock.advance(by: 2_000)
        var back = await AgentConn(s, node: "n1")
        let lines = try await back.register(smallTopology(), tasks: [TaskReport(ref: TaskRef(job: job.id), pid: 3)])
        #expect(lines.count == 1)
        #expect(try await s.job(job.id).state == .running)
        h.clock.advance(by: 4_000)
        await s.tick()
        #expect(try await s.job(job.id).state == .running)
    }

    // MARK: drain

    @Test func drainedNodeGetsNothingUntilUndrained() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var agent = try await AgentConn(s, node: "n1", registering: smallTopology())
        let info = try await s.drain("n1", reason: "new DIMMs")
        #expect(info.status == .drained)
        #expect(info.drainReason == "new DIMMs")

        let job = try await s.submit(spec())
        #expect(job.state == .pending)
        #expect(job.reason?.contains("draining") == true)
        #expect(try await s.logRecords(LogQuery(job: job.id)).last?.summary.contains("draining") == true)
        #expect(await agent.received().isEmpty)

        let undrained = try await s.undrain("n1")
        #expect(undrained.drainReason == nil)
        #expect(try await s.job(job.id).state == .starting)
        #expect(await agent.received().compactMap(\.startTask).map(\.ref.job) == [job.id])
        #expect(await s.listNodes(topology: false).first?.status == .ready)
    }

    @Test func drainingNodeLetsRunningTasksFinish() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var agent = try await AgentConn(s, node: "n1", registering: smallTopology())
        let job = try await s.submit(spec())
        await agent.started(job.id)
        let info = try await s.drain("n1", reason: nil)
        #expect(info.status == .draining)
        #expect(info.drainReason == "drained by operator")
        #expect(try await s.job(job.id).state == .running)
        let next = try await s.submit(spec())
        #expect(next.state == .pending)
        await agent.exited(job.id, TaskExit(exitCode: 0))
        #expect(try await s.job(job.id).state == .completed)
        #expect(await s.listNodes(topology: false).first?.status == .drained)
        #expect(try await s.job(next.id).state == .pending)
        let lines = await agent.received()
        #expect(lines.compactMap(\.startTask).map(\.ref.job) == [job.id])
    }

    @Test func drainOrUndrainUnknownNodeIsNotFound() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        await expectReply(.notFound) { try await s.drain("nope", reason: nil) }
        await expectReply(.notFound) { try await s.undrain("nope") }
    }

    @Test func drainPersistsAcrossRestart() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        do {
            let s1 = try h.makeScheduler()
            _ = try await AgentConn(s1, node: "n1", registering: smallTopology())
            _ = try await s1.drain("n1", reason: "rack move")
        }
        #expect(try h.openStore().allNodes().first?.drained == true)
        let s2 = try h.makeScheduler()
        var agent = await AgentConn(s2, node: "n1")
        let lines = try await agent.register(smallTopology())
        #expect(lines.count == 1)
        let n = try #require(await s2.listNodes(topology: false).first)
        #expect(n.status == .drained)
        #expect(n.drainReason == "rack move")
        let job = try await s2.submit(spec())
        #expect(job.state == .pending)
        #expect(job.reason?.contains("draining") == true)

        _ = try await s2.undrain("n1")
        #expect(try h.openStore().allNodes().first?.drained == false)
        #expect(await agent.received().compactMap(\.startTask).map(\.ref.job) == [job.id])
    }
}
