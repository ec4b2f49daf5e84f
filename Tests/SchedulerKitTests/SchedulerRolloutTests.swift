import SchedCore
import SchedProtocol
import SchedulerKit
import Testing
import SchedTestSupport

@Suite("Rolling updates of services")
struct SchedulerRolloutTests {
    func service(_ command: String, replicas: Int) -> JobSpec {
        var s = JobSpec(name: "web", command: [command], resources: ResourceRequest(cpus: 1))
        s.service = true
        s.array = replicas
        return s
    }

    /// Starts every START_TASK the agent was sent; returns the commands started by job.
    func startAll(_ agent: inout AgentConn) async -> [JobID: [String]] {
        var out: [JobID: [String]] = [:]
        for st in await agent.received().compactMap(\.startTask) {
            out[st.ref.job] = st.command
            await agent.started(st.ref.job)
        }
        return out
    }

    @Test("replicas are replaced one at a time, the next only after the new one runs; show gives the progress")
    func oneAtATime() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var agent = try await AgentConn(s, node: "n1", registering: smallTopology(cores: 4, threads: 1))
        let first = try await s.submit(service("v1", replicas: 3))
        let ids = (0..<3).map { JobID(first.id.rawValue + Int64($0)) }
        #expect(await startAll(&agent).count == 3)
        let updated = try await s.update(ids[2], to: service("v2", replicas: 3))
        #expect(updated.rolloutProgress == RolloutProgress(revision: 2, updated: 0, total: 3, replacing: ids[0]))
        for (step, id) in ids.enumerated() {
            // Exactly one replica is being stopped.
            let kills = await agent.received().compactMap(\.killTask)
            #expect(kills.map(\.ref.job) == [id], "step \(step)")
            #expect(kills.first?.reason == "replaced by revision 2")
            await agent.exited(id, TaskExit(signal: 15))
            // It starts again at once (no restart back-off) with the new template ...
            let msgs = await agent.received()
            #expect(msgs.compactMap(\.startTask).map(\.command) == [["v2"]])
            #expect(msgs.compactMap(\.killTask).isEmpty, "the next replica waits until the new one runs")
            #expect(try await s.job(id).revision == 2)
            #expect(try await s.job(id).rolloutProgress?.updated == (step == 2 ? nil : step + 1))
            // ... and only once it runs is the next one replaced.
            await agent.started(id)
        }
        #expect(await agent.received().compactMap(\.killTask).isEmpty)
        for id in ids {
            let j = try await s.job(id)
            #expect(j.state == .running && j.spec.command == ["v2"] && j.revision == 2 && j.rollout == nil && j.rolloutProgress == nil)
        }
    }

    @Test("a schedd restart mid-rollout continues it: the stop is asked for again and the rest follow")
    func restartContinues() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        var ids: [JobID] = []
        do {
            let s = try h.makeScheduler()
            var agent = try await AgentConn(s, node: "n1", registering: smallTopology(cores: 4, threads: 1))
            let first = try await s.submit(service("v1", replicas: 2))
            ids = [first.id, JobID(first.id.rawValue + 1)]
            _ = await startAll(&agent)
            _ = try await s.update(ids[0], to: service("v2", replicas: 2))
            #expect(await agent.received().compactMap(\.killTask).map(\.ref.job) == [ids[0]])
        }
        let s2 = try h.makeScheduler()
        var agent2 = await AgentConn(s2, node: "n1")
        let reply = try await agent2.register(smallTopology(cores: 4, threads: 1),
                                              tasks: ids.map { TaskReport(ref: TaskRef(job: $0), pid: 5, binding: someBinding) })
        #expect(reply.compactMap(\.killTask).map(\.ref.job) == [ids[0]])
        await agent2.exited(ids[0], TaskExit(signal: 15))
        #expect(await agent2.received().compactMap(\.startTask).map(\.command) == [["v2"]])
        await agent2.started(ids[0])
        #expect(await agent2.received().compactMap(\.killTask).map(\.ref.job) == [ids[1]])
        await agent2.exited(ids[1], TaskExit(signal: 15))
        _ = await agent2.received()
        await agent2.started(ids[1])
        #expect(try await s2.job(ids[1]).rolloutProgress == nil)
        #expect(try await s2.job(ids[1]).spec.command == ["v2"])
    }

    @Test("only services can be updated, keeping service and the number of replicas")
    func badUpdates() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        let plain = try await s.submit(spec("plain"))
        await expectReply(.conflict) { try await s.update(plain.id, to: service("v2", replicas: 1)) }
        let svc = try await s.submit(service("v1", replicas: 2))
        let e = await expectReply(.invalidSpec) { try await s.update(svc.id, to: service("v2", replicas: 3)) }
        #expect(e?.message == "array: an update keeps the number of replicas (2), got 3")
        var notService = service("v2", replicas: 2)
        notService.service = nil
        await expectReply(.invalidSpec) { try await s.update(svc.id, to: notService) }
        await expectReply(.notFound) { try await s.update(JobID(999), to: service("v2", replicas: 2)) }
    }
}
