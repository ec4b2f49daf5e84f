import Dispatch
import SchedCore
import SchedProtocol
import SchedStore
import SchedulerKit
import Synchronization
import Testing

/// A store whose next commit can be held on the writer thread (until `release()`) and made to fail.
final class GatedStore: SchedulerStore {
    let inner: SQLiteStore
    let holdNext = Mutex(false)
    let failNext = Mutex(false)
    let commitsStored = Mutex(0)
    private let entered = DispatchSemaphore(value: 0)
    private let gate = DispatchSemaphore(value: 0)
    init(_ inner: SQLiteStore) { self.inner = inner }

    /// Returns once a held commit is on the writer thread.
    func waitUntilHeld() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                self.entered.wait()
                c.resume()
            }
        }
    }
    func release() { gate.signal() }

    func insertJob(_ make: (JobID) -> JobInfo) throws -> JobInfo { try inner.insertJob(make) }
    func insertJobs(count: Int, _ make: (JobID, Int) -> JobInfo) throws -> [JobInfo] { try inner.insertJobs(count: count, make) }
    func updateJob(_ job: JobInfo) throws { try inner.updateJob(job) }
    func allJobs() throws -> [JobInfo] { try inner.allJobs() }
    func appendPlacement(_ record: PlacementRecord) throws -> PlacementRecord { try inner.appendPlacement(record) }
    func placements(_ query: LogQuery) throws -> [PlacementRecord] { try inner.placements(query) }
    func saveNode(_ node: StoredNode) throws { try inner.saveNode(node) }
    func allNodes() throws -> [StoredNode] { try inner.allNodes() }
    func commit(jobs: [JobInfo], nodes: [StoredNode], placements: [PlacementRecord]) throws -> [PlacementRecord] {
        if holdNext.withLock({ h in defer { h = false }; return h }) {
            entered.signal()
            gate.wait()
        }
        if failNext.withLock({ f in defer { f = false }; return f }) { throw StoreError("disk full (test)") }
        let stored = try inner.commit(jobs: jobs, nodes: nodes, placements: placements)
        commitsStored.withLock { $0 += 1 }
        return stored
    }
}

@Suite("Scheduler: commits pipelined on the store-writer thread", .timeLimit(.minutes(1)))
struct SchedulerPipelinedCommitTests {
    @Test("writes made while a commit is in flight wait for the next one; when the first fails, both are stored, in order")
    func failedCommitInFlightIsRetriedWithTheNextBatch() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let store = GatedStore(try SQLiteStore(path: h.storePath))
        let s = try h.makeScheduler(groupCommit: true, store: store)
        var agent = await AgentConn(s, node: "n1")
        _ = try await agent.register(smallTopology(cores: 2, threads: 1))
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
        // Second batch, made while the first is in flight: the undrain and B's placement.
        _ = try await s.undrain("n1")
        #expect(try await s.job(b.id).state == .starting)
        #expect(try h.openStore().allJobs().map(\.state) == [.running, .pending])
        store.release()

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
