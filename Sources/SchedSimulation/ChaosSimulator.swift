import SchedControlPlane
import SchedCore
import SchedProtocol

/// A deterministic simulator over the real `ControlPlane`: simulated agents, clients and store
/// in one thread, driven by a seeded generator that also injects faults, with every invariant
/// checked after every step. The same seed replays the same run exactly (the process must run
/// with `SWIFT_DETERMINISTIC_HASHING=1`, which `sched-bench chaos` sets for itself).
public struct ChaosSimulator {
    enum WorldEvent {
        /// An event for schedd incarnation `epoch` (dropped if that schedd has died).
        indirect case plane(ControlEvent, epoch: Int)
        /// A line from schedd reaches agent `agent` on `link`.
        indirect case toAgent(Int, LinkID, Message)
        /// A line from agent `agent` reaches schedd (incarnation `epoch`) on `link`.
        indirect case toSchedd(Int, LinkID, Message, epoch: Int)
        /// schedd closed `link`; the agent notices.
        case linkClosedBySchedd(Int, LinkID)
        case heartbeatDue(Int, LinkID)
        indirect case taskEnds(Int, JobID, TaskExit)
        case agentRestart(Int)
        case agentConnect(Int)
        case scheddRestart
        case storeDone(epoch: Int)
        case client
        case periodic(epoch: Int)
        case fault
        case quiet
        /// During the quiet phase: repeat undrains and service cancels lost to a crash, check liveness.
        case quietRetry
    }

    enum StoreOp {
        case insert(RequestID, JobInsert)
        case commit(CommitBatch)
    }

    enum Pending {
        case submit
        case cancel(JobID)
        case drain(NodeID, Bool)
        case read
    }

    let config: ChaosConfig
    var rng: SplitMix64
    var queue = EventQueue<WorldEvent>()
    var nowMs: Int64 = 0
    var wallOffsetMs: Int64 = 1_764_000_000_000
    var plane: ControlPlane?
    var epoch = 0
    var store = SimStore()
    /// Store operations of the live schedd, in order, with when each completes.
    var storeOps: [(op: StoreOp, doneAt: Int64)] = []
    var storeFailuresLeft = 0
    var storeStallUntil: Int64 = 0
    var slowTimersUntil: Int64 = 0
    var agents: [SimAgent] = []
    var agentIndex: [NodeID: Int] = [:]
    var linkOwner: [LinkID: Int] = [:]
    /// Links schedd's side still reads from.
    var scheddLinks = Set<LinkID>()
    var nextLink: LinkID = 1
    var nextRequest: RequestID = 1
    var pending: [RequestID: Pending] = [:]
    var quietPhase = false
    var networkChaosUntil: Int64 = 0

    // What clients were told, for the invariants.
    var acknowledged = Set<JobID>()
    var knownJobs: [JobID] = []
    var services: [JobID] = []
    /// Per job: cancels answered with something other than ERR (or never answered).
    var cancelsNotRefused: [JobID: Int] = [:]
    var cancelsRefused: [JobID: Int] = [:]
    /// Per node, the drain and undrain requests that may still take effect, oldest first
    /// (refused and confirmed ones leave; accepted-not-stored and crash-lost ones stay).
    var drainRequests: [NodeID: [RequestID]] = [:]
    /// Which agent runs each job's live task.
    var runningOn: [JobID: Int] = [:]
    var terminalInStore = Set<JobID>()

    var result: ChaosResult
    /// The capped tenant's cap (from `planeConfig`), read by the quota invariant.
    let cappedCap = ChaosSimulator.planeConfig(bugs: PlantedBugs()).tenantCaps["capped"] ?? TenantCap()
    /// Debugging: a job whose stored versions and lines are printed.
    let debugJob: JobID? = ProcessInfoLite.debugJob
    /// The latest world events (and notes), formatted only when a violation is reported.
    var trace: [(step: Int, at: Int64, entry: TraceEntry)] = []
    var traceHead = 0
    /// The plane has handled an event since the invariants were last checked.
    var planeChanged = false

    enum TraceEntry {
        case event(WorldEvent)
        case note(String)
        /// A simulated client's request, and the answer it got (formatted only for a trace).
        case request(RequestID, ClientRequest)
        case reply(RequestID, ControlReply)
    }
    var step = 0

