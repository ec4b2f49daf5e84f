import SchedCore
import SchedProtocol
import SchedStore
import SchedulerKit
import Synchronization
import Testing
import SchedTestSupport

/// Set once, read from another task.
private final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

@Suite("Scheduler: commits pipelined on the store-writer thread", .timeLimit(.minutes(1)))
struct SchedulerPipelinedCommitTests {
    @Test("writes made while a commit is in flight wait for the next one; when the first fails, both are stored, in order")
    func failedCommitInFlightIsRetriedWithTheNextBatch() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let store = FailingCommitStore(try SQLiteStore(path: h.storePath))
        // The held batch waits on the test, not on the store: no "accepted, not stored yet"
        // deadline may pass meanwhile, however slow the machine.
        let s = try h.makeScheduler(groupCommit: true, store: store, storeRetrySeconds: 600)
        var agent = try await AgentConn(s, node: "n1", registering: smallTopology(cores: 2, threads: 1))
        // A runs on the only node; B waits for it; the node is drained so A's exit places nothing.
        let a = try await s.submit(spec("a", cpus: 2))
        let b = try await s.submit(spec("b", cpus: 2))
        await agent.started(a.id)
        _ = try await s.drain("n1", reason: "test")
        #expect(await s.commitDurably(seconds: 10))
        _ = await agent.received()

        // First batch: A's exit and its ACK_EXIT, held on the writer thread, then refused.
        store.holdNext.withLock { $0 = true }
        store.failNext.withLock { $0 = true }
        await agent.exited(a.id, TaskExit(exitCode: 0))
        await store.waitUntilHeld()
        // Second batch, made while the first is in flight: the undrain and B's placement. The
        // undrain is confirmed only once stored, so it runs beside us; reads answer at once.
        let answered = Flag()
        let undrain = Task {
            defer { answered.set() }
            return try await s.undrain("n1")
        }
        var placed = false
        for _ in 0..<100_000 where !placed {
            placed = try await s.job(b.id).state == .starting
            if !placed { await Task.yield() }
        }
        #expect(placed)
        #expect(try h.openStore().allJobs().map(\.state) == [.running, .pending])
        // Its batch cannot be stored while the first is held: it must not be confirmed yet (a
        // confirmation sent early would have reached the task within these yields).
        for _ in 0..<1000 where !answered.isSet { await Task.yield() }
        #expect(!answered.isSet, "UNDRAIN was confirmed before it was stored")
        store.release()
        #expect(try await undrain.value.status == .ready)

        // The retry stores both batches; ACK_EXIT (first batch) leaves before START_TASK (second).
        #expect(await s.commitDurably(seconds: 10))
        #expect(await s.uncommittedWrites == 0)
        #expect(try h.openStore().allJobs().map(\.state) == [.completed, .starting])
        #expect(try h.openStore().allNodes().first?.drained == false)
        let lines = await agent.received()
        #expect(lines.compactMap { $0.ackExit?.ref.job ?? $0.startTask?.ref.job } == [a.id, b.id])
        #expect(lines.firstIndex { $0.ackExit != nil }! < lines.firstIndex { $0.startTask != nil }!)
    }
}
