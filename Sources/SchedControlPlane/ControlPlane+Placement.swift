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

    /// Tries every pending job, oldest first, against the current fleet; places what fits.
    /// A job that still cannot be placed gets a log record only when its reason changed.
    mutating func schedulePending() {
        // Highest priority first; the older job first among equals.
        let now = wallNow
        stopFailedGangs()
        advanceRollouts()
        advanceFairShare()
        // Order ids by small keys (sorting whole job records would copy them around).
        var keyed: [(key: QueueKey, id: JobID, gang: JobID?)] = []
        keyed.reserveCapacity(jobs.pendingIDs.count)
        for id in jobs.pendingIDs {
            guard let j = jobs[id], j.state == .pending, (j.notBeforeMs ?? 0) <= now else { continue }
            keyed.append((queueKey(j), id, j.spec.isGang ? j.arrayJob : nil))
        }
        guard !keyed.isEmpty else { return }
        keyed.sort { $0.key < $1.key }
        var gangMembers: [JobID: [JobID]] = [:]
        for k in keyed { if let g = k.gang { gangMembers[g, default: []].append(k.id) } }
        // The pass works on the cached snapshot itself (taken out, so changing it copies
        // nothing) and puts it back when done; what it changed in `nodes` too is re-read then.
        var fleet = snapshot()
        fleetCache = nil
        passHoldsFleet = true
        defer {
            fleetCache = fleet
            passHoldsFleet = false
        }
        let index = fleetPositions
        let profile = workload.profile()
        var gangsTried = Set<JobID>()
        // Gangs with a member still starting or running (a preempted gang is requeued member by
        // member, as the exits arrive): their pending members wait until every member stopped, so
        // the gang is placed again whole, never part of it beside a member still stopping.
        // Members of an array have consecutive ids from the array's first job (one transaction).
        func stillActive(_ gang: JobID, size: Int) -> Bool {
            (0..<size).contains { jobs[JobID(gang.rawValue + Int64($0))]?.state.isActive == true }
        }
        // EASY backfill: the first job that cannot start gets a reservation; later jobs may use
        // the reserved node only if their time limit ends them before it starts.
        var reservation: PassReservation?
        // Preemption is looked at only for jobs that outrank some preemptible running job, so a
        // long queue of ordinary jobs costs nothing extra per pass.
        // What each tenant holds, computed once when a reclaim or a tenant cap first needs it, then
        // kept up to date as jobs are placed (a long queue of unplaceable jobs reuses it).
        var holdingsCache: [String: TenantQuota]?
        let lowestPreemptible = jobs.preemptibleRunning.values.min()
        // Jobs whose victims are stopping are gone from the queue or placed; forget stale entries.
        preemptors = preemptors.filter { jobs[$0.key]?.state == .pending }
        // Within a pass, a request that fitted nowhere still fits nowhere until something is
        // placed (placing only takes room): later jobs with the same request reuse the decision
        // instead of searching again. Used only where nothing else differs between such jobs
        // (no preemption, tenants, reservations, alternatives or masked nodes).
        var unplaceableMemo: [UnplaceableKey: PlacementExplanation] = [:]
        var gangMemo: [GangKey: PlacementExplanation] = [:]
        let memoAllowed = lowestPreemptible == nil && config.tenants.isEmpty && config.tenantCaps.isEmpty
        var running: [RunningTask]?
        // The last masked view, reused while the fleet and the reserved nodes stay the same (a
        // long queue behind a reservation then costs one copy of the fleet, not one per job).
        var maskedView: (reserved: Set<NodeID>, version: Int, snapshot: ClusterSnapshot)?
        func view(for job: JobInfo) -> ClusterSnapshot {
            let own = job.spec.isGang ? (job.arrayJob ?? job.id) : job.id
            var reserved = Set(preemptors.filter { $0.key != own }.values.joined())
            if let r = reservation,
               !Backfill.endsBefore(r.startMs, timeLimitMs: job.spec.timeLimitSeconds.map { Int64($0) * 1000 }, nowMs: now) {
                reserved.formUnion(r.nodes)
            }
            guard !reserved.isEmpty else { return fleet }
            if let m = maskedView, m.reserved == reserved, m.version == fleet.version { return m.snapshot }
            var masked = fleet
            for n in reserved {
                guard let i = index[n] else { continue }
                masked.setSchedulable(false, reason: .reserved, at: i)
            }
            maskedView = (reserved, fleet.version, masked)
            return masked
        }
        for k in keyed {
            guard var job = jobs[k.id] else { continue }
            if job.spec.isGang, let gang = job.arrayJob {
                // A gang's members are placed together, when its first pending member comes up.
                if gangsTried.insert(gang).inserted, !stillActive(gang, size: job.spec.array ?? 1) {
                    let members = (gangMembers[gang] ?? []).compactMap { jobs[$0] }.filter { $0.state == .pending }
                    let gangKey: GangKey? = memoAllowed && reservation == nil && preemptors.isEmpty
                        ? GangKey(queue: job.spec.queueName, request: job.spec.resources, count: members.count, nvlink: job.spec.nvlink) : nil
                    if let gangKey, let e = gangMemo[gangKey] {
                        recordGangWaiting(members, e, estimate: nil)
                        continue
                    }
                    let waits = scheduleGang(members, view: view(for: job), fleet: &fleet, index: index, profile: profile, now: now,
                                             outranks: lowestPreemptible.map { (job.spec.priority ?? 0) > $0 } ?? false,
                                             holdings: &holdingsCache, reservation: &reservation)
                    if let first = members.first, jobs[first.id]?.state != .pending {
                        // Placed: placing only takes room, but the memos are dropped so the
                        // explanations' numbers stay exact.
                        unplaceableMemo.removeAll(keepingCapacity: true)
                        gangMemo.removeAll(keepingCapacity: true)
                        running = nil
                    } else if let gangKey, let waits, reservation == nil {
                        gangMemo[gangKey] = waits
                    }
                }
                continue
            }
            guard job.state == .pending else { continue }
            if let why = capExcess(job, tasks: 1, holdings: &holdingsCache) {
                holdForCap(job, why)
                continue
            }
            let memoKey: UnplaceableKey? = memoAllowed && reservation == nil && preemptors.isEmpty && job.spec.alternatives == nil
                ? UnplaceableKey(queue: job.spec.queueName, request: job.spec.resources) : nil
            if let memoKey, let e = unplaceableMemo[memoKey] {
                if lastPendingSummary[job.id] != e.summary || job.estimatedStartMs != nil {
                    lastPendingSummary[job.id] = e.summary
                    appendLog(job: job, decision: .unplaceable(e))
                    job.reason = e.summary
                    job.estimatedStartMs = nil
                    save(job)
                }
                continue
            }
            let jobPlacer = placer(for: job.spec, workload: profile)
            let snap = view(for: job)
            var decision = jobPlacer.place(job.spec.resources, in: snap)
            var shapeNote: (index: Int, why: String)?
            if job.spec.alternatives?.isEmpty == false {
                let shapes = job.spec.shapes
                // Only shapes that keep the tenant within its cap (shape 0 passed the check above).
                let allowed = shapes.indices.filter { i in
                    var shaped = job
                    shaped.spec.resources = shapes[i].resources
                    return i == 0 || capExcess(shaped, tasks: 1, holdings: &holdingsCache) == nil
                }
                if let (k, d) = ShapeChooser.choose(allowed.map { shapes[$0] }, placer: jobPlacer, in: snap) {
                    let i = allowed[k]
                    let faster = shapes.indices.filter { shapes[$0].speedMilli > shapes[i].speedMilli }
                    let why = faster.isEmpty ? "the fastest shape fits"
                        : "faster shape\(faster.count == 1 ? "" : "s") \(faster.map(String.init).joined(separator: ", ")) fit nowhere"
                    decision = d
                    shapeNote = (i, "shape \(i) (speed \(Double(shapes[i].speedMilli) / 1000)): \(why)")
                    job.shape = i
                }
            }
            switch decision {
            case .placed(var assignment, _, _):
                if plantedBugs.skipDoubleBookingCheck { assignment = lowestPUs(like: assignment) }
                job.state = .starting
                job.assignment = assignment
                job.reason = nil
                save(job)
                nodes[assignment.node]?.state.apply(assignment)
                if let i = index[assignment.node] { fleet.apply(assignment, toNodeAt: i) }
                preemptors[job.id] = nil
                unplaceableMemo.removeAll(keepingCapacity: true)
                gangMemo.removeAll(keepingCapacity: true)
                running = nil
                Self.hold(assignment, tenant: job.spec.tenantName, in: &holdingsCache)
                lastPendingSummary[job.id] = nil
                appendLog(job: job, decision: decision, shape: shapeNote)
                log(.info, "placed", ["job.id": "\(job.id)", "node.id": "\(assignment.node)",
                                                 "pus": "\(assignment.pus)", "gpus": "\(assignment.gpus)"])
                send(.startTask(startTask(for: job, assignment: assignment)), to: assignment.node)
            case .unplaceable(let e):
                let outranks = lowestPreemptible.map { (job.spec.priority ?? 0) > $0 } ?? false
                var reclaim = false
                if !config.tenants.isEmpty {
                    let holdings = holdingsCache ?? tenantHoldings()
                    holdingsCache = holdings
                    reclaim = mayReclaim(job, holdings: holdings)
                }
                let victims = outranks || reclaim ? preemptIfPossible(for: job, in: snap, reclaim: reclaim) : []
                if !victims.isEmpty {
                    job = jobs[job.id] ?? job
                    job.reason = "waiting for preempted jobs to stop: \(victims.map(\.description).joined(separator: ", "))"
                    save(job)
                    lastPendingSummary[job.id] = nil
                    continue
                }
                var estimate: Int64?
                // Without time limits nothing is known to end: no reservation to compute, except
                // when nodes are masked for preemptors (the job may fit on an unmasked view).
                if reservation == nil, !jobs.timeLimitedActive.isEmpty || !preemptors.isEmpty {
                    let tasks = running ?? runningTasks(now: now)
                    running = tasks
                    if let r = Backfill.reservation(for: job.spec.resources, in: fleet, running: tasks, nowMs: now) {
                        reservation = PassReservation(job: job.id, nodes: [r.node], startMs: r.startMs)
                        estimate = r.startMs
                    }
                }
                if let memoKey, estimate == nil, reservation == nil { unplaceableMemo[memoKey] = e }
                if lastPendingSummary[job.id] != e.summary || job.estimatedStartMs != estimate {
                    lastPendingSummary[job.id] = e.summary
                    appendLog(job: job, decision: decision)
                    job.reason = e.summary
                    job.estimatedStartMs = estimate
                    save(job)
                }
            }
        }
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

    mutating func startTask(for job: JobInfo, assignment: Assignment) -> StartTask {
        var env = job.spec.env
        if let shape = job.shape { env["SCHED_SHAPE"] = "\(shape)" }
        return StartTask(ref: TaskRef(job: job.id), jobName: job.spec.displayName, command: job.spec.command,
                  env: env, workdir: job.spec.workdir, assignment: assignment,
                  killGraceSeconds: job.spec.killGraceSeconds ?? 10, arrayJob: job.arrayJob, arrayIndex: job.arrayIndex)
    }

    /// Writes a placement record (the shell hands it to `log --follow` readers once stored).
    mutating func appendLog(job: JobInfo, decision: PlacementDecision, shape: (index: Int, why: String)? = nil) {
        let request = shape.map { job.spec.shapes[$0.index].resources } ?? job.spec.resources
        var record = PlacementRecord(time: "", job: job.id, jobName: job.spec.displayName,
                                     request: request, decision: decision)
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
