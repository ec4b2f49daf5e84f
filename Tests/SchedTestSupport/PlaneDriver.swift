import SchedControlPlane
import SchedCore
import SchedProtocol
import Testing

/// Drives a `ControlPlane` by hand, with no shell: the test is the shell. Events go in with
/// `handle`; the actions that come back are returned (log lines left out) and noted: armed
/// timers (with the time they are due), the commit handed to the store, inserts. Nothing happens
/// unless the test makes it happen: a `.commit` stays in flight until `finishCommit`, a timer
/// fires only through `fire` or `run(forMs:store:)`. Inserts are answered at once with ids from
/// 1 up, as the store would assign them.
public struct PlaneDriver {
    public var plane: ControlPlane
    /// The time events happen at; moved only by `advance` and `run(forMs:store:)`.
    public var now = Instant(monotonicMs: 1_000_000, wallMs: 1_770_000_000_000)
    /// Timers armed and not yet fired, with the monotonic ms they are due at.
    public private(set) var timers: [(timer: ControlTimer, dueMs: Int64)] = []
    /// The commit handed to the store and not yet finished.
    public private(set) var commitInFlight: CommitBatch?
    /// Every commit handed to the store, in order (failed ones too).
    public private(set) var commitsAsked: [CommitBatch] = []
    /// Every action (log lines left out), in order.
    public private(set) var history: [ControlAction] = []
    private var nextJobID: Int64 = 1
    private var nextRequestID: RequestID = 1
    private var nextLinkID: LinkID = 1

    /// What a test's store does with the commits it is handed.
    public enum Store { case works, fails }

    /// A 1 s heartbeat, a 5 s node timeout, no group delay, and a 1 s wait for the store before
    /// a change is answered ACCEPTED; finished jobs stay in memory; no log lines.
    public static var config: ControlPlaneConfig {
        var c = ControlPlaneConfig(heartbeatIntervalMs: 1000, nodeTimeoutMs: 5000, policy: .bestFit)
        c.groupDelayMs = 0
        c.storeRetryMs = 1000
        c.minJobAgeSeconds = 0
        c.minimumLogLevel = .critical
        return c
    }

    public init(config: ControlPlaneConfig = PlaneDriver.config) {
        plane = ControlPlane(config: config, loaded: ControlPlane.Loaded(nodes: [], jobs: []), at: now)
        _ = plane.takeActions()
    }

    public var storeRetryMs: Int { plane.config.storeRetryMs }

    /// A point in `history` and `commitsAsked`, to read what happened after it.
    public struct Mark { public let actions: Int, commits: Int }
    public var mark: Mark { Mark(actions: history.count, commits: commitsAsked.count) }
    /// The actions since `mark`.
    public func actions(since m: Mark) -> [ControlAction] { Array(history[m.actions...]) }
    /// The commits handed to the store since `mark`.
    public func commits(since m: Mark) -> [CommitBatch] { Array(commitsAsked[m.commits...]) }

    // MARK: events in, actions out

    /// Hands one event to the plane; returns its actions without log lines.
    @discardableResult
    public mutating func handle(_ event: ControlEvent, sourceLocation: SourceLocation = #_sourceLocation) -> [ControlAction] {
        var out: [ControlAction] = []
        for a in plane.handle(event, at: now) {
            switch a {
            case .log: continue
            case .arm(let t, let ms): timers.append((t, now.monotonicMs + Int64(ms)))
            case .commit(let b):
                #expect(commitInFlight == nil, "a second commit was asked for while one is in flight", sourceLocation: sourceLocation)
                commitInFlight = b
                commitsAsked.append(b)
            default: break
            }
            out.append(a)
        }
        history += out
        // The store assigns ids and inserts at once (an insert is its own transaction, not a commit).
        for case .insertJobs(let id, let insert) in out {
            let jobs = (0..<insert.count).map { insert.job(id: JobID(nextJobID + Int64($0)), flat: $0) }
            nextJobID += Int64(insert.count)
            out += handle(.jobsInserted(id, .success(jobs)), sourceLocation: sourceLocation)
        }
        return out
    }

