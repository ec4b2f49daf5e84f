import SchedCore
import SchedProtocol

extension Scheduler {
    /// For a pending job that fits nowhere: if stopping lower-priority preemptible jobs would make
    /// room (see `PreemptionPlanner`), asks their agents to stop them — checkpoint signal first,
    /// SIGKILL after their grace period — and returns the victims. Their exits re-queue them and
    /// free the room; the waiting job is placed by the next scheduling pass, before lower-priority
    /// work. Nothing happens while victims chosen for this job are still stopping.
    func preemptIfPossible(for job: JobInfo, in snapshot: ClusterSnapshot, reclaim: Bool = false) -> [JobID] {
        let priority = job.spec.priority ?? 0
        guard !jobs.values.contains(where: { $0.preemptedBy == job.id && $0.state.isActive }) else { return [] }
        let now = Self.wallMs()
        let holdings = tenantHoldings()
        let running = jobs.values.compactMap { j -> PreemptionCandidate? in
            guard j.state == .running, j.preemptedBy == nil, j.cancelRequested != true, let a = j.assignment,
                  links[a.node] != nil else { return nil }
            return PreemptionCandidate(job: j.id, assignment: a, priority: j.spec.priority ?? 0,
                                       preemptible: j.spec.preemptible ?? false,
                                       elapsedMs: now - (j.startedAtMs ?? now),
                                       minRuntimeMs: Int64(j.spec.minRuntimeSeconds ?? 0) * 1000,
                                       borrowing: j.spec.tenantName != job.spec.tenantName && isBorrowing(j.spec.tenantName, holdings: holdings))
        }
        guard !running.isEmpty,
              let plan = PreemptionPlanner.plan(job.spec.resources, priority: priority, in: snapshot, running: running,
                                                reclaim: reclaim) else { return [] }
        // A gang is preempted whole: a victim's running siblings stop with it.
        var victims = plan.victims
        for id in plan.victims {
            guard let v = jobs[id], v.spec.isGang, let gang = v.arrayJob else { continue }
            for s in jobs.values where s.arrayJob == gang && s.state.isActive && !victims.contains(s.id) { victims.append(s.id) }
        }
        for id in victims {
            guard var victim = jobs[id] else { continue }
            victim.preemptedBy = job.id
            victim.reason = reclaim ? "being preempted: tenant \(job.spec.tenantName) reclaims its quota for job \(job.id)"
                : "being preempted by job \(job.id)"
            do { try save(victim) } catch { return [] }
            send(.killTask(KillTask(ref: TaskRef(job: id), graceSeconds: victim.spec.killGraceSeconds ?? 10,
                                    reason: "preempted by job \(job.id)", signal: victim.spec.checkpointSignal)),
                 to: victim.assignment?.node ?? plan.node)
        }
        preemptors[job.id] = plan.node
        logger.info("preempting", metadata: ["job.id": "\(job.id)", "node.id": "\(plan.node)",
                                             "victims": "\(plan.victims.map(\.rawValue))", "lost.ms": "\(plan.lostWorkMs)"])
        return victims
    }
}
