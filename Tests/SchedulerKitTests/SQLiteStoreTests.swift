import Foundation
import SchedCore
import SchedProtocol
import SchedStore
import Testing
import SchedTestSupport

@Suite("SQLiteStore")
struct SQLiteStoreTests {
    /// A job record with every optional field set, to prove the round trip loses nothing.
    static func fullJob(_ id: JobID, state: JobState = .running) -> JobInfo {
        var j = JobInfo(id: id, spec: JobSpec(name: "train \"ü\" \(id)", command: ["/usr/bin/python3", "-c", "print('a b')"],
                                              resources: ResourceRequest(cpus: 3, memoryBytes: 5 * GiB, gpus: 1,
                                                                         gpuModel: "T4", arch: "x86_64"),
                                              env: ["A": "1", "PATH_EXTRA": "/opt/x:/opt/y"], workdir: "/scratch/w",
                                              killGraceSeconds: 7),
                        state: state, submittedAtMs: 1_700_000_000_123)
        j.startedAtMs = 1_700_000_001_000
        j.finishedAtMs = 1_700_000_002_000
        j.assignment = Assignment(node: "n1", pus: CPUSet([0, 1, 64]), numaNodes: NUMASet([0]), gpus: [1],
                                  memory: [NUMAMemory(numa: 0, bytes: 5 * GiB)])
        j.hostBinding = HostBinding(cpus: CPUSet([4, 5, 70]), numaNodes: NUMASet([1]))
        j.pid = 31337
        j.exit = TaskExit(exitCode: 3, signal: nil, error: nil)
        j.reason = "exit code 3"
        j.stdoutPath = "/var/lib/sched/out"
        j.stderrPath = "/var/lib/sched/err"
        j.cancelRequested = true
        return j
    }

    static func node(_ name: NodeID, drained: Bool = false, reason: String? = nil) -> StoredNode {
        StoredNode(name: name, topology: smallTopology(cores: 4, gpus: 2), emulated: true, drained: drained, drainReason: reason)
    }

    func record(job: Int64, node: NodeID? = nil) -> PlacementRecord {
        PlacementRecord(time: "2025-01-01T00:00:00.000Z", job: JobID(job), jobName: "j\(job)",
                        request: ResourceRequest(cpus: 2, memoryBytes: GiB),
                        decision: node.map { placed(on: $0, pus: [0, 1]) } ?? unplaceable())
    }