    public init(_ config: ChaosConfig) {
        self.config = config
        // Seeds go through SplitMix64's mix first: consecutive raw states would give the same
        // sequence shifted by a few draws (seeds 933 and 935 once replayed the same run).
        var mix = SplitMix64(seed: config.seed)
        rng = SplitMix64(seed: mix.next())
        result = ChaosResult(seed: config.seed)
        for i in 0..<config.gpuTrays {
            let node = NodeID("gpu-\(i / SimFleet.traysPerDomain)-\(i % SimFleet.traysPerDomain)")
            agents.append(SimAgent(node: node, topology: SimFleet.gpuTray(),
                                   labels: [GangPlacer.domainLabel: "rack-\(i / SimFleet.traysPerDomain)"]))
        }
        for i in 0..<config.armNodes {
            agents.append(SimAgent(node: NodeID("arm-\(i)"), topology: SimFleet.armNode(), labels: nil))
        }
        for (i, a) in agents.enumerated() { agentIndex[a.node] = i }
    }

    /// The control plane's settings in the simulation: a 5 s node timeout, group commit with a
    /// 2 ms delay, a capped tenant, finished jobs kept in memory.
    static func planeConfig(bugs: PlantedBugs) -> ControlPlaneConfig {
        var c = ControlPlaneConfig(heartbeatIntervalMs: 1000, nodeTimeoutMs: 5000, policy: .bestFit,
                                   queues: ["pack": .mostAllocated])
        c.groupDelayMs = 2
        c.storeRetryMs = 3000
        c.minJobAgeSeconds = 0
        c.tenantCaps = ["capped": TenantCap(cpus: 24, gpuMilli: 4000)]
        c.tenants = ["team-a": TenantQuota(cpus: 64, gpuMilli: 8000)]
        c.minimumLogLevel = .critical
        return c
    }

    /// Runs the fault phase for `config.steps` world events, then a quiet phase until every
    /// acknowledged job that can end has ended; stops at the first violation.
    public mutating func run() -> ChaosResult {
        startSchedd()
        for i in agents.indices { queue.push(.agentConnect(i), at: Int64(i)) }
        queue.push(.client, at: 50)
        queue.push(.fault, at: 500)
        while let (at, event) = queue.pop() {
            nowMs = max(nowMs, at)
            step += 1
            record(event)
            handle(event)
            if result.violation == nil, planeChanged {
                planeChanged = false
                checkInvariants()
            }
            if result.violation != nil { break }
            if !quietPhase && step >= config.steps {
                quietPhase = true
                quietStartedMs = nowMs
                queue.push(.quiet, at: nowMs)
            }
            if quietPhase {
                if livenessReached { break }
                if nowMs > quietStartedMs + config.quietLimitMs {
                    violate("liveness", "faults stopped \(config.quietLimitMs / 1000) s ago and jobs still wait: \(unfinishedSummary())")
                    break
                }
            }
        }
        result.steps = step
        result.simulatedMs = nowMs
        result.jobsAcknowledged = acknowledged.count
        result.jobsFinished = terminalInStore.count
        return result
    }

    var quietStartedMs: Int64 = .max
    var livenessReached = false

    var instant: Instant { Instant(monotonicMs: nowMs, wallMs: nowMs + wallOffsetMs) }

    mutating func random(_ range: ClosedRange<Int>) -> Int { rng.int(in: range) }
    mutating func chance(_ p: Double) -> Bool { Double(rng.next() >> 11) / Double(1 << 53) < p }

    mutating func handle(_ event: WorldEvent) {
        switch event {
        case .plane(let e, let ep):
            guard ep == epoch else { return }
            toPlane(e)
        case .toAgent(let i, let link, let m): agentReceives(i, link, m)
        case .toSchedd(let i, let link, let m, let ep):
            guard ep == epoch, scheddLinks.contains(link) else { return }
            scheddReceives(i, link, m)
        case .linkClosedBySchedd(let i, let link): agentLosesLink(i, link)
        case .heartbeatDue(let i, let link): heartbeat(i, link)
        case .taskEnds(let i, let job, let exit): taskEnds(i, job, exit)
        case .agentRestart(let i): agentRestarts(i)
        case .agentConnect(let i): agentConnects(i)
        case .scheddRestart: startSchedd()
        case .storeDone(let ep): storeDone(ep)
        case .client: clientActs()
        case .periodic(let ep):
            guard ep == epoch, plane != nil else { return }
            toPlane(.checkLiveness)
            toPlane(.enforceTimeLimits)
            toPlane(.schedulePass)
            queue.push(.periodic(epoch: ep), at: nowMs + 1000)
        case .fault: injectFault()
        case .quiet: beginQuiet()
        case .quietRetry: quietRetry()
        }
    }

    /// Hands an event to the live control plane and carries out its actions.
    mutating func toPlane(_ e: ControlEvent) {
        guard plane != nil else { return }
        result.events += 1
        planeChanged = true
        let actions = plane!.handle(e, at: instant)
        for a in actions { perform(a) }
    }

