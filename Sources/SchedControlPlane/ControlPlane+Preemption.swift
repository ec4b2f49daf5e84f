import SchedCore
import SchedProtocol

extension ControlPlane {
    /// For a pending job that fits nowhere: if stopping lower-priority preemptible jobs would make
    /// room (see `PreemptionPlanner`), asks their agents to stop them — checkpoint signal first,
    /// SIGKILL after their grace period — and returns the victims. Their exits re-queue them and
    /// free the room; the waiting job is placed by the next scheduling pass, before lower-priority
    /// work. Nothing happens while victims chosen for this job are still stopping.
    mutating func preemptIfPossible(for job: JobInfo, in snapshot: ClusterSnapshot, reclaim: Bool = false) -> [JobID] {
        let priority = job.spec.priority ?? 0
        guard !victimsStopping(for: job.id) else { return [] }
        let running = preemptionCandidates(against: job.spec.tenantName)
        guard !running.isEmpty,
              let plan = PreemptionPlanner.plan(job.spec.resources, priority: priority, in: snapshot, running: running,
                                                reclaim: reclaim) else { return [] }
        guard let victims = stop(plan.victims, for: job.id, tenant: job.spec.tenantName, reclaim: reclaim) else { return [] }
        preemptors[job.id] = [plan.node]
        log(.info, "preempting", ["job.id": "\(job.id)", "node.id": "\(plan.node)",
                                             "victims": "\(plan.victims.map(\.rawValue))", "lost.ms": "\(plan.lostWorkMs)"])
        return victims
    }

    /// `preemptIfPossible` for a gang that fits nowhere: plans room for **every** member at once
    /// (`PreemptionPlanner.planGang`) or stops nothing. `key` is the gang's first member id; the
    /// victims carry it as `preemptedBy` and the nodes being freed are held for the gang.
    mutating func preemptGangIfPossible(_ members: [JobInfo], key: JobID, in snapshot: ClusterSnapshot, profile: WorkloadProfile,
                               reclaim: Bool) -> [JobID] {
        guard let first = members.first, !victimsStopping(for: key) else { return [] }
        let running = preemptionCandidates(against: first.spec.tenantName)
        guard !running.isEmpty,
              let plan = PreemptionPlanner.planGang(first.spec.resources, count: members.count, locality: first.spec.nvlink,
                                                    gangPlacer: GangPlacer(placer: placer(for: first.spec, workload: profile)),
                                                    priority: first.spec.priority ?? 0, in: snapshot, running: running,
                                                    reclaim: reclaim) else { return [] }
        guard let victims = stop(plan.victims, for: key, tenant: first.spec.tenantName, reclaim: reclaim) else { return [] }
        preemptors[key] = plan.nodes
        log(.info, "preempting for gang", ["job.id": "\(key)", "members": "\(members.count)",
                                                      "nodes": "\(plan.nodes.map(\.rawValue).sorted())",
                                                      "victims": "\(victims.map(\.rawValue))", "lost.ms": "\(plan.lostWorkMs)"])
        return victims
    }

    /// Whether victims chosen for `preemptor` are still stopping.
    mutating func victimsStopping(for preemptor: JobID) -> Bool {
        var stopping = false
        jobs.forEachActive { j in if j.preemptedBy == preemptor { stopping = true } }
        return stopping
    }

    /// Running tasks the planner may consider, each with its gang. A gang with a member that is
    /// not yet running, already stopping, or on a node whose agent is not connected is left out
    /// whole: a gang is stopped whole or not at all.
    mutating func preemptionCandidates(against tenant: String) -> [PreemptionCandidate] {
        let now = wallNow
        let holdings = tenantHoldings()
        var unsettledGangs = Set<JobID>()
        let links = self.links, quotas = config.tenants
        jobs.forEachActive { j in
            guard j.spec.isGang else { return }
            let connected = j.assignment.map { links[$0.node] != nil } ?? false
            if j.state != .running || !connected || j.preemptedBy != nil || j.cancelRequested == true || j.gangStoppedBy != nil,
               let g = j.arrayJob { unsettledGangs.insert(g) }
        }
        var candidates: [PreemptionCandidate] = []
        jobs.forEachActive { j in
            guard j.state == .running, j.preemptedBy == nil, j.cancelRequested != true, let a = j.assignment,
                  links[a.node] != nil else { return }
            let gang = j.spec.isGang ? j.arrayJob : nil
            if let g = gang, unsettledGangs.contains(g) { return }
            candidates.append(PreemptionCandidate(job: j.id, assignment: a, priority: j.spec.priority ?? 0,
                                       preemptible: j.spec.preemptible ?? false,
                                       elapsedMs: now - (j.startedAtMs ?? now),
                                       minRuntimeMs: Int64(j.spec.minRuntimeSeconds ?? 0) * 1000,
                                       borrowing: j.spec.tenantName != tenant && Self.isBorrowing(j.spec.tenantName, quotas: quotas, holdings: holdings),
                                       gang: gang))
        }
        return candidates
    }

    /// Marks the victims (and, for safety, any active sibling of a victim gang) as preempted by
    /// `preemptor` and sends each agent KILL_TASK with the checkpoint signal. nil when the store failed.
    mutating func stop(_ planned: [JobID], for preemptor: JobID, tenant: String, reclaim: Bool) -> [JobID]? {
        var victims = planned
        for id in planned {
            guard let v = jobs[id], v.spec.isGang, let gang = v.arrayJob else { continue }
            jobs.forEachActive { s in if s.arrayJob == gang && !victims.contains(s.id) { victims.append(s.id) } }
        }
        for id in victims {
            guard var victim = jobs[id] else { continue }
            victim.preemptedBy = preemptor
            victim.reason = reclaim ? "being preempted: tenant \(tenant) reclaims its quota for job \(preemptor)"
                : "being preempted by job \(preemptor)"
            save(victim)
            guard let node = victim.assignment?.node else { continue }
            send(.killTask(KillTask(ref: TaskRef(job: id), graceSeconds: victim.spec.killGraceSeconds ?? 10,
                                    reason: "preempted by job \(preemptor)", signal: victim.spec.checkpointSignal)),
                 to: node)
        }
        return victims
    }
}
