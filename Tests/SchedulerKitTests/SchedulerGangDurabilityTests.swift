import SchedCore
import SchedProtocol
import SchedStore
import SchedulerKit
import Synchronization
import Testing

/// A SQLite store whose `updateJob` fails once, on a chosen call after it is armed.
final class OneFailureStore: SchedulerStore {
    let inner: SQLiteStore
    /// Job updates still to pass before the one that fails; nil when not armed.
    private let countdown = Mutex<Int?>(nil)

    init(path: String) throws { inner = try SQLiteStore(path: path) }

    /// Lets `passing` job updates through, fails the next one, then works again.
    func failUpdate(after passing: Int) { countdown.withLock { $0 = passing } }

    func insertJob(_ make: (JobID) -> JobInfo) throws -> JobInfo { try inner.insertJob(make) }
    func insertJobs(count: Int, _ make: (JobID, Int) -> JobInfo) throws -> [JobInfo] { try inner.insertJobs(count: count, make) }
    func updateJob(_ job: JobInfo) throws {
        let fail = countdown.withLock { c -> Bool in
            guard let n = c else { return false }
            if n == 0 { c = nil; return true }
            c = n - 1
            return false
        }
        if fail { throw StoreError("disk full (test)") }
        try inner.updateJob(job)
    }
    func allJobs() throws -> [JobInfo] { try inner.allJobs() }
    func appendPlacement(_ record: PlacementRecord) throws -> PlacementRecord { try inner.appendPlacement(record) }
    func placements(_ query: LogQuery) throws -> [PlacementRecord] { try inner.placements(query) }
    func saveNode(_ node: StoredNode) throws { try inner.saveNode(node) }
    func allNodes() throws -> [StoredNode] { try inner.allNodes() }
}

@Suite("Scheduler: a gang's placement is stored whole before it is acted on", .timeLimit(.minutes(1)))
struct SchedulerGangDurabilityTests {
    @Test("a store failure on the second member starts no member and leaves the whole gang pending")
    func gangPlacementNotStoredStartsNothing() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let store = try OneFailureStore(path: h.storePath)
        let clock = h.clock
        let s = try Scheduler(store: store,
                              config: SchedulerConfig(listen: .init(host: "127.0.0.1", port: 0), stateDir: h.dir.path,
                                                      heartbeatIntervalMs: 1000, nodeTimeoutMs: 5000),
                              logger: quietLogger, monotonicMs: { clock.now })
        var agent = await AgentConn(s, node: "n1")
        _ = try await agent.register(smallTopology(cores: 4, threads: 1))
        var g = spec("gang", cpus: 2)
        g.array = 2
        g.gang = true
        store.failUpdate(after: 1)                 // the first member's placement is stored, the second's is not
        let first = try await s.submit(g)
        let ids = [first.id, JobID(first.id.rawValue + 1)]
        let starts = await agent.received().compactMap(\.startTask)
        #expect(starts.isEmpty, "members started although the gang's placement was not stored: \(starts.map(\.ref.job))")
        for id in ids {
            #expect(try await s.job(id).state == .pending)
            #expect(try h.openStore().allJobs().first { $0.id == id }?.state == .pending)
        }
        // The store works again: the next pass places the whole gang, on the PUs nobody holds.
        await s.schedulePendingFromTick()
        let again = await agent.received().compactMap(\.startTask)
        #expect(Set(again.map(\.ref.job)) == Set(ids))
        let pus = again.map(\.assignment.pus)
        #expect(pus.count == 2 && pus[0].isDisjoint(with: pus[1]))
    }
}
