import SchedCore
import SchedProtocol

extension ControlPlane {
    /// The fleet as the core sees it now: the cached snapshot with the nodes written since the
    /// last call brought up to date; rebuilt only when a node was added (nodes are never removed).
    public mutating func snapshot() -> ClusterSnapshot {
        // During a pass the cache is the pass's to change: anyone else gets a fresh build.
        guard !passHoldsFleet else { return freshSnapshot() }
        let changed = nodes.takeChanged()
        if fleetCache == nil || fleetPositions.count != nodes.count {
            let ids = nodes.keys.sorted()
            fleetCache = ClusterSnapshot(nodes: ids.compactMap { nodes[$0]?.snapshotState })
            fleetPositions = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
        } else {
            for id in changed {
                guard let i = fleetPositions[id], let state = nodes[id]?.snapshotState,
                      fleetCache?.nodes[i] != state else { continue }
                fleetCache?.modifyNode(at: i) { $0 = state }
            }
        }
        // Every change to a node goes through `nodes`' subscript, so the cache matches a rebuild.
        assert(fleetPositions.allSatisfy { fleetCache?.nodes[$1] == nodes[$0]?.snapshotState }, "cached fleet is stale")
        return fleetCache!
    }

    /// The fleet built from scratch from `nodes`.
    mutating func freshSnapshot() -> ClusterSnapshot {
        ClusterSnapshot(nodes: nodes.keys.sorted().compactMap { nodes[$0]?.snapshotState })
    }

    /// Whether the snapshot passes use equals one built from scratch (for tests).
    public mutating func cachedFleetIsCurrent() -> Bool { snapshot().nodes == freshSnapshot().nodes }

    /// The core configured for a job's queue, with the current workload profile.
    mutating func placer(for spec: JobSpec, workload profile: WorkloadProfile? = nil) -> Placer {
        Placer(policy: queues[spec.queueName] ?? config.policy, workload: profile ?? workload.profile())
    }

    /// Active tasks with the time their limit ends them (nil without a limit), for backfill.
    mutating func runningTasks(now: Int64) -> [RunningTask] {
        var tasks: [RunningTask] = []
        tasks.reserveCapacity(jobs.activeIDs.count)
        jobs.forEachActive { j in
            guard let a = j.assignment else { return }
            let end = j.spec.timeLimitSeconds.map { (j.startedAtMs ?? now) + Int64($0) * 1000 }
            tasks.append(RunningTask(assignment: a, endMs: end))
        }
        return tasks
    }

    /// Places every pending member of a gang, or none (see `GangPlacer`), deciding on `view` (the
    /// fleet with reserved nodes masked) and applying the placement to `snap`. Returns nil when
    /// placed, else why not (nothing is logged or stored then).
    @discardableResult
    mutating func placeGang(_ members: [JobInfo], snapshot snap: inout ClusterSnapshot, index: [NodeID: Int], profile: WorkloadProfile,
                   view: ClusterSnapshot? = nil) -> PlacementExplanation? {
        let members = members.sorted { ($0.arrayIndex ?? 0, $0.id) < ($1.arrayIndex ?? 0, $1.id) }
        guard let first = members.first else { return nil }
        let gangPlacer = GangPlacer(placer: placer(for: first.spec, workload: profile))
        switch gangPlacer.place(first.spec.resources, count: members.count, in: view ?? snap, locality: first.spec.nvlink) {
        case .placed(let decisions):
            let assignments = decisions.compactMap { d -> Assignment? in if case .placed(let a, _, _) = d { a } else { nil } }
            guard assignments.count == members.count else { return nil }
            let nodes = assignments.map(\.node)
            // Every member's placement is written before any member's START_TASK, and those
            // leave only once the whole batch (all members) is stored.
            var placed: [JobInfo] = []
            for (i, var job) in members.enumerated() {
                job.state = .starting
                job.assignment = assignments[i]
                job.reason = nil
                save(job)
                placed.append(job)
            }
            for (i, job) in placed.enumerated() {
                let a = assignments[i]
                lastPendingSummary[job.id] = nil
                appendLog(job: job, decision: decisions[i])
                var start = startTask(for: job, assignment: a)
                start.gangNodes = nodes
                send(.startTask(start), to: a.node)
            }
            log(.info, "gang placed", ["job.id": "\(first.id)", "members": "\(members.count)",
                                                  "nodes": "\(Set(nodes).map(\.rawValue).sorted())"])
            for a in assignments {
                self.nodes[a.node]?.state.apply(a)
                if let i = index[a.node] { snap.apply(a, toNodeAt: i) }
            }
            return nil
        case .unplaceable(let e):
            if plantedBugs.placeGangMemberAlone, members.count > 1, var job = jobs[first.id],
               case .placed(let a, _, _) = placer(for: first.spec, workload: profile).place(first.spec.resources, in: view ?? snap) {
                job.state = .starting
                job.assignment = a
                save(job)
                send(.startTask(startTask(for: job, assignment: a)), to: a.node)
                self.nodes[a.node]?.state.apply(a)
                if let i = index[a.node] { snap.apply(a, toNodeAt: i) }
            }
            return e
        }
    }

    /// Planted bug `skipDoubleBookingCheck`: the node's lowest PUs, free or not.
    func lowestPUs(like a: Assignment) -> Assignment {
        guard let topology = nodes[a.node]?.state.topology else { return a }
        var out = a
        var pus: [Int] = []
        for c in topology.cores { for p in c.pus where pus.count < a.pus.count { pus.append(p) } }
        out.pus = CPUSet(pus)
        return out
    }

    /// The `START_TASK` of a placed job, run as the job's `runAs` user (decided at submit from the
    /// token: its user, `nobody` without one, root only where the tenant allows it). A job stored
    /// before jobs recorded it has none, and the agent runs it as `nobody`.
    mutating func startTask(for job: JobInfo, assignment: Assignment) -> StartTask {
        var env = job.spec.env
        if let shape = job.shape { env["SCHED_SHAPE"] = "\(shape)" }
        return StartTask(ref: TaskRef(job: job.id), jobName: job.spec.displayName, command: job.spec.command,
                  env: env, workdir: job.spec.workdir, assignment: assignment,
                  killGraceSeconds: job.spec.killGraceSeconds ?? 10, arrayJob: job.arrayJob, arrayIndex: job.arrayIndex,
                  user: job.runAs)
    }

    /// Writes a placement record (the shell hands it to `log --follow` readers once stored).
    mutating func appendLog(job: JobInfo, decision: PlacementDecision, shape: (index: Int, why: String)? = nil) {
        let request = shape.map { job.spec.shapes[$0.index].resources } ?? job.spec.resources
        var record = PlacementRecord(time: "", job: job.id, jobName: job.spec.displayName,
                                     request: request, decision: decision)
        record.tenant = job.spec.tenantName
        if let shape {
            record.shape = shape.index
            record.summary = shape.why + "; " + record.summary
        }
        persist(record)
    }
}

/// What makes two jobs' placement attempts the same within a pass (see the memo in `schedulePending`).
struct UnplaceableKey: Hashable {
    var queue: String
    var request: ResourceRequest
}

/// The same for a gang: its members' request, how many wait, and the NVLink locality.
struct GangKey: Hashable {
    var queue: String
    var request: ResourceRequest
    var count: Int
    var nvlink: NVLinkLocality?
}
