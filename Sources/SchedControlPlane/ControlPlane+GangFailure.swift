import SchedCore
import SchedProtocol

extension ControlPlane {
    /// Stops the other members of every gang one of whose members failed (exited non-zero, was
    /// killed, could not start, or was lost with its node): running members get KILL_TASK
    /// (SIGTERM, SIGKILL after their grace period) and end `failed` when their exits arrive;
    /// pending members and members whose node is not connected end `failed` at once. Each gets
    /// the reason `stopped with its gang: member job N failed` and a `stopped` placement record.
    /// The mark (`gangStoppedBy`) is stored before any KILL_TASK is sent, so a restarted schedd
    /// finishes the job. Called after the loops that end tasks, never inside them.
    mutating func stopFailedGangs() {
        guard !failedGangs.isEmpty else { return }
        let gangs = failedGangs
        failedGangs = [:]
        for (gang, failedID) in gangs.sorted(by: { $0.key < $1.key }) {
            guard let failed = jobs[failedID] else { continue }
            let why = Self.describe(failed.exit)
            let members = jobs.values.filter { $0.arrayJob == gang }.sorted { $0.id < $1.id }
            let stopping = members.filter { !$0.state.isTerminal && $0.gangStoppedBy == nil }
            guard !stopping.isEmpty else { continue }
            let summary = "gang stopped: member job \(failedID) (rank \(failed.arrayIndex ?? 0)) failed: \(why)"
            appendStopped(failed, summary)
            log(.warning, "gang member failed; stopping its gang", [
                "job.id": "\(failedID)", "gang": "\(gang)", "members.stopping": "\(stopping.map(\.id.rawValue))"])
            for var m in stopping {
                m.gangStoppedBy = failedID
                if m.state == .pending {
                    m.state = .failed
                    m.reason = "stopped with its gang: member job \(failedID) failed"
                    m.finishedAtMs = wallNow
                    save(m)
                } else if let node = m.node, links[node] != nil {
                    m.reason = "stopping with its gang: member job \(failedID) failed"
                    save(m)
                    send(.killTask(KillTask(ref: TaskRef(job: m.id), graceSeconds: m.spec.killGraceSeconds ?? 10,
                                            reason: "gang member job \(failedID) failed")), to: node)
                } else {
                    // Its agent is not connected: nothing to signal; it is killed if it comes back.
                    finish(&m, exit: TaskExit(error: "stopped with its gang: member job \(failedID) failed"))
                }
                appendStopped(m, summary)
            }
        }
    }

    /// An exit in words: `exit code 3`, `killed by signal 9`, or the agent's error.
    static func describe(_ exit: TaskExit?) -> String {
        guard let exit else { return "failed" }
        return exit.error ?? (exit.signal.map { "killed by signal \($0)" } ?? "exit code \(exit.exitCode ?? -1)")
    }

    /// Writes a `stopped` placement record for `job`.
    mutating func appendStopped(_ job: JobInfo, _ why: String) {
        var record = PlacementRecord.stopped(time: "", job: job.id, jobName: job.spec.displayName,
                                             request: job.spec.resources, why: why)
        record.tenant = job.spec.tenantName
        persist(record)
    }
}
