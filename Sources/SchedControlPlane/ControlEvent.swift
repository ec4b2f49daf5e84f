import SchedCore
import SchedProtocol

/// Identifies one agent connection for as long as it is open.
public typealias LinkID = UInt64
/// Identifies one client request until it is answered.
public typealias RequestID = UInt64

/// The time an event happens at: both clocks, read by the shell (or the simulator), never by
/// the control plane.
public struct Instant: Sendable, Hashable {
    /// Milliseconds of a monotonic clock (liveness, retention, fair share).
    public var monotonicMs: Int64
    /// Milliseconds since 1970 (what records show: submit, start and finish times).
    public var wallMs: Int64
    public init(monotonicMs: Int64, wallMs: Int64) {
        self.monotonicMs = monotonicMs
        self.wallMs = wallMs
    }
}

/// A store operation that failed, with the store's words.
public struct StoreFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Everything that can happen to the control plane. The shell turns sockets, timers and the
/// store's writer thread into these; the simulator makes them from a seeded generator.
public enum ControlEvent: Sendable {
    /// A new agent connection said HELLO as an agent. `certifiedNode`: the node its verified
    /// node certificate names (it may act for that node only); nil for a cluster-admin token,
    /// which may act for any node.
    case linkOpened(LinkID, certifiedNode: NodeID? = nil)
    /// An agent connection closed; `node` is what it had registered as.
    case linkClosed(LinkID, node: NodeID?)
    case register(Register, link: LinkID)
    case heartbeat(Heartbeat, link: LinkID)
    case taskStarted(TaskStarted, node: NodeID)
    case taskExited(TaskExited, node: NodeID)
    /// An agent's PING, answered PONG on the same connection.
    case ping(link: LinkID)
    /// A protocol line was rejected (malformed, unknown verb, too long), on any connection.
    case lineRejected
    /// The shell refused an agent connection's line `forbidden` and closed it (a join token
    /// used for anything but JOIN, a token that may not act as an agent): counted with the
    /// node authorizer's own refusals.
    case agentLineForbidden
    /// A schedctl request from an authenticated principal (the shell took it from the
    /// connection's token); answered by one `ControlAction.reply` with the same id.
    case request(RequestID, ClientRequest, from: Principal)
    /// A change the shell made itself (tokens): written to the audit log with the next batch.
    case audit(verb: String, object: String, by: Principal, outcome: String)
    /// The client of a request still waiting (a `WAIT`) went away: forget it, answer nothing.
    case requestAbandoned(RequestID)
    /// The outcome of an `insertJobs` action (the store assigns ids).
    case jobsInserted(RequestID, Result<[JobInfo], StoreFailure>)
    /// The outcome of the `commit` action in flight.
    case commitFinished(Result<Void, StoreFailure>)
    /// A timer armed with `ControlAction.arm` fired.
    case timer(ControlTimer)
    /// Marks silent nodes down (periodic, every second in schedd).
    case checkLiveness
    /// Stops tasks past their time limit (periodic).
    case enforceTimeLimits
    /// Tries every pending job (periodic).
    case schedulePass
    /// Drops finished jobs older than `minJobAgeSeconds` from memory (periodic, with liveness).
    case evictFinishedJobs
}

/// Timers the control plane arms; each fires once as `ControlEvent.timer`.
public enum ControlTimer: Sendable, Hashable {
    /// The group commit's delay is over.
    case commit
    /// A failed commit is retried.
    case retryCommit
    /// A coalesced scheduling pass is due.
    case pass
    /// A change's wait for the store is over: answered `ACCEPTED` if still not stored.
    case storeDeadline(RequestID)
}

/// What a client asks. Jobs that left memory are read from the store by the shell beforehand
/// and handed in (`stored`), so the control plane never reads the store itself.
/// `indirect`, like `Message`: job records inside would make every event 1,370 bytes.
public indirect enum ClientRequest: Sendable {
    /// SUBMIT (`placeAtOnce`: the first placement attempt runs before the reply) or SUBMIT_BATCH.
    case submit([JobSpec], placeAtOnce: Bool)
    case update(JobID, JobSpec, stored: JobInfo?)
    /// `storedFinished`: the newest finished jobs in the store, when some left memory.
    case listJobs(ListJobs, storedFinished: [JobInfo]?)
    case getJob(JobID, stored: JobInfo?)
    case cancel(JobID, stored: JobInfo?)
    case wait(JobID, stored: JobInfo?)
    /// `latest`: the job's newest placement-log record.
    case explain(JobID, stored: JobInfo?, latest: PlacementRecord?)
    case listNodes(topology: Bool)
    case drain(NodeID, reason: String?)
    case undrain(NodeID)
    /// NODE_REVOKE, after the shell revoked the node's certificates in the store (`serials`):
    /// its connections close and its jobs are handled as those of a lost node, but requeued.
    case revokeNode(NodeID, serials: [String])
    case status
    /// Answered `.ok` once everything written so far is durable, `.error(unavailable)` when
    /// that commit attempt failed (tests and shutdown).
    case commitBarrier
}

/// The answer to one client request.
public enum ControlReply: Sendable {
    case message(Message)
    /// For SUBMIT and SUBMIT_BATCH: each spec's first job and how many jobs it stored.
    case submitted(firsts: [JobInfo], counts: [Int])
}