    @Test func insertJobAssignsIncreasingIDsFromOneAndRoundTrips() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("s.sqlite"))
        var seen: [JobID] = []
        var inserted: [JobInfo] = []
        for _ in 0..<3 {
            let job = try store.insertJob { id in
                seen.append(id)
                return Self.fullJob(id)
            }
            inserted.append(job)
        }
        #expect(seen == [JobID(1), JobID(2), JobID(3)])
        #expect(inserted.map(\.id) == seen)
        #expect(try store.allJobs() == inserted)
        #expect(try store.allJobs().first == Self.fullJob(JobID(1)))
    }

    @Test func minimalJobRoundTripsWithNilFields() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("s.sqlite"))
        let job = try store.insertJob { JobInfo(id: $0, spec: JobSpec(command: ["x"]), state: .pending, submittedAtMs: 0) }
        let back = try #require(try store.allJobs().first)
        #expect(back == job)
        #expect(back.assignment == nil && back.exit == nil && back.cancelRequested == nil && back.spec.name == nil)
    }

    @Test func updateJobPersists() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("s.sqlite")
        let store = try SQLiteStore(path: path)
        var job = try store.insertJob { JobInfo(id: $0, spec: spec("a"), state: .pending, submittedAtMs: 1) }
        _ = try store.insertJob { JobInfo(id: $0, spec: spec("b"), state: .pending, submittedAtMs: 2) }
        job.state = .completed
        job.exit = TaskExit(exitCode: 0)
        job.finishedAtMs = 99
        try store.updateJob(job)
        #expect(try store.allJobs().map(\.state) == [.completed, .pending])
        #expect(try store.allJobs().first == job)
        // Visible to another connection too, i.e. committed.
        #expect(try SQLiteStore(path: path).allJobs().first == job)
    }

    @Test func updatingUnknownJobThrows() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("s.sqlite"))
        _ = try store.insertJob { JobInfo(id: $0, spec: spec(), state: .pending, submittedAtMs: 1) }
        let ghost = JobInfo(id: JobID(42), spec: spec(), state: .completed, submittedAtMs: 1)
        #expect(throws: (any Error).self) { try store.updateJob(ghost) }
        // The failed update neither inserted the ghost nor touched the real job.
        #expect(try store.allJobs().map(\.id) == [JobID(1)])
        #expect(try store.allJobs().first?.state == .pending)
    }

    @Test func everythingSurvivesCloseAndReopen() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("s.sqlite")
        var jobs: [JobInfo] = []
        var nodes: [StoredNode] = []
        var records: [PlacementRecord] = []
        do {
            let store = try SQLiteStore(path: path)
            for i in 0..<5 { jobs.append(try store.insertJob { Self.fullJob($0, state: i % 2 == 0 ? .running : .pending) }) }
            jobs[2].state = .failed
            jobs[2].reason = "node n1 down"
            try store.updateJob(jobs[2])
            nodes = [Self.node("b-node", drained: true, reason: "maintenance"), Self.node("a-node")]
            for n in nodes { try store.saveNode(n) }
            records.append(try store.appendPlacement(record(job: 1, node: "a-node")))
            records.append(try store.appendPlacement(record(job: 2)))
            records.append(try store.appendPlacement(record(job: 3, node: "b-node")))
        }
        // The first store is gone (its connection closed); a new one sees the same state.
        let reopened = try SQLiteStore(path: path)
        #expect(try reopened.allJobs() == jobs)
        #expect(try reopened.allNodes() == nodes.sorted { $0.name < $1.name })
        #expect(try reopened.placements(LogQuery()) == records)
        // Ids and sequence numbers continue where they stopped.
        #expect(try reopened.insertJob { JobInfo(id: $0, spec: spec(), state: .pending, submittedAtMs: 0) }.id == JobID(6))
        #expect(try reopened.appendPlacement(record(job: 6)).seq == 4)
    }

    @Test func appendPlacementAssignsSequenceNumbers() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("s.sqlite"))
        var seqs: [Int64] = []
        for j in 1...4 { seqs.append(try store.appendPlacement(record(job: Int64(j))).seq) }
        #expect(seqs == [1, 2, 3, 4])
        let stored = try store.placements(LogQuery())
        #expect(stored.map(\.seq) == [1, 2, 3, 4])
        #expect(stored.map(\.job) == [JobID(1), JobID(2), JobID(3), JobID(4)])
        // The stored copy carries its seq, and otherwise equals what was appended.
        var expected = record(job: 1)
        expected.seq = 1
        #expect(stored.first == expected)
    }

    @Test func placementQueriesFilterByJobNodeAfterAndLimit() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("s.sqlite"))
        // seq: 1 job1 pending, 2 job1 n1, 3 job2 n2, 4 job3 n1, 5 job2 pending, 6 job4 n2,
        //      7 job5 n1, 8 job6 n1, 9 job7 pending, 10 job8 n1
        let plan: [(Int64, NodeID?)] = [(1, nil), (1, "n1"), (2, "n2"), (3, "n1"), (2, nil), (4, "n2"),
                                        (5, "n1"), (6, "n1"), (7, nil), (8, "n1")]
        for (j, n) in plan { _ = try store.appendPlacement(record(job: j, node: n)) }

        let byJob = try store.placements(LogQuery(job: JobID(2)))
        #expect(byJob.map(\.seq) == [3, 5])
        #expect(byJob.allSatisfy { $0.job == JobID(2) })

        let byNode = try store.placements(LogQuery(node: "n1"))
        #expect(byNode.map(\.seq) == [2, 4, 7, 8, 10])
        #expect(byNode.allSatisfy { $0.node == "n1" })

        #expect(try store.placements(LogQuery(job: JobID(1), node: "n1")).map(\.seq) == [2])
        #expect(try store.placements(LogQuery(after: 6)).map(\.seq) == [7, 8, 9, 10])
        #expect(try store.placements(LogQuery(after: 10)).isEmpty)
        #expect(try store.placements(LogQuery(node: "n2", after: 3)).map(\.seq) == [6])

        // limit: the newest N, oldest first.
        #expect(try store.placements(LogQuery(limit: 3)).map(\.seq) == [8, 9, 10])
        #expect(try store.placements(LogQuery(node: "n1", limit: 2)).map(\.seq) == [8, 10])
        #expect(try store.placements(LogQuery(after: 2, limit: 2)).map(\.seq) == [9, 10])
        #expect(try store.placements(LogQuery(limit: 100)).map(\.seq) == Array(1...10))
        #expect(try store.placements(LogQuery(job: JobID(99))).isEmpty)
    }

    @Test func saveNodeUpserts() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("s.sqlite")
        let store = try SQLiteStore(path: path)
        var n = Self.node("n1")
        try store.saveNode(n)
        try store.saveNode(Self.node("n2"))
        n.drained = true
        n.drainReason = "bad DIMM"
        try store.saveNode(n)
        #expect(try store.allNodes().count == 2)
        #expect(try store.allNodes().first == n)
        n.drained = false
        n.drainReason = nil
        n.topology = smallTopology(cores: 8)
        try store.saveNode(n)
        let reopened = try SQLiteStore(path: path)
        #expect(try reopened.allNodes().map(\.name) == ["n1", "n2"])
        #expect(try reopened.allNodes().first == n)
    }

    @Test func openingInMissingDirectoryThrowsNamingThePath() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("no/such/dir/schedd.sqlite")
        do {
            _ = try SQLiteStore(path: path)
            Issue.record("opening \(path) should fail")
        } catch let e as StoreError {
            #expect(e.message.contains(path))
            #expect(e.description == e.message)
        } catch {
            Issue.record("expected StoreError, got \(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("no")))
    }

    @Test(arguments: [
        Data("this is not a sqlite database, just some text that goes on for a while\n".utf8),
        Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }),
    ])
    func garbageFileThrowsInsteadOfCrashing(_ garbage: Data) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("schedd.sqlite")
        try garbage.write(to: URL(fileURLWithPath: path))
        do {
            _ = try SQLiteStore(path: path)
            Issue.record("a garbage file should not open as a store")
        } catch let e as StoreError {
            #expect(e.message.contains(path))
        } catch {
            Issue.record("expected StoreError, got \(error)")
        }
        // The file is left as it was.
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
    }

    @Test func eachWriteIsCommittedBeforeItReturns() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("s.sqlite")
        let writer = try SQLiteStore(path: path)
        let n = 50
        var written: [JobInfo] = []
        for i in 0..<n {
            written.append(try writer.insertJob { JobInfo(id: $0, spec: spec("j\(i)"), state: .pending, submittedAtMs: Int64(i)) })
            if i % 10 == 9 { _ = try writer.appendPlacement(record(job: Int64(i + 1))) }
        }
        try writer.saveNode(Self.node("n1", drained: true, reason: "x"))
        // A second connection, opened while the first is still open, sees every write.
        let reader = try SQLiteStore(path: path)
        #expect(try reader.allJobs() == written)
        #expect(try reader.placements(LogQuery()).count == n / 10)
        #expect(try reader.allNodes().first?.drained == true)
        // And the other way round.
        _ = try reader.insertJob { JobInfo(id: $0, spec: spec("from reader"), state: .pending, submittedAtMs: 0) }
        #expect(try writer.allJobs().count == n + 1)
        #expect(try writer.allJobs().last?.id == JobID(Int64(n + 1)))
    }

    @Test func fileIsInWALMode() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("s.sqlite")
        let store = try SQLiteStore(path: path)
        _ = try store.insertJob { JobInfo(id: $0, spec: spec(), state: .pending, submittedAtMs: 0) }
        // journal_mode is persistent in the file: check it with the sqlite3 CLI when present.
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3") else { return }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        p.arguments = [path, "PRAGMA journal_mode; SELECT count(*) FROM jobs;"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(text.split(separator: "\n").map(String.init) == ["wal", "1"])
    }
}
