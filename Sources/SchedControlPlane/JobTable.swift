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
    /// Pending jobs per tenant (the admission limit reads it).
    private(set) var pendingByTenant: [String: Int] = [:]

    subscript(id: JobID) -> JobInfo? {
        get { all[id] }
        set {
            if let job = newValue { track(job) } else { forget(id) }
        }
    }

    var values: Dictionary<JobID, JobInfo>.Values { all.values }

    /// Reads every starting or running job in place, in no particular order (a scan of
    /// `activeIDs` only: terminal jobs kept for retention are not visited).
    ///
    /// Mutating only so that each record is lent in place: a dictionary value is borrowed without
    /// a copy only through its modify accessor, and `get` retains each of a `JobInfo`'s 18
    /// reference-counted fields (measured: 10% of `sched-bench chaos` in those copies). The body
    /// cannot change the record.
    mutating func forEachActive(_ body: (borrowing JobInfo) -> Void) {
        for id in activeIDs {
            guard let i = all.index(forKey: id) else { continue }
            Self.lend(&all.values[i], to: body)
        }
    }

    @inline(__always)
    private static func lend(_ job: inout JobInfo, to body: (borrowing JobInfo) -> Void) { body(job) }
    var count: Int { all.count }

    /// Stores the job and brings the indexes up to date. Returns whether it has just become terminal.
    @discardableResult
    mutating func track(_ job: JobInfo) -> Bool {
        let becameTerminal = job.state.isTerminal && all[job.id]?.state.isTerminal != true
        let id = job.id
        if pendingIDs.contains(id), let old = all[id]?.spec.tenantName { pendingByTenant[old, default: 1] -= 1 }
        if job.state == .pending { pendingByTenant[job.spec.tenantName, default: 0] += 1 }
        all[id] = job
        if job.state == .pending { pendingIDs.insert(id) } else { pendingIDs.remove(id) }
        if job.state.isActive { activeIDs.insert(id) } else { activeIDs.remove(id) }
        if job.state.isActive, job.spec.timeLimitSeconds != nil { timeLimitedActive.insert(id) } else { timeLimitedActive.remove(id) }
        if job.state == .running, job.spec.preemptible == true { preemptibleRunning[id] = job.spec.priority ?? 0 } else { preemptibleRunning[id] = nil }
        return becameTerminal
    }

    /// Drops a (finished) job from memory.
    mutating func forget(_ id: JobID) {
        if pendingIDs.contains(id), let old = all[id]?.spec.tenantName { pendingByTenant[old, default: 1] -= 1 }
        all[id] = nil
        pendingIDs.remove(id)
        activeIDs.remove(id)
        timeLimitedActive.remove(id)
        preemptibleRunning[id] = nil
    }
}
