import SchedCore
import SchedProtocol
import SchedStore
import SchedulerKit
import Testing
import SchedTestSupport

@Suite("Job arrays and priority")
struct SchedulerArrayPriorityTests {
    @Test("an array of 6 is stored at once with consecutive ids and placed as capacity allows")
    func arrayIsStoredTogetherAndPlaced() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var agent = try await AgentConn(s, node: "n1", registering: smallTopology(cores: 2, threads: 2))   // 4 PUs
        var sp = spec("sweep", cpus: 1)
        sp.array = 6
        let (first, count) = try await s.submitAll(sp)
        #expect(count == 6)
        let ids = (0..<6).map { JobID(first.id.rawValue + Int64($0)) }
        // Every member is durable, with its index and the array's first id.
        let stored = try h.openStore().allJobs()
        #expect(stored.map(\.id) == ids)
        #expect(stored.map(\.arrayIndex) == [0, 1, 2, 3, 4, 5])
        #expect(stored.allSatisfy { $0.arrayJob == first.id })
        // 4 PUs: four members start, two wait; the START_TASK lines carry the array fields.
        let starts = await agent.received().compactMap(\.startTask)
        #expect(starts.map(\.ref.job) == Array(ids.prefix(4)))
        #expect(starts.map(\.arrayIndex) == [0, 1, 2, 3])
        #expect(starts.allSatisfy { $0.arrayJob == first.id })
        #expect(try await s.job(ids[4]).state == .pending)
        // One finishes: the next member starts.
        await agent.started(ids[0])
        await agent.exited(ids[0], TaskExit(exitCode: 0))
        let next = await agent.received().compactMap(\.startTask)
        #expect(next.map(\.ref.job) == [ids[4]])
    }

    @Test("an array that fails to store leaves no member behind")
    func arrayIsAllOrNothing() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var sp = spec("bad", cpus: 1)
        sp.array = 0
        await expectReply(.invalidSpec) { _ = try await s.submitAll(sp) }
        #expect(try h.openStore().allJobs().isEmpty)
    }

    @Test("a higher-priority pending job is placed before older ones")
    func priorityOrdersThePendingQueue() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        // No node yet: everything waits.
        let low = try await s.submit(spec("low", cpus: 4))
        var urgent = spec("urgent", cpus: 4)
        urgent.priority = 10
        let high = try await s.submit(urgent)
        var agent = await AgentConn(s, node: "n1")
        let lines = try await agent.register(smallTopology(cores: 2, threads: 2))   // room for one
        #expect(lines.compactMap(\.startTask).map(\.ref.job) == [high.id])
        #expect(try await s.job(low.id).state == .pending)
    }
}
