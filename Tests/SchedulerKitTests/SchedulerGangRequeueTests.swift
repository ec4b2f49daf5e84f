import SchedCore
import SchedProtocol
import SchedulerKit
import Testing
import SchedTestSupport

/// A preempted gang is requeued member by member, as its members' exits arrive; it must be placed
/// again whole, never one member while a sibling is still stopping.
@Suite("Gangs in the scheduler: requeued victim gangs")
struct SchedulerGangRequeueTests {
    @Test("a preempted gang's first requeued member is not placed while its sibling is still stopping")
    func requeuedVictimGangWaitsForAllMembers() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var a = try await AgentConn(s, node: "n1", registering: smallTopology(cores: 3, threads: 1))
        var b = try await AgentConn(s, node: "n2", registering: smallTopology(cores: 3, threads: 1))
        var low = spec("low", cpus: 2)
        low.array = 2
        low.gang = true
        low.preemptible = true
        let first = try await s.submit(low)
        let ids = [first.id, JobID(first.id.rawValue + 1)]
        var nodeOf: [JobID: NodeID] = [:]
        for id in ids {
            let j = try await s.job(id)
            let node: NodeID = try #require(j.node)
            nodeOf[id] = node
        }
        #expect(Set(nodeOf.values) == ["n1", "n2"])
        for id in ids { if nodeOf[id] == "n1" { await a.started(id) } else { await b.started(id) } }
        _ = await a.received()
        _ = await b.received()
        // A third node that can hold one member (2 PUs) but not the urgent job (3 PUs).
        var c = try await AgentConn(s, node: "n3", registering: smallTopology(cores: 2, threads: 1))
        var urgentSpec = spec("urgent", cpus: 3)
        urgentSpec.priority = 10
        _ = try await s.submit(urgentSpec)
        let kills = await a.received().compactMap(\.killTask) + (await b.received()).compactMap(\.killTask)
        #expect(Set(kills.map(\.ref.job)) == Set(ids))
        // One member stops and is requeued; its sibling is still stopping.
        let (gone, stillRunning) = nodeOf[ids[0]] == "n1" ? (ids[0], ids[1]) : (ids[1], ids[0])
        await a.exited(gone, TaskExit(signal: 15))
        #expect(try await s.job(gone).state == .pending)
        #expect(try await s.job(stillRunning).state == .running)
        let startsOnC = await c.received().compactMap(\.startTask)
        #expect(startsOnC.isEmpty, "member \(gone) placed alone while \(stillRunning) still runs: \(startsOnC.map(\.ref.job))")
        #expect(try await s.job(gone).state == .pending)
        // The sibling stops too: the whole gang is placed again, together.
        await b.exited(stillRunning, TaskExit(signal: 15))
        let starts = (await a.received() + (await b.received()) + (await c.received())).compactMap(\.startTask)
        #expect(Set(starts.filter { ids.contains($0.ref.job) }.map(\.ref.job)) == Set(ids))
        #expect(starts.filter { ids.contains($0.ref.job) }.allSatisfy { $0.gangNodes?.count == 2 })
    }
}
