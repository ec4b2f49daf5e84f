import DequeModule
import Foundation
import Logging
import SchedCore
import SchedProtocol
import SchedStore

/// The daemon's state: nodes, jobs, agent links, waiters. One actor owns it all; the network
/// shell calls in with events and carries the returned lines to the agents.
///
/// Every change is written to the store before it is acknowledged or acted on.
public actor Scheduler {
    struct AgentLink {
        let id: UInt64
        let send: AsyncStream<String>.Continuation
    }

    let store: any SchedulerStore
    let config: SchedulerConfig
    /// Policy of each queue.
    let queues: [String: SchedulingPolicy]
    /// What the fleet typically receives, learned from submissions (fragmentation-aware policy).
    var workload = WorkloadTracker()
    /// Decayed usage per tenant, for fair-share ordering.
    var fairShare = FairShare()
    var fairShareClockMs: Int64?
    /// Pending jobs (a gang by its first member's id) whose victims are stopping, and the nodes
    /// being freed for each: they go first, and nobody else may take those nodes meanwhile.
    var preemptors: [JobID: Set<NodeID>] = [:]
    /// Gangs (by first member id) with a failed member whose other members are still to be
    /// stopped, and that member's id.
    var failedGangs: [JobID: JobID] = [:]
    /// Services (by first replica id) with a rolling update in progress.
    var rollingServices: Set<JobID> = []
    let logger: Logger
    /// Monotonic milliseconds, injected so tests can drive time.
    let monotonicMs: @Sendable () -> Int64

    var nodes = NodeTable()
    /// One `NodeClass` (and one copy of the core arrays) per node kind, shared by its nodes.
    var nodeClasses = NodeClassRegistry()
    var jobs: [JobID: JobInfo] = [:]
    var links: [NodeID: AgentLink] = [:]
    var waiters: [JobID: [CheckedContinuation<JobInfo, Never>]] = [:]
    var logFollowers: [UInt64: (query: LogQuery, continuation: AsyncStream<PlacementRecord>.Continuation)] = [:]
    /// Last pending summary logged per job, so a waiting job logs only when its reason changes.
    var lastPendingSummary: [JobID: String] = [:]
    var nextLinkID: UInt64 = 1
    /// Links of connections that have not registered yet.
    var pendingLinks: [UInt64: AsyncStream<String>.Continuation] = [:]
    /// Monotonic ms at start, for uptime.
    let startedMs: Int64
    /// Protocol lines rejected since start (malformed, unknown verb, too long).
    public private(set) var rejectedLines = 0
    /// The fleet as the core last saw it, kept between passes and brought up to date from the
    /// nodes written since (see `snapshot()`); nil until the first pass.
    var fleetCache: ClusterSnapshot?
    /// Each node's position in `fleetCache`.
    var fleetPositions: [NodeID: Int] = [:]
    /// A pass has taken `fleetCache` out to change it in place.
    var passHoldsFleet = false
    /// Active jobs with a time limit (backfill needs them) and running preemptible jobs with
    /// their priority, kept by `track` so a pass need not scan every job.
    var timeLimitedActive = Set<JobID>()
    /// Jobs starting or running (what tenants hold), kept by `track`.
    var activeIDs = Set<JobID>()
    var preemptibleRunning: [JobID: Int] = [:]
    /// Ids of the jobs in state `pending` (kept by `track`), so a pass does not scan every job.
    var pendingIDs = Set<JobID>()
    /// Jobs in the order they finished (monotonic ms), for `evictFinishedJobs`.
    var finishedOrder = Deque<(atMs: Int64, id: JobID)>()
    /// Finished jobs dropped from memory so far (see Scheduler+JobRetention.swift).
    var evictedJobs = 0
    /// Writes waiting for the group commit (see Scheduler+GroupCommit.swift).
    var batch = WriteBatch()
    /// The batch the store's writer thread is committing, if any.
    var inFlight: WriteBatch?
    /// The thread that runs group commits and inserts, off the actor, one at a time in order.
    let storeWriter = DispatchQueue(label: "schedd.store-writer")
    /// A coalesced scheduling pass is queued on the actor.
    var passQueued = false
    /// Group commits made and the writes they held (for status and benchmarks).
    public internal(set) var commits = 0
    public internal(set) var committedWrites = 0
    /// The heartbeat interval agents were last told (grows with the fleet; see Scheduler+Heartbeat.swift).
    var announcedHeartbeatMs: Int

    /// Opens the state: loads nodes and jobs from the store and holds the resources of active jobs
    /// until their agents re-register.
    public init(store: any SchedulerStore, config: SchedulerConfig, logger: Logger,
                monotonicMs: @escaping @Sendable () -> Int64 = Scheduler.defaultMonotonicMs) throws {
        self.store = store
        self.config = config
        self.queues = config.allQueues
        self.logger = logger
        self.monotonicMs = monotonicMs
        let now = monotonicMs()
        self.startedMs = now
        self.announcedHeartbeatMs = config.heartbeatIntervalMs
        for n in try store.allNodes() { nodes[n.name] = NodeEntry(stored: n, nowMs: now, classes: &nodeClasses) }
        let wallNow = Self.wallMs()
        let loaded = try Self.jobsToHold(store, config: config, wallNowMs: wallNow)
        evictedJobs = loaded.leftInStore
        if config.minJobAgeSeconds == 0 {
            for j in loaded.jobs { workload.observe(j.spec.resources) }
        } else {
            // The profile decays by half every 10,000 submissions: the newest 100,000 rebuild it.
            for r in try store.recentRequests(limit: 100_000) { workload.observe(r) }
        }
        for j in loaded.jobs {
            jobs[j.id] = j
            // Finished jobs leave memory as they would have had schedd kept running.
            if j.state.isTerminal { finishedOrder.append((now - max(0, wallNow - (j.finishedAtMs ?? wallNow)), j.id)) }
            if j.state == .pending { pendingIDs.insert(j.id) }
            if j.state.isActive { activeIDs.insert(j.id) }
            if j.state.isActive, j.spec.timeLimitSeconds != nil { timeLimitedActive.insert(j.id) }
            if j.state == .running, j.spec.preemptible == true { preemptibleRunning[j.id] = j.spec.priority ?? 0 }
            if j.state.isActive, let a = j.assignment {
                if nodes[a.node]?.state.canApply(a) == true {
                    nodes[a.node]?.state.apply(a)
                } else {
                    logger.error("stored placement does not fit its node; its resources are not held",
                                 metadata: ["job.id": "\(j.id)", "node.id": "\(a.node)"])
                }
            }
        }
        finishedOrder = Deque(finishedOrder.sorted { $0.atMs < $1.atMs })
        // Work that was in progress when schedd stopped: gangs to stop, rollouts to continue.
        var liveGangs = Set<JobID>()
        for j in jobs.values where j.spec.isGang && !j.state.isTerminal && j.gangStoppedBy == nil {
            if let g = j.arrayJob { liveGangs.insert(g) }
        }
        for j in jobs.values {
            if j.state == .failed, j.spec.isGang, j.gangStoppedBy == nil, let g = j.arrayJob, liveGangs.contains(g) {
                failedGangs[g] = min(failedGangs[g] ?? j.id, j.id)
            }
            if j.rollout != nil, !j.state.isTerminal { rollingServices.insert(j.arrayJob ?? j.id) }
        }
        let active = jobs.values.filter { $0.state.isActive }.count
        let pending = jobs.values.filter { $0.state == .pending }.count
        let nodeCount = nodes.count, jobCount = jobs.count
        logger.info("state loaded", metadata: ["nodes": "\(nodeCount)", "jobs": "\(jobCount)",
                                                "jobs.active": "\(active)", "jobs.pending": "\(pending)"])
    }

    /// The jobs a starting schedd holds: all of them with `minJobAgeSeconds` 0; otherwise every
    /// unfinished job, those finished within `minJobAgeSeconds`, and every member of a gang that
    /// still runs (a member that failed long ago still stops the rest). Oldest first, with how
    /// many stay in the store only.
    static func jobsToHold(_ store: any SchedulerStore, config: SchedulerConfig,
                           wallNowMs: Int64) throws -> (jobs: [JobInfo], leftInStore: Int) {
        guard config.minJobAgeSeconds > 0 else { return (try store.allJobs(), 0) }
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
        return (held, max(0, try store.jobCount() - held.count))
    }

    /// Milliseconds of the system's monotonic clock.
    public static let defaultMonotonicMs: @Sendable () -> Int64 = {
        Int64(DispatchTime.now().uptimeNanoseconds / 1_000_000)
    }

    static func wallMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
    /// `2026-11-26T21:16:32.123Z` for a wall-clock time in ms (UTC, no formatter object per call).
    static func rfc3339(_ ms: Int64) -> String {
        let days = ms >= 0 ? ms / 86_400_000 : (ms - 86_399_999) / 86_400_000
        let msOfDay = ms - days * 86_400_000
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func pad(_ v: Int64, _ n: Int) -> String {
            let s = String(v)
            return s.count >= n ? s : String(repeating: "0", count: n - s.count) + s
        }
        let h = msOfDay / 3_600_000, mi = msOfDay / 60_000 % 60, sec = msOfDay / 1000 % 60, frac = msOfDay % 1000
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(h, 2)):\(pad(mi, 2)):\(pad(sec, 2)).\(pad(frac, 3))Z"
    }

    /// Counts a rejected protocol line.
    public func countRejectedLine() { rejectedLines += 1 }

}