    /// Finishes the commit in flight with the store's answer.
    @discardableResult
    public mutating func finishCommit(_ store: Store, sourceLocation: SourceLocation = #_sourceLocation) -> [ControlAction] {
        guard commitInFlight != nil else {
            Issue.record("no commit in flight", sourceLocation: sourceLocation)
            return []
        }
        commitInFlight = nil
        let result: Result<Void, StoreFailure> = store == .works ? .success(()) : .failure(StoreFailure("disk full"))
        return handle(.commitFinished(result), sourceLocation: sourceLocation)
    }

    /// Whether `timer` is armed and has not fired.
    public func isArmed(_ timer: ControlTimer) -> Bool { timers.contains { $0.timer == timer } }

    /// Fires an armed timer (whether or not it is due yet).
    @discardableResult
    public mutating func fire(_ timer: ControlTimer, sourceLocation: SourceLocation = #_sourceLocation) -> [ControlAction] {
        guard let i = timers.firstIndex(where: { $0.timer == timer }) else {
            Issue.record("timer \(timer) is not armed", sourceLocation: sourceLocation)
            return []
        }
        timers.remove(at: i)
        return handle(.timer(timer), sourceLocation: sourceLocation)
    }

    /// Moves the clock without firing anything.
    public mutating func advance(byMs ms: Int64) {
        now.monotonicMs += ms
        now.wallMs += ms
    }

    /// What a shell would do now: finishes commits with `store`'s answer and fires the timers
    /// that are due, until neither is left.
    @discardableResult
    public mutating func settle(store: Store, sourceLocation: SourceLocation = #_sourceLocation) -> [ControlAction] {
        var out: [ControlAction] = []
        for _ in 0..<10_000 {
            if commitInFlight != nil {
                out += finishCommit(store, sourceLocation: sourceLocation)
            } else if let i = dueTimer(by: now.monotonicMs) {
                let t = timers.remove(at: i)
                out += handle(.timer(t.timer), sourceLocation: sourceLocation)
            } else {
                return out
            }
        }
        Issue.record("the plane did not settle", sourceLocation: sourceLocation)
        return out
    }

    /// Lets `ms` pass, firing each timer when it is due and answering every commit with `store`.
    @discardableResult
    public mutating func run(forMs ms: Int64, store: Store, sourceLocation: SourceLocation = #_sourceLocation) -> [ControlAction] {
        let end = now.monotonicMs + ms
        var out = settle(store: store, sourceLocation: sourceLocation)
        while let i = dueTimer(by: end) {
            advance(byMs: max(0, timers[i].dueMs - now.monotonicMs))
            out += settle(store: store, sourceLocation: sourceLocation)
        }
        advance(byMs: end - now.monotonicMs)
        return out
    }

    private func dueTimer(by ms: Int64) -> Int? {
        timers.indices.filter { timers[$0].dueMs <= ms }.min { timers[$0].dueMs < timers[$1].dueMs }
    }

    // MARK: agents

    /// Opens a connection and registers `node` on it; returns the link and the actions.
    public mutating func register(node: NodeID, topology: NodeTopology = smallTopology(), link: LinkID? = nil,
                           tasks: [TaskReport] = []) -> (link: LinkID, actions: [ControlAction]) {
        let link = link ?? nextLinkID
        nextLinkID = max(nextLinkID, link + 1)
        var out = handle(.linkOpened(link))
        out += handle(.register(Register(node: node, topology: topology, emulated: true, tasks: tasks), link: link))
        return (link, out)
    }

