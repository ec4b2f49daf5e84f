import DequeModule
import SchedCore
import SchedProtocol

/// Finished jobs leave memory `minJobAgeSeconds` after they finished (Slurm's `MinJobAge`; 0
/// keeps them all);
/// they stay in the store, and lookups, listings and `WAIT` read them from there. schedd's
/// memory then follows the active jobs and the recent ones, not the whole history.
extension ControlPlane {
    /// Called by `track` when a job has just become terminal.
    mutating func noteFinished(_ id: JobID, atMs: Int64) {
        retention.finishedOrder.append((atMs, id))
    }

    /// Drops from memory the finished jobs older than `minJobAgeSeconds`. A job whose latest
    /// version is not yet committed, or whose gang is still being stopped, waits another round.
    mutating func evictFinishedJobs() {
        // 0 keeps every finished job in memory, as Slurm's MinJobAge=0 does.
        guard config.minJobAgeSeconds > 0 else { return }
        let now = monoNow
        let cutoff = now - Int64(min(config.minJobAgeSeconds, 100 * 365 * 86_400)) * 1000
        var again: [(atMs: Int64, id: JobID)] = []
        while let first = retention.finishedOrder.first, first.atMs <= cutoff {
            retention.finishedOrder.removeFirst()
            guard let j = jobs[first.id], j.state.isTerminal else { continue }
            let uncommitted = batch.jobs[first.id] != nil || inFlight?.jobs[first.id] != nil
            if uncommitted || j.arrayJob.map({ failedGangs[$0] != nil }) == true {
                again.append((cutoff + 1000, first.id))  // due again in a second
                continue
            }
            jobs[first.id] = nil
            lastPendingSummary[first.id] = nil
            retention.evicted += 1
        }
        retention.finishedOrder.append(contentsOf: again)
    }

    /// A job from memory, or as the shell read it from the store once it has left memory.
    func knownJob(_ id: JobID, stored: JobInfo?) -> JobInfo? {
        if let j = jobs[id] { return j }
        guard retention.evicted > 0 else { return nil }
        return stored
    }
}