    mutating func record(_ e: WorldEvent) {
        if let d = debugJob {
            switch e {
            case .toAgent(let i, let l, let m) where Self.mentions(m, d): print("DEBUG t=\(nowMs) \(agents[i].node) <- \(m.verb) link \(l)")
            case .toSchedd(let i, let l, let m, _) where Self.mentions(m, d): print("DEBUG t=\(nowMs) schedd <- \(agents[i].node) \(m.verb) link \(l)")
            case .scheddRestart: print("DEBUG t=\(nowMs) schedd restarts")
            default: break
            }
        }
        if case .heartbeatDue = e { return }
        remember(.event(e))
    }

    mutating func remember(_ entry: TraceEntry) {
        guard config.traceLength > 0 else { return }
        if trace.count < config.traceLength { trace.append((step, nowMs, entry)) } else {
            trace[traceHead] = (step, nowMs, entry)
            traceHead = (traceHead + 1) % config.traceLength
        }
    }

    func format(_ t: (step: Int, at: Int64, entry: TraceEntry)) -> String {
        let text: String
        switch t.entry {
        case .note(let n): return "[\(t.step) t=\(t.at)]   " + n
        case .request(let id, let r): return "[\(t.step) t=\(t.at)]   client request \(id): \(r)"
        case .reply(let id, let r): return "[\(t.step) t=\(t.at)]   client <- reply \(id): \(Self.describe(r))"
        case .event(let e):
            switch e {
            case .plane(let ev, _): text = "schedd <- \(Self.describe(ev))"
            case .toAgent(let i, let l, let m): text = "\(agents[i].node) <- \(Self.describe(m)) (link \(l))"
            case .toSchedd(let i, let l, let m, _): text = "schedd <- \(agents[i].node): \(Self.describe(m)) (link \(l))"
            case .linkClosedBySchedd(let i, let l): text = "\(agents[i].node): link \(l) closed"
            case .heartbeatDue(let i, _): text = "\(agents[i].node): heartbeat due"
            case .taskEnds(let i, let j, let x): text = "\(agents[i].node): task \(j) ends \(x)"
            case .agentRestart(let i): text = "\(agents[i].node): agent restarts"
            case .agentConnect(let i): text = "\(agents[i].node): agent connects"
            case .scheddRestart: text = "schedd restarts from the store"
            case .storeDone: text = "store operation completes"
            case .client: text = "client acts"
            case .periodic: text = "schedd periodic tick"
            case .fault: text = "fault"
            case .quiet: text = "faults stop"
            case .quietRetry: text = "quiet phase: retry and check"
            }
        }
        return "[\(t.step) t=\(t.at)] " + text
    }

    static func describe(_ m: Message) -> String {
        switch m {
        case .startTask(let s): "START_TASK job \(s.ref.job) PUs \(s.assignment.pus)"
        case .killTask(let k): "KILL_TASK job \(k.ref.job)"
        case .ackExit(let a): "ACK_EXIT job \(a.ref.job)"
        case .taskStarted(let s): "TASK_STARTED job \(s.ref.job)"
        case .taskExited(let e): "TASK_EXITED job \(e.ref.job)"
        case .register(let r): "REGISTER with \(r.tasks.count) tasks"
        default: m.verb
        }
    }

    static func mentions(_ m: Message, _ job: JobID) -> Bool {
        switch m {
        case .startTask(let s): s.ref.job == job
        case .killTask(let k): k.ref.job == job
        case .ackExit(let a): a.ref.job == job
        case .taskStarted(let s): s.ref.job == job
        case .taskExited(let e): e.ref.job == job
        case .register(let r): r.tasks.contains { $0.ref.job == job }
        default: false
        }
    }

    static func describe(_ e: ControlEvent) -> String {
        switch e {
        case .timer(let t): "timer \(t)"
        case .commitFinished(let r): "commit finished: \((try? r.get()) != nil ? "stored" : "refused")"
        case .jobsInserted(let id, let r): "insert \(id): \((try? r.get()).map { "\($0.count) jobs" } ?? "refused")"
        case .request(let id, let r, _): "request \(id): \(r)"
        default: "\(e)"
        }
    }

    static func describe(_ r: ControlReply) -> String {
        switch r {
        case .message(let m): m.verb
        case .submitted(let firsts, let counts): "submitted \(zip(firsts, counts).map { "\($0.id)x\($1)" }.joined(separator: ","))"
        }
    }

    mutating func note(_ text: String) {
        guard config.traceLength > 0 else { return }
        remember(.note(text))
    }

    mutating func violate(_ invariant: String, _ detail: String) {
        guard result.violation == nil else { return }
        let ordered = Array(trace[traceHead...] + trace[..<traceHead]).map(format)
        result.violation = Violation(invariant: invariant, step: step, simulatedMs: nowMs, detail: detail, trace: ordered)
    }
}