    @discardableResult
    public mutating func started(_ job: JobID, on node: NodeID) -> [ControlAction] {
        handle(.taskStarted(TaskStarted(ref: TaskRef(job: job), pid: 4242,
                                        binding: HostBinding(cpus: CPUSet([0]), numaNodes: NUMASet([0])),
                                        stdoutPath: "/tmp/\(job).out", stderrPath: "/tmp/\(job).err"), node: node))
    }

    @discardableResult
    public mutating func exited(_ job: JobID, on node: NodeID, _ exit: TaskExit = TaskExit(exitCode: 0)) -> [ControlAction] {
        handle(.taskExited(TaskExited(ref: TaskRef(job: job), exit: exit), node: node))
    }

    // MARK: clients

    /// Sends a client request from `p` (the cluster admin unless given); returns its id and the actions.
    public mutating func request(_ r: ClientRequest, as p: Principal = .clusterAdmin) -> (id: RequestID, actions: [ControlAction]) {
        let id = nextRequestID
        nextRequestID += 1
        return (id, handle(.request(id, r, from: p)))
    }

    /// SUBMIT (placed at once): the request's id, the ids of the jobs stored, and the actions.
    public mutating func submit(_ spec: JobSpec, as p: Principal = .clusterAdmin) -> (id: RequestID, jobs: [JobID], actions: [ControlAction]) {
        let first = nextJobID
        let (id, out) = request(.submit([spec], placeAtOnce: true), as: p)
        return (id, (first..<nextJobID).map { JobID($0) }, out)
    }

    /// A read, answered at once from memory (one reply in the same call, or a test failure).
    public mutating func read(_ r: ClientRequest, as p: Principal = .clusterAdmin,
                              sourceLocation: SourceLocation = #_sourceLocation) -> Message? {
        let (id, out) = request(r, as: p)
        let replies = out.replies(to: id)
        #expect(replies.count == 1, "a read must be answered at once, got \(replies.count) replies", sourceLocation: sourceLocation)
        return replies.first
    }

    /// The job as a client reads it now.
    public mutating func job(_ id: JobID, sourceLocation: SourceLocation = #_sourceLocation) -> JobInfo? {
        read(.getJob(id, stored: nil), sourceLocation: sourceLocation)?.jobInfo
    }

    /// The node as a client lists it now.
    public mutating func node(_ name: NodeID, sourceLocation: SourceLocation = #_sourceLocation) -> NodeInfo? {
        read(.listNodes(topology: false), sourceLocation: sourceLocation)?.nodeList?.nodes.first { $0.name == name }
    }

    /// Registers `node` with a working store and runs a job on it (started by its agent, all
    /// stored): the link and the job.
    public mutating func runningJob(on node: NodeID, spec: JobSpec = spec()) -> (link: LinkID, job: JobID) {
        let link = plane.link(of: node) ?? register(node: node).link
        settle(store: .works)
        let job = submit(spec).jobs[0]
        settle(store: .works)
        #expect(history.lines(to: link).contains { $0.startTask?.ref.job == job }, "the job was not started")
        started(job, on: node)
        settle(store: .works)
        #expect(plane.uncommittedWrites == 0)
        return (link, job)
    }
}

// MARK: reading actions

extension Array where Element == ControlAction {
    /// The lines sent to one agent connection, in order.
    public func lines(to link: LinkID) -> [Message] {
        compactMap { if case .send(let l, let m) = $0, l == link { m } else { nil } }
    }

    /// The replies to one client request (a `.submitted` reply is left out).
    public func replies(to id: RequestID) -> [Message] {
        compactMap { if case .reply(let r, .message(let m)) = $0, r == id { m } else { nil } }
    }

    /// Every reply to one client request, SUBMITTED included.
    public func allReplies(to id: RequestID) -> [ControlReply] {
        compactMap { if case .reply(let r, let reply) = $0, r == id { reply } else { nil } }
    }

    /// The commits handed to the store.
    public var commits: [CommitBatch] { compactMap { if case .commit(let b) = $0 { b } else { nil } } }
}
