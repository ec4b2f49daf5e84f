import Foundation
import Logging
import SchedCore
import SchedNet
import SchedProtocol
import SchedStore
import Synchronization
import Testing
import SchedulerKit
import SchedTestSupport

/// A fresh directory under the system temp dir; `remove()` deletes it.
struct TempDir {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("schedulerkit-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A monotonic clock the tests move by hand.
final class TestClock: Sendable {
    private let ms = Mutex<Int64>(0)
    var now: Int64 { ms.withLock { $0 } }
    func advance(by delta: Int64) { ms.withLock { $0 += delta } }
}

let quietLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

/// One state directory and clock; `makeScheduler()` opens a new store on the same file each
/// time, as a restarted schedd would.
struct Harness {
    let dir: TempDir
    let clock = TestClock()

    init() throws { dir = try TempDir() }

    var storePath: String { dir.file("schedd.sqlite") }

    /// schedd's settings in these tests: 127.0.0.1 on port 0, this state directory, a 1 s
    /// heartbeat and a 5 s node timeout; everything else at its default.
    var config: SchedulerConfig {
        SchedulerConfig(listen: HostPort(host: "127.0.0.1", port: 0), stateDir: dir.path,
                        heartbeatIntervalMs: 1000, nodeTimeoutMs: 5000)
    }

    func makeScheduler(groupCommit: Bool = false, heartbeatsPerSecond: Int = 500, minJobAgeSeconds: Int = 300,
                       store: (any SchedulerStore)? = nil, storeRetrySeconds: Double = 10) throws -> Scheduler {
        var config = self.config
        config.groupCommit = groupCommit
        config.heartbeatsPerSecond = heartbeatsPerSecond
        config.minJobAgeSeconds = minJobAgeSeconds
        config.storeRetrySeconds = storeRetrySeconds
        return try makeScheduler(config: config, store: store)
    }

    /// A scheduler with exactly `config`, on `store` (by default a new store on the state file),
    /// reading the harness's clock.
    func makeScheduler(config: SchedulerConfig, store: (any SchedulerStore)? = nil,
                       logger: Logger = quietLogger) throws -> Scheduler {
        let store = try store ?? SQLiteStore(path: storePath)
        let clock = self.clock
        return try Scheduler(store: store, config: config, logger: logger, monotonicMs: { clock.now })
    }

    /// A scheduler on this state directory runs `spec` on agent `node` (registered with
    /// `topology`) and is then dropped, as schedd killed with -9 would be; returns the job. The
    /// store holds the job running on `node`, whose agent has not registered again yet.
    func jobRunningWhenKilled(_ spec: JobSpec = spec(), on node: NodeID = "n1",
                              _ topology: NodeTopology = smallTopology()) async throws -> JobID {
        let s = try makeScheduler()
        let agent = try await AgentConn(s, node: node, registering: topology)
        let job = try await s.submit(spec).id
        await agent.started(job)
        return job
    }

    /// A second view of the store file, to check what is durable.
    func openStore() throws -> SQLiteStore { try SQLiteStore(path: storePath) }

    func cleanup() { dir.remove() }
}

/// The scheduler's side of one simulated agent connection.
///
/// `received()` returns exactly the lines the scheduler sent this agent since the last call: it
/// sends a sentinel (a TASK_STARTED for a job that does not exist, which the scheduler answers
/// with a KILL_TASK and no other effect) and reads up to the sentinel's answer. The stream is
/// buffered, so nothing waits on lines that will never come. Sentinel job ids start at 900000000;
/// tests use small ids.
struct AgentConn {
    let scheduler: Scheduler
    let node: NodeID
    let linkID: UInt64
    private var iterator: AsyncStream<String>.Iterator
    private var sentinels: Int64 = 0
    private static let sentinelBase: Int64 = 900_000_000

    init(_ scheduler: Scheduler, node: NodeID) async {
        self.scheduler = scheduler
        self.node = node
        let (id, stream) = await scheduler.openLink()
        linkID = id
        iterator = stream.makeAsyncIterator()
    }

    /// Opens a link for `node` and registers `topology` (with `tasks`) on it, dropping the lines
    /// sent in response: an agent that has just joined.
    init(_ scheduler: Scheduler, node: NodeID, registering topology: NodeTopology, tasks: [TaskReport] = [],
         emulated: Bool = false) async throws {
        await self.init(scheduler, node: node)
        _ = try await register(topology, tasks: tasks, emulated: emulated)
    }

    /// Registers and returns the lines sent in response.
    mutating func register(_ topology: NodeTopology, tasks: [TaskReport] = [], emulated: Bool = false) async throws -> [Message] {
        try await scheduler.register(Register(node: node, topology: topology, emulated: emulated, tasks: tasks), linkID: linkID)
        return await received()
    }

    /// Every line sent to this agent since the last call (up to the end of the stream if it was finished).
    mutating func received(sourceLocation: SourceLocation = #_sourceLocation) async -> [Message] {
        sentinels += 1
        let ref = TaskRef(job: JobID(Self.sentinelBase + Int64(linkID) * 100_000 + sentinels))
        await scheduler.taskStarted(TaskStarted(ref: ref, pid: 1, binding: someBinding, stdoutPath: "", stderrPath: ""),
                                    node: node)
        var out: [Message] = []
        while let line = await iterator.next() {
            do {
                let m = try LineCodec.decode(Substring(line))
                if case .killTask(let k) = m, k.ref.job.rawValue >= Self.sentinelBase {
                    // Ours ends the read; another connection's (sent after this link took over its node) is dropped.
                    if k.ref == ref { return out }
                    continue
                }
                out.append(m)
            } catch {
                Issue.record("scheduler sent an undecodable line: \(line) (\(error))", sourceLocation: sourceLocation)
            }
        }
        return out
    }

    func started(_ job: JobID, pid: Int32 = 4242, binding: HostBinding = someBinding) async {
        await scheduler.taskStarted(TaskStarted(ref: TaskRef(job: job), pid: pid, binding: binding,
                                                stdoutPath: "/tmp/\(job).out", stderrPath: "/tmp/\(job).err"), node: node)
    }

    func exited(_ job: JobID, _ exit: TaskExit) async {
        await scheduler.taskExited(TaskExited(ref: TaskRef(job: job), exit: exit), node: node)
    }

    func heartbeat() async throws {
        try await scheduler.heartbeat(Heartbeat(node: node, running: 0), linkID: linkID)
    }
}

/// A job of `tenant` (its command `x` never runs: the agents are simulated).
func spec(_ name: String, cpus: Int, tenant: String) -> JobSpec {
    JobSpec(name: name, command: ["x"], resources: ResourceRequest(cpus: cpus), tenant: tenant)
}

/// Expects `body` to throw an `ErrorReply` with `code`; returns it.
@discardableResult
func expectReply<T>(_ code: WireErrorCode, sourceLocation: SourceLocation = #_sourceLocation,
                    _ body: () async throws -> T) async -> ErrorReply? {
    do {
        let value = try await body()
        Issue.record("expected ErrorReply \(code), got \(value)", sourceLocation: sourceLocation)
        return nil
    } catch let e as ErrorReply {
        #expect(e.code == code, "message: \(e.message)", sourceLocation: sourceLocation)
        return e
    } catch {
        Issue.record("expected ErrorReply \(code), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// A placement decision for store tests.
func unplaceable(evaluated: Int = 0) -> PlacementDecision {
    .unplaceable(PlacementExplanation(policy: "best-fit", nodesEvaluated: evaluated, nodesFeasible: 0,
                                      rejections: [], topCandidates: []))
}

func placed(on node: NodeID, pus: [Int]) -> PlacementDecision {
    .placed(Assignment(node: node, pus: CPUSet(pus), numaNodes: NUMASet([0]), memory: [NUMAMemory(numa: 0, bytes: GiB)]),
            score: 50,
            PlacementExplanation(policy: "best-fit", nodesEvaluated: 1, nodesFeasible: 1, rejections: [],
                                 topCandidates: [CandidateScore(node: node, score: 50)]))
}
