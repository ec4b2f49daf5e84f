import DequeModule
import SchedCore
import SchedProtocol

/// schedd's logic as a plain state machine: events in (`handle`), actions out. It has no clock,
/// no store, no logger, no threads and no sockets: time arrives in each event, and writes,
/// lines, replies, timers and log lines leave as `ControlAction`s for a shell to carry out.
/// schedd's shell (SchedulerKit) runs it live; `sched-bench chaos` runs the same code in a
/// deterministic simulator with injected faults.
///
/// Durability rule: a change is written to the current `WriteBatch`; nothing that reports it
/// (a line to an agent, a client reply) leaves before the batch's commit has succeeded.
public struct ControlPlane {
    public let config: ControlPlaneConfig
    /// Policy of each queue.
    let queues: [String: SchedulingPolicy]

    // Fleet: the nodes, their shared classes and the snapshot passes reuse.
    var nodes = NodeTable()
    /// One `NodeClass` (and one copy of the core arrays) per node kind, shared by its nodes.
    var nodeClasses = NodeClassRegistry()
    /// The fleet as the core last saw it, kept between passes (see `snapshot()`).
    var fleetCache: ClusterSnapshot?
    /// Each node's position in `fleetCache`.
    var fleetPositions: [NodeID: Int] = [:]
    /// A pass has taken `fleetCache` out to change it in place.
    var passHoldsFleet = false
    /// The heartbeat interval agents were last told (grows with the fleet).
    var announcedHeartbeatMs: Int

    // Jobs and queues.
    var jobs = JobTable()
    /// What the fleet typically receives, learned from submissions.
    var workload = WorkloadTracker()
    /// Last pending summary logged per job, so a waiting job logs only when its reason changes.
    var lastPendingSummary: [JobID: String] = [:]

    // Agent links.
    var links = AgentLinks()

    // Gangs and preemption.
    /// Pending jobs (a gang by its first member's id) whose victims are stopping, and the nodes
    /// being freed for each: they go first, and nobody else may take those nodes meanwhile.
    var preemptors: [JobID: Set<NodeID>] = [:]
    /// Gangs (by first member id) with a failed member whose other members are still to be stopped.
    var failedGangs: [JobID: JobID] = [:]

    // Services and rollouts.
    /// Services (by first replica id) with a rolling update in progress.
    var rollingServices: Set<JobID> = []

    // Tenants and fair share.
    var fairShare = FairShare()
    var fairShareClockMs: Int64?

    // Retention of finished jobs.
    var retention = Retention()

    // Group commit.
    /// Writes waiting for the next commit, and what waits for them.
    var batch = WriteBatch()
    /// The batch being committed, if any.
    var inFlight: WriteBatch?
    /// A commit timer is armed.
    var commitArmed = false
    /// A coalesced scheduling pass is armed.
    var passArmed = false
    /// Group commits made and the writes they held.
    public internal(set) var commits = 0
    public internal(set) var committedWrites = 0

    // Clients.
    /// WAIT requests per job, answered once the job's end is durable.
    var waiters: [JobID: [RequestID]] = [:]
    /// Changes whose confirmation still waits for the store (see `ControlTimer.storeDeadline`),
    /// with their verb.
    var openDeadlines: [RequestID: String] = [:]
    /// Changes answered `ACCEPTED`: their confirmation, once stored, is not sent again.
    var acceptedEarly = Set<RequestID>()
    /// Submissions whose insert is with the store.
    var pendingInserts: [RequestID: (counts: [Int], placeAtOnce: Bool, by: Principal)] = [:]

    /// Protocol lines rejected since start.
    public private(set) var rejectedLines = 0
    /// Agent lines refused `forbidden` since start (the node authorizer, and the shell's own).
    public internal(set) var forbiddenAgentLines = 0
    /// Requests refused by an admission limit, per limit.
    public internal(set) var limitsHit: [String: Int] = [:]
    /// Each token's submission bucket (see `AdmissionLimits`).
    var submitBuckets: [String: TokenBucket] = [:]
    /// Monotonic ms at start, for uptime.
    let startedMs: Int64
    /// The time of the event being handled.
    var now: Instant
    /// Actions produced by the event being handled.
    var actions: [ControlAction] = []
    /// Test-only: deliberate bugs the simulator's self-test must catch.
    public var plantedBugs = PlantedBugs()

