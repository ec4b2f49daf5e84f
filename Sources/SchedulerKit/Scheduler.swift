import DequeModule
import Foundation
import Logging
import SchedControlPlane
import SchedCore
import SchedProtocol
import SchedStore

/// schedd's shell around the `ControlPlane`: it turns calls from the network sessions and the
/// service's timers into events, and carries out the actions that come back: lines to agent
/// connections, client replies, inserts and group commits on the store's writer thread,
/// timers and log lines. All of the daemon's decisions are the control plane's.
public actor Scheduler {
    let store: any SchedulerStore
    public let config: SchedulerConfig
    let logger: Logger
    /// Monotonic milliseconds, injected so tests can drive time.
    let monotonicMs: @Sendable () -> Int64
    /// The daemon's state and logic.
    var plane: ControlPlane
    /// Open agent connections: lines yielded here are written to the agent.
    var links: [LinkID: AsyncStream<String>.Continuation] = [:]
    var nextLinkID: UInt64 = 1
    /// Client requests waiting for their reply.
    var replies: [RequestID: CheckedContinuation<ControlReply, Never>] = [:]
    var nextRequestID: RequestID = 1
    /// Requests whose client went away before the answer (a `WAIT` on a closed connection).
    public internal(set) var abandonedRequests = 0
    /// `log --follow` readers.
    var logFollowers: [UInt64: (query: LogQuery, continuation: AsyncStream<PlacementRecord>.Continuation)] = [:]
    /// The thread that runs group commits and inserts, off the actor, one at a time in order.
    let storeWriter = DispatchQueue(label: "schedd.store-writer")
    /// Events waiting to be handled (without group commit, a commit's outcome is handled right
    /// after the event that asked for it, before the call returns).
    var queued = Deque<ControlEvent>()
    var dispatching = false
    /// Agent messages refused while handling the current call, by connection.
    var refusals: [LinkID: ErrorReply] = [:]
    /// The listener's counts of connections its limits closed, by `schedctl status` name.
    var connectionLimitCounts: @Sendable () -> [String: Int] = { [:] }
    /// RFC 3339 with milliseconds, for placement-log times.
    static let timeFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// Opens the state: loads nodes and jobs from the store and holds the resources of active
    /// jobs until their agents re-register.
    public init(store: any SchedulerStore, config: SchedulerConfig, logger: Logger,
                monotonicMs: @escaping @Sendable () -> Int64 = Scheduler.defaultMonotonicMs) throws {
        self.store = store
        self.config = config
        self.logger = logger
        self.monotonicMs = monotonicMs
        let loaded = try Self.load(store, config: config, wallNowMs: Self.wallMs())
        plane = ControlPlane(config: config.controlPlane(minimumLogLevel: LogLevel(logger.logLevel)), loaded: loaded,
                             at: Instant(monotonicMs: monotonicMs(), wallMs: Self.wallMs()))
        for a in plane.takeActions() { if case .log(let e) = a { Self.write(e, to: logger) } }
    }

    /// What a starting schedd holds: every node; all jobs with `minJobAgeSeconds` 0, otherwise
    /// every unfinished job, those finished within `minJobAgeSeconds`, and every member of a gang
    /// that still runs (a member that failed long ago still stops the rest). Oldest first.
    static func load(_ store: any SchedulerStore, config: SchedulerConfig, wallNowMs: Int64) throws -> ControlPlane.Loaded {
        let nodes = try store.allNodes()
        guard config.minJobAgeSeconds > 0 else { return ControlPlane.Loaded(nodes: nodes, jobs: try store.allJobs()) }
        let age = Int64(min(config.minJobAgeSeconds, 100 * 365 * 86_400)) * 1000
        var held = try store.unfinishedAndRecentJobs(finishedSinceMs: wallNowMs - age)
        var have = Set(held.map(\.id))
        var gangs: [JobID: Int] = [:]
        for j in held where j.spec.isGang && !j.state.isTerminal { if let g = j.arrayJob { gangs[g] = j.spec.array ?? 1 } }
        for (g, size) in gangs {
            for i in 0..<Int64(size) where !have.contains(JobID(g.rawValue + i)) {
                if let m = try store.job(JobID(g.rawValue + i)) { held.append(m); have.insert(m.id) }
            }
        }
        held.sort { $0.id < $1.id }
        // The profile decays by half every 10,000 submissions: the newest 100,000 rebuild it.
        return ControlPlane.Loaded(nodes: nodes, jobs: held, leftInStore: max(0, try store.jobCount() - held.count),
                                   recentRequests: try store.recentRequests(limit: 100_000))
    }

    /// Milliseconds of the system's monotonic clock.
    public static let defaultMonotonicMs: @Sendable () -> Int64 = {
        Int64(DispatchTime.now().uptimeNanoseconds / 1_000_000)
    }

    static func wallMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    /// `2026-11-26T21:16:32.123Z` for a wall-clock time in ms. The formatter truncates the
    /// fraction of a `Double` (1764000000.123 is stored as ...122999...), so a quarter of a
    /// millisecond is added: below any real difference, above the `Double`'s error (~0.1 µs).
    static func rfc3339(_ ms: Int64) -> String {
        Date(timeIntervalSince1970: (Double(ms) + 0.25) / 1000).formatted(timeFormat)
    }

    var instant: Instant { Instant(monotonicMs: monotonicMs(), wallMs: Self.wallMs()) }

    // MARK: events in, actions out

    /// Hands an event to the control plane and carries out what it asks, then any events that
    /// came of it (without group commit: the commit's outcome), in order.
    func dispatch(_ event: ControlEvent) {
        queued.append(event)
        guard !dispatching else { return }
        dispatching = true
        defer { dispatching = false }
        while let next = queued.popFirst() {
            for action in plane.handle(next, at: instant) { perform(action) }
        }
    }

    func perform(_ action: ControlAction) {
        switch action {
        case .send(let link, let line):
            links[link]?.yield(LineCodec.encode(line))
        case .closeLink(let link):
            links.removeValue(forKey: link)?.finish()
        case .reply(let id, let reply):
            replies.removeValue(forKey: id)?.resume(returning: reply)
        case .refuse(let link, let error):
            refusals[link] = error
        case .insertJobs(let id, let insert):
            let store = self.store
            let run: @Sendable () -> Result<[JobInfo], StoreFailure> = {
                Result { try store.insertJobs(count: insert.count) { insert.job(id: $0, flat: $1) } }
                    .mapError { StoreFailure("\($0)") }
            }
            if config.groupCommit {
                storeWriter.async { let r = run(); Task { await self.dispatch(.jobsInserted(id, r)) } }
            } else {
                queued.append(.jobsInserted(id, run()))
            }
        case .commit(var batch):
            for i in batch.placements.indices { batch.placements[i].time = Self.rfc3339(batch.placementWallMs[i]) }
            let store = self.store, b = batch
            let run: @Sendable () -> Result<[PlacementRecord], StoreFailure> = {
                Result { try store.commit(jobs: b.jobs, nodes: b.nodes, placements: b.placements, audit: b.audit) }
                    .mapError { StoreFailure("\($0)") }
            }
            if config.groupCommit {
                storeWriter.async { let r = run(); Task { await self.commitDone(r) } }
            } else {
                let r = run()
                yieldToFollowers(r)
                queued.append(.commitFinished(r.map { _ in () }))
            }
        case .arm(let timer, let ms):
            // Without group commit, commits and passes happen before the call returns.
            if !config.groupCommit, timer == .commit || timer == .pass {
                queued.append(.timer(timer))
                return
            }
            Task {
                if ms > 0 { try? await Task.sleep(for: .milliseconds(ms)) }
                self.dispatch(.timer(timer))
            }
        case .log(let event):
            Self.write(event, to: logger)
        }
    }

    /// Back on the actor after the writer thread's transaction.
    func commitDone(_ result: Result<[PlacementRecord], StoreFailure>) {
        yieldToFollowers(result)
        dispatch(.commitFinished(result.map { _ in () }))
    }

    func yieldToFollowers(_ result: Result<[PlacementRecord], StoreFailure>) {
        guard case .success(let stored) = result, !logFollowers.isEmpty else { return }
        for r in stored {
            for (_, f) in logFollowers where Self.matches(r, f.query) { f.continuation.yield(r) }
        }
    }

    static func write(_ e: LogLine, to logger: Logger) {
        var metadata: Logger.Metadata = [:]
        for (k, v) in e.metadata { metadata[k] = "\(v)" }
        logger.log(level: Logger.Level(e.level), "\(e.message)", metadata: metadata)
    }

    /// Counts a rejected protocol line.
    public func countRejectedLine() { dispatch(.lineRejected) }

    /// Where `status` reads the listener's connection-limit counts from.
    public func readConnectionLimits(from counts: @escaping @Sendable () -> [String: Int]) { connectionLimitCounts = counts }

    /// Protocol lines rejected since start (malformed, unknown verb, too long).
    public var rejectedLines: Int { plane.rejectedLines }
    /// Group commits made and the writes they held (for status and benchmarks).
    public var commits: Int { plane.commits }
    public var committedWrites: Int { plane.committedWrites }
    /// Writes made but not yet durable: waiting or being committed.
    public var uncommittedWrites: Int { plane.uncommittedWrites }
    /// Finished jobs no longer held in memory (read from the store when asked for).
    public var jobsLeftInStore: Int { plane.jobsLeftInStore }

    /// The smallest `base × 2^k` (at most one hour) at which `nodes` agents send at most
    /// `perSecond` heartbeats a second.
    public static func heartbeatInterval(base: Int, nodes: Int, perSecond: Int) -> Int {
        ControlPlane.heartbeatInterval(base: base, nodes: nodes, perSecond: perSecond)
    }

    /// The jobs held in memory (tests).
    var jobs: [JobID: JobInfo] { plane.heldJobsByID }
    /// The fleet as the core sees it now (tests).
    func snapshot() -> ClusterSnapshot { plane.snapshot() }
    /// Whether the snapshot passes use equals one built from scratch (tests).
    func cachedFleetIsCurrent() -> Bool { plane.cachedFleetIsCurrent() }
}

extension LogLevel {
    init(_ level: Logger.Level) {
        switch level {
        case .trace: self = .trace
        case .debug: self = .debug
        case .info: self = .info
        case .notice: self = .notice
        case .warning: self = .warning
        case .error: self = .error
        case .critical: self = .critical
        }
    }
}

extension Logger.Level {
    init(_ level: LogLevel) {
        switch level {
        case .trace: self = .trace
        case .debug: self = .debug
        case .info: self = .info
        case .notice: self = .notice
        case .warning: self = .warning
        case .error: self = .error
        case .critical: self = .critical
        }
    }
}
