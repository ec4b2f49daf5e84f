import SchedCore
import SchedProtocol

/// What the control plane asks its shell to do, in order.
public enum ControlAction: Sendable {
    /// Write one message (one line) to an agent connection (dropped by the shell if it has closed).
    case send(LinkID, Message)
    /// Close an agent connection (a silent or replaced link); the agent reconnects.
    case closeLink(LinkID)
    /// The answer to a client request.
    case reply(RequestID, ControlReply)
    /// An agent message was refused: the connection answers `ERR` with it.
    case refuse(LinkID, ErrorReply)
    /// Store new jobs in one transaction (the store assigns ids); answered by `jobsInserted`.
    case insertJobs(RequestID, JobInsert)
    /// Store these writes in one transaction; answered by `commitFinished`. At most one is in
    /// flight; the shell runs inserts and commits in the order they were asked for.
    case commit(CommitBatch)
    /// Fire `ControlEvent.timer(timer)` after `afterMs` milliseconds.
    case arm(ControlTimer, afterMs: Int)
    /// Something worth logging.
    case log(LogLine)
}

/// New jobs to insert: `count` jobs built by `job(id:flat:)` from the store-assigned ids.
public struct JobInsert: Sendable {
    public var specs: [JobSpec]
    /// Flat position → (spec, index inside its array).
    public var owner: [(spec: Int, index: Int)]
    public var submittedAtMs: Int64
    /// Who submitted the jobs (`Principal.ownerName`) and the Unix user their tasks run as.
    public var submittedBy: String?
    public var runAs: String?
    public var count: Int { owner.count }

    /// The record of the job at flat position `flat`, given the id the store assigned it.
    public func job(id: JobID, flat: Int) -> JobInfo {
        let (s, index) = owner[flat]
        let spec = specs[s]
        var job = JobInfo(id: id, spec: spec, state: .pending, submittedAtMs: submittedAtMs)
        job.owner = submittedBy
        job.runAs = runAs
        if spec.array != nil {
            job.arrayIndex = index
            job.arrayJob = JobID(id.rawValue - Int64(index))
        }
        return job
    }
}

/// One group commit: the latest version of each changed job and node, and new placement-log
/// records. A record's `time` is empty: the shell writes it from `placementWallMs` (same order).
public struct CommitBatch: Sendable {
    public var jobs: [JobInfo]
    public var nodes: [StoredNode]
    public var placements: [PlacementRecord]
    public var placementWallMs: [Int64]
    /// Audit records to append (mutating requests, refused ones too).
    public var audit: [AuditRecord] = []
}

/// A log line the shell writes: level, message and metadata.
public struct LogLine: Sendable {
    public var level: LogLevel
    public var message: String
    public var metadata: [(String, String)]
}