    /// What the shell read from the store at start.
    public struct Loaded: Sendable {
        public var nodes: [StoredNode]
        /// Jobs to hold in memory, oldest first.
        public var jobs: [JobInfo]
        /// Finished jobs left in the store only.
        public var leftInStore: Int
        /// Requests to relearn the workload profile from (when not from `jobs`).
        public var recentRequests: [ResourceRequest]?
        public init(nodes: [StoredNode], jobs: [JobInfo], leftInStore: Int = 0, recentRequests: [ResourceRequest]? = nil) {
            self.nodes = nodes
            self.jobs = jobs
            self.leftInStore = leftInStore
            self.recentRequests = recentRequests
        }
    }

    /// Opens the state from what the store holds, and holds the resources of active jobs until
    /// their agents re-register. The log lines it produces wait in `takeActions()`.
    public init(config: ControlPlaneConfig, loaded: Loaded, at now: Instant) {
        self.config = config
        self.queues = config.allQueues
        self.now = now
        self.startedMs = now.monotonicMs
        self.announcedHeartbeatMs = config.heartbeatIntervalMs
        for n in loaded.nodes { nodes[n.name] = NodeEntry(stored: n, nowMs: now.monotonicMs, classes: &nodeClasses) }
        retention.evicted = loaded.leftInStore
        if let recent = loaded.recentRequests {
            for r in recent { workload.observe(r) }
        } else {
            for j in loaded.jobs { workload.observe(j.spec.resources) }
        }
        let wallNow = now.wallMs
        for j in loaded.jobs {
            jobs.track(j)
            // Finished jobs leave memory as they would have had schedd kept running.
            if j.state.isTerminal {
                retention.finishedOrder.append((now.monotonicMs - max(0, wallNow - (j.finishedAtMs ?? wallNow)), j.id))
            }
            if j.state.isActive, let a = j.assignment {
                if nodes[a.node]?.state.canApply(a) == true {
                    nodes[a.node]?.state.apply(a)
                } else {
                    log(.error, "stored placement does not fit its node; its resources are not held",
                        ["job.id": "\(j.id)", "node.id": "\(a.node)"])
                }
            }
        }
        retention.finishedOrder = Deque(retention.finishedOrder.sorted { $0.atMs < $1.atMs })
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
        let active = jobs.activeIDs.count, pending = jobs.pendingIDs.count, nodeCount = nodes.count, jobCount = jobs.count
        log(.info, "state loaded", ["nodes": "\(nodeCount)", "jobs": "\(jobCount)",
                                    "jobs.active": "\(active)", "jobs.pending": "\(pending)"])
    }

    /// Handles one event at `time` and returns what to do, in order.
    public mutating func handle(_ event: ControlEvent, at time: Instant) -> [ControlAction] {
        now = time
        switch event {
        case .linkOpened(let link, let certified): links.open(link, certifiedNode: certified)
        case .linkClosed(let link, let node): linkClosed(link, node: node)
        case .register(let r, let link): register(r, link: link)
        case .heartbeat(let h, let link): heartbeat(h, link: link)
        case .taskStarted(let s, let node): taskStarted(s, node: node)
        case .taskExited(let e, let node): taskExited(e, node: node)
        case .ping(let link):
            if links.isOpen(link) { actions.append(.send(link, .pong)) }
        case .lineRejected: rejectedLines += 1
        case .agentLineForbidden: forbiddenAgentLines += 1
        case .request(let id, let request, let principal): handleRequest(id, request, from: principal)
        case .audit(let verb, let object, let p, let outcome): audit(verb, object, by: p, outcome: outcome)
        case .requestAbandoned(let id):
            for (job, ids) in waiters where ids.contains(id) {
                let rest = ids.filter { $0 != id }
                waiters[job] = rest.isEmpty ? nil : rest
            }
        case .jobsInserted(let id, let result): jobsInserted(id, result)
        case .commitFinished(let result): finishCommit(result)
        case .timer(let timer): timerFired(timer)
        case .checkLiveness: checkLiveness()
        case .enforceTimeLimits: enforceTimeLimits()
        case .schedulePass: schedulePending()
        case .evictFinishedJobs: evictFinishedJobs()
        }
        return takeActions()
    }

