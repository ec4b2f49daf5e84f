import SchedCore
import SchedProtocol
import SchedStore
import SchedulerKit
import Synchronization
import Testing
import SchedTestSupport

/// A real SQLite store whose writes can be made to fail, as a full disk or a locked file would.
final class FlakyStore: SchedulerStore {
    let inner: SQLiteStore
    private let failing = Mutex(false)

    init(path: String) throws { inner = try SQLiteStore(path: path) }

    func failWrites(_ on: Bool) { failing.withLock { $0 = on } }
    private func check() throws { if failing.withLock({ $0 }) { throw StoreError("disk full (test)") } }

    func insertJob(_ make: (JobID) -> JobInfo) throws -> JobInfo { try check(); return try inner.insertJob(make) }
    func updateJob(_ job: JobInfo) throws { try check(); try inner.updateJob(job) }
    func allJobs() throws -> [JobInfo] { try inner.allJobs() }
    func appendPlacement(_ record: PlacementRecord) throws -> PlacementRecord { try check(); return try inner.appendPlacement(record) }
    func placements(_ query: LogQuery) throws -> [PlacementRecord] { try inner.placements(query) }
    func saveNode(_ node: StoredNode) throws { try check(); try inner.saveNode(node) }
    func allNodes() throws -> [StoredNode] { try inner.allNodes() }
    func auditRecords(sinceMs: Int64?, limit: Int) throws -> [AuditRecord] { try inner.auditRecords(sinceMs: sinceMs, limit: limit) }
    func appendAudit(_ records: [AuditRecord]) throws { try inner.appendAudit(records) }
}

/// "Every change is written to the store before it is acknowledged or acted on". The rules under a
/// refusing store are tested on the control plane itself (Tests/ControlPlaneTests/ControlPlaneDurabilityTests.swift).
@Suite("Scheduler: durability rules", .timeLimit(.minutes(1)))
struct SchedulerDurabilityTests {
    func make(_ h: Harness) throws -> (Scheduler, FlakyStore) {
        let store = try FlakyStore(path: h.storePath)
        return (try h.makeScheduler(config: h.config, store: store), store)
    }

    @Test func submitThatCannotBeStoredIsRefusedAndForgotten() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let (s, store) = try make(h)
        store.failWrites(true)
        let e = await expectReply(.unavailable) { try await s.submit(spec()) }
        #expect(e?.message.contains("disk full") == true)
        #expect(await s.listJobs(ListJobs()).isEmpty)
        store.failWrites(false)
        #expect(try await s.submit(spec()).id == JobID(1))
    }
}
