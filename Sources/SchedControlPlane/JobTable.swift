import SchedCore
import SchedProtocol

/// The jobs schedd holds in memory, with the indexes a scheduling pass reads instead of
/// scanning every job. `track` is the one way a job's state enters the indexes.
struct JobTable {
    private(set) var all: [JobID: JobInfo] = [:]
    /// Jobs in state `pending`.
    private(set) var pendingIDs = Set<JobID>()
    /// Jobs starting or running (what tenants hold).
    private(set) var activeIDs = Set<JobID>()
    /// Active jobs with a time limit (backfill needs them).
    private(set) var timeLimitedActive = Set<JobID>()
    /// Running preemptible jobs with their priority.
    private(set) var preemptibleRunning: [JobID: Int] = [:]

    subscript(id: JobID) -> JobInfo? {
        get { all[id] }
        set {
            if let job = newValue { track(job) } else { forget(id) }
        }
    }

    var values: Dictionary<JobID, JobInfo>.Values { all.values }
    var count: Int { all.count }

    /// Stores the job and brings the indexes up to date. Returns whether it has just become terminal.
    @discardableResult
    mutating func track(_ job: JobInfo) -> Bool {
        let becameTerminal = job.state.isTerminal && all[job.id]?.state.isTerminal != true
        all[job.id] = job
        let id = job.id
        if job.state == .pending { pendingIDs.insert(id) } else { pendingIDs.remove(id) }
        if job.state.isActive { activeIDs.insert(id) } else { activeIDs.remove(id) }
        if job.state.isActive, job.spec.timeLimitSeconds != nil { timeLimitedActive.insert(id) } else { timeLimitedActive.remove(id) }
        if job.state == .running, job.spec.preemptible == true { preemptibleRunning[id] = job.spec.priority ?? 0 } else { preemptibleRunning[id] = nil }
        return becameTerminal
    }

    /// Drops a (finished) job from memory.
    mutating func forget(_ id: JobID) {
        all[id] = nil
        pendingIDs.remove(id)
        activeIDs.remove(id)
        timeLimitedActive.remove(id)
        preemptibleRunning[id] = nil
    }
}