    /// The actions produced so far (by `init`), and forgets them.
    public mutating func takeActions() -> [ControlAction] {
        // Handed over whole: keeping the capacity would copy the buffer (the caller holds it)
        // at the size of the largest event so far, e.g. one line to every agent.
        let out = actions
        actions = []
        return out
    }

    mutating func timerFired(_ timer: ControlTimer) {
        switch timer {
        case .commit, .retryCommit:
            commitArmed = false
            startCommit()
        case .pass:
            passArmed = false
            schedulePending()
        case .storeDeadline(let id):
            guard let verb = openDeadlines.removeValue(forKey: id) else { return }
            acceptedEarly.insert(id)
            actions.append(.reply(id, .message(.accepted(Accepted(request: verb,
                message: "the store refuses writes; schedd keeps the change and retries storing it, and it takes effect once stored")))))
        }
    }

    /// Records a log line unless its level is filtered out (its text is then never built).
    mutating func log(_ level: LogLevel, _ message: @autoclosure () -> String,
                      _ metadata: @autoclosure () -> KeyValuePairs<String, String> = [:]) {
        guard level >= config.minimumLogLevel else { return }
        actions.append(.log(LogLine(level: level, message: message(), metadata: metadata().map { ($0.key, $0.value) })))
    }

    /// Monotonic and wall-clock milliseconds of the event being handled.
    var monoNow: Int64 { now.monotonicMs }
    var wallNow: Int64 { now.wallMs }

    // MARK: read-only views for the shell, tests and the simulator

    /// Whether the job is held in memory.
    public func holdsJob(_ id: JobID) -> Bool { jobs[id] != nil }
    /// Finished jobs no longer held in memory (read from the store when asked for).
    public var jobsLeftInStore: Int { retention.evicted }
    /// Writes made but not yet durable: waiting or being committed.
    public var uncommittedWrites: Int { batch.writeCount + (inFlight?.writeCount ?? 0) }
    /// Every job held in memory.
    public var heldJobs: Dictionary<JobID, JobInfo>.Values { jobs.values }
    /// Jobs starting or running.
    public var activeJobIDs: Set<JobID> { jobs.activeIDs }
    /// The connection serving a node.
    public func link(of node: NodeID) -> LinkID? { links[node] }
    /// Every job held in memory, by id.
    public var heldJobsByID: [JobID: JobInfo] { jobs.all }
    /// Calls `body` with each active job, without copying the records (invariant checks).
    public mutating func forEachActiveJob(_ body: (borrowing JobInfo) -> Void) {
        jobs.forEachActive(body)
    }
    /// Reads a held job without copying its record.
    public func withHeldJob<T>(_ id: JobID, _ body: (borrowing JobInfo?) -> T) -> T { body(jobs.all[id]) }
    /// A held job.
    public func heldJob(_ id: JobID) -> JobInfo? { jobs[id] }
    /// The registered nodes with their resources in use.
    public func nodeStates() -> [NodeID: NodeState] {
        var out: [NodeID: NodeState] = [:]
        for (id, n) in nodes { out[id] = n.state }
        return out
    }
}

/// Deliberate bugs, for `sched-bench chaos --self-test` only: each one breaks a rule the
/// simulator's invariants check, so a checker that misses it is shown to be broken.
public struct PlantedBugs: Sendable, Hashable {
    /// The allocator places a job without checking that its PUs are free.
    public var skipDoubleBookingCheck = false
    /// A change is acknowledged before its commit (client replies and agent lines leave at once).
    public var acknowledgeBeforeCommit = false
    /// A gang's first member is placed alone when the whole gang does not fit.
    public var placeGangMemberAlone = false
    /// A node that goes down has its jobs put back in the queue, forgetting that their tasks
    /// may still run there (they are failed as lost, and killed if the node comes back).
    public var forgetLostNodeTasks = false
    public init() {}
}
