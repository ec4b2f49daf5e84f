import SchedCore
import SchedProtocol

/// What one scheduling pass carries from job to job (see `ControlPlane.schedulePending`).
struct SchedulingPass {
    let now: Int64
    /// The pass works on the cached snapshot itself (taken out of the cache, so changing it
    /// copies nothing) and puts it back when done.
    var fleet: ClusterSnapshot
    let index: [NodeID: Int]
    let profile: WorkloadProfile
    /// Gangs already tried in this pass (a gang is tried when its first pending member comes up).
    var gangsTried = Set<JobID>()
    /// EASY backfill: the first job that cannot start gets a reservation; later jobs may use
    /// the reserved node only if their time limit ends them before it starts.
    var reservation: PassReservation?
    /// What each tenant holds, computed once when a reclaim or a tenant cap first needs it, then
    /// kept up to date as jobs are placed (a long queue of unplaceable jobs reuses it).
    var holdings: [String: TenantQuota]?
    /// Preemption is looked at only for jobs that outrank some preemptible running job, so a
    /// long queue of ordinary jobs costs nothing extra per pass.
    let lowestPreemptible: Int?
    /// Within a pass, a request that fitted nowhere still fits nowhere until something is placed
    /// (placing only takes room): later jobs with the same request reuse the decision instead of
    /// searching again. Used only where nothing else differs between such jobs (no preemption,
    /// tenants, reservations, alternatives or masked nodes).
    var unplaceableMemo: [UnplaceableKey: PlacementExplanation] = [:]
    var gangMemo: [GangKey: PlacementExplanation] = [:]
    let memoAllowed: Bool
    /// Active tasks with their ends, built when backfill first needs them.
    var running: [RunningTask]?
    /// The last masked view, reused while the fleet and the reserved nodes stay the same (a long
    /// queue behind a reservation then costs one copy of the fleet, not one per job).
    var maskedView: (reserved: Set<NodeID>, version: Int, snapshot: ClusterSnapshot)?

    /// Whether a job of priority `priority` outranks some preemptible running job.
    func outranks(_ priority: Int?) -> Bool { lowestPreemptible.map { (priority ?? 0) > $0 } ?? false }

    /// Something was placed: the memos are dropped so that explanations' numbers stay exact.
    mutating func placedSomething() {
        unplaceableMemo.removeAll(keepingCapacity: true)
        gangMemo.removeAll(keepingCapacity: true)
        running = nil
    }
}

/// A pending job in queue order: its key, id and gang (the gang's first job id).
struct QueuedJob {
    var key: QueueKey
    var id: JobID
    var gang: JobID?
}

extension ControlPlane {
    /// Tries every pending job, in queue order, against the current fleet; places what fits.
    /// A job that still cannot be placed gets a log record only when its reason changed.
    ///
    /// Phases: the periodic work that changes what is pending (failed gangs, rollouts, fair
    /// share); the queue (`pendingQueue`); then each job or gang in turn (`tryJob`, `tryGang`),
    /// each of which decides, applies a placement or records why it waits.
    mutating func schedulePending() {
        stopFailedGangs()
        advanceRollouts()
        advanceFairShare()
        let now = wallNow
        let (queue, gangMembers) = pendingQueue(now: now)
        guard !queue.isEmpty else { return }
        var pass = beginPass(now: now)
        for q in queue {
            guard let job = jobs[q.id] else { continue }
            if job.spec.isGang, let gang = job.arrayJob {
                if pass.gangsTried.insert(gang).inserted { tryGang(gang, first: job, members: gangMembers[gang] ?? [], &pass) }
                continue
            }
            guard job.state == .pending else { continue }
            tryJob(job, &pass)
        }
        endPass(pass)
    }

    /// The pending jobs that may start now, highest priority first and the older job first among
    /// equals (`queueKey`, which `explain` uses too), with each gang's pending members.
    mutating func pendingQueue(now: Int64) -> ([QueuedJob], [JobID: [JobID]]) {
        // Ordered by small keys (sorting whole job records would copy them around).
        var queue: [QueuedJob] = []
        queue.reserveCapacity(jobs.pendingIDs.count)
        for id in jobs.pendingIDs {
            guard let j = jobs[id], j.state == .pending, (j.notBeforeMs ?? 0) <= now else { continue }
            queue.append(QueuedJob(key: queueKey(j), id: id, gang: j.spec.isGang ? j.arrayJob : nil))
        }
        queue.sort { $0.key < $1.key }
        var gangMembers: [JobID: [JobID]] = [:]
        for q in queue { if let g = q.gang { gangMembers[g, default: []].append(q.id) } }
        return (queue, gangMembers)
    }

    /// Takes the fleet out of the cache for the pass (what the pass changes in `nodes` too is
    /// re-read when it is put back).
    mutating func beginPass(now: Int64) -> SchedulingPass {
        let fleet = snapshot()
        fleetCache = nil
        passHoldsFleet = true
        // Jobs whose victims are stopping are gone from the queue or placed; forget stale entries.
        preemptors = preemptors.filter { jobs[$0.key]?.state == .pending }
        let lowestPreemptible = jobs.preemptibleRunning.values.min()
        return SchedulingPass(now: now, fleet: fleet, index: fleetPositions, profile: workload.profile(),
                              lowestPreemptible: lowestPreemptible,
                              memoAllowed: lowestPreemptible == nil && config.tenants.isEmpty && config.tenantCaps.isEmpty)
    }

    /// Puts the pass's fleet back into the cache.
    mutating func endPass(_ pass: consuming SchedulingPass) {
        fleetCache = pass.fleet
        passHoldsFleet = false
    }

    /// The fleet a job may be placed on: nodes held for other preemptors and, unless the job's
    /// time limit ends it before the backfill reservation starts, the reserved node are masked.
    func view(for job: JobInfo, _ pass: inout SchedulingPass) -> ClusterSnapshot {
        let own = job.spec.isGang ? (job.arrayJob ?? job.id) : job.id
        var reserved = Set(preemptors.filter { $0.key != own }.values.joined())
        if let r = pass.reservation,
           !Backfill.endsBefore(r.startMs, timeLimitMs: job.spec.timeLimitSeconds.map { Int64($0) * 1000 }, nowMs: pass.now) {
            reserved.formUnion(r.nodes)
        }
        guard !reserved.isEmpty else { return pass.fleet }
        if let m = pass.maskedView, m.reserved == reserved, m.version == pass.fleet.version { return m.snapshot }
        var masked = pass.fleet
        for n in reserved {
            guard let i = pass.index[n] else { continue }
            masked.setSchedulable(false, reason: .reserved, at: i)
        }
        pass.maskedView = (reserved, pass.fleet.version, masked)
        return masked
    }

    /// A gang's members are placed together, all or none, when its first pending member comes
    /// up, and only once no member is still starting or running: a preempted gang is requeued
    /// member by member as the exits arrive, and is placed again whole, never part of it beside a
    /// member still stopping. Members of an array have consecutive ids from its first job.
    mutating func tryGang(_ gang: JobID, first job: JobInfo, members ids: [JobID], _ pass: inout SchedulingPass) {
        let size = job.spec.array ?? 1
        guard !(0..<size).contains(where: { jobs[JobID(gang.rawValue + Int64($0))]?.state.isActive == true }) else { return }
        let members = ids.compactMap { jobs[$0] }.filter { $0.state == .pending }
        let gangKey: GangKey? = pass.memoAllowed && pass.reservation == nil && preemptors.isEmpty
            ? GangKey(queue: job.spec.queueName, request: job.spec.resources, count: members.count, nvlink: job.spec.nvlink) : nil
        if let gangKey, let e = pass.gangMemo[gangKey] {
            recordGangWaiting(members, e, estimate: nil)
            return
        }
        let waits = scheduleGang(members, view: view(for: job, &pass), fleet: &pass.fleet, index: pass.index, profile: pass.profile,
                                 now: pass.now, outranks: pass.outranks(job.spec.priority),
                                 holdings: &pass.holdings, reservation: &pass.reservation)
        if let first = members.first, jobs[first.id]?.state != .pending {
            pass.placedSomething()
        } else if let gangKey, let waits, pass.reservation == nil {
            pass.gangMemo[gangKey] = waits
        }
    }

    /// One pending job that is not a gang member: its tenant's cap, the memo, the decision
    /// (with its alternative shapes), then the placement or why it waits.
    mutating func tryJob(_ job: JobInfo, _ pass: inout SchedulingPass) {
        if let why = capExcess(job, tasks: 1, holdings: &pass.holdings) {
            holdForCap(job, why)
            return
        }
        let memoKey: UnplaceableKey? = pass.memoAllowed && pass.reservation == nil && preemptors.isEmpty && job.spec.alternatives == nil
            ? UnplaceableKey(queue: job.spec.queueName, request: job.spec.resources) : nil
        if let memoKey, let e = pass.unplaceableMemo[memoKey] {
            recordWaiting(job, e, estimate: nil)
            return
        }
        var job = job
        let snap = view(for: job, &pass)
        let (decision, shapeNote) = decide(&job, on: snap, &pass)
        switch decision {
        case .placed(let assignment, _, _):
            applyPlacement(job, assignment, decision: decision, shape: shapeNote, &pass)
        case .unplaceable(let e):
            if preemptFor(&job, on: snap, &pass) { return }
            let estimate = backfillEstimate(for: job, &pass)
            if let memoKey, estimate == nil, pass.reservation == nil { pass.unplaceableMemo[memoKey] = e }
            recordWaiting(job, e, estimate: estimate)
        }
    }

    /// The decision for one job on `snap`. With alternative shapes, the fastest shape that fits
    /// among those that keep the tenant within its cap (shape 0 passed the check already); the
    /// chosen shape is set on `job`.
    mutating func decide(_ job: inout JobInfo, on snap: ClusterSnapshot,
                         _ pass: inout SchedulingPass) -> (PlacementDecision, (index: Int, why: String)?) {
        let jobPlacer = placer(for: job.spec, workload: pass.profile)
        let decision = jobPlacer.place(job.spec.resources, in: snap)
        guard job.spec.alternatives?.isEmpty == false else { return (decision, nil) }
        let shapes = job.spec.shapes
        let allowed = shapes.indices.filter { i in
            var shaped = job
            shaped.spec.resources = shapes[i].resources
            return i == 0 || capExcess(shaped, tasks: 1, holdings: &pass.holdings) == nil
        }
        guard let (k, d) = ShapeChooser.choose(allowed.map { shapes[$0] }, placer: jobPlacer, in: snap) else { return (decision, nil) }
        let i = allowed[k]
        let faster = shapes.indices.filter { shapes[$0].speedMilli > shapes[i].speedMilli }
        let why = faster.isEmpty ? "the fastest shape fits"
            : "faster shape\(faster.count == 1 ? "" : "s") \(faster.map(String.init).joined(separator: ", ")) fit nowhere"
        job.shape = i
        return (d, (i, "shape \(i) (speed \(Double(shapes[i].speedMilli) / 1000)): \(why)"))
    }

    /// Records the placement, takes its resources in the plane and the pass's fleet, and sends
    /// START_TASK (it leaves once the placement is stored).
    mutating func applyPlacement(_ job: JobInfo, _ placed: Assignment, decision: PlacementDecision,
                                 shape: (index: Int, why: String)?, _ pass: inout SchedulingPass) {
        var job = job, assignment = placed
        if plantedBugs.skipDoubleBookingCheck { assignment = lowestPUs(like: assignment) }
        job.state = .starting
        job.assignment = assignment
        job.reason = nil
        save(job)
        nodes[assignment.node]?.state.apply(assignment)
        if let i = pass.index[assignment.node] { pass.fleet.apply(assignment, toNodeAt: i) }
        preemptors[job.id] = nil
        pass.placedSomething()
        Self.hold(assignment, tenant: job.spec.tenantName, in: &pass.holdings)
        lastPendingSummary[job.id] = nil
        appendLog(job: job, decision: decision, shape: shape)
        log(.info, "placed", ["job.id": "\(job.id)", "node.id": "\(assignment.node)",
                              "pus": "\(assignment.pus)", "gpus": "\(assignment.gpus)"])
        send(.startTask(startTask(for: job, assignment: assignment)), to: assignment.node)
    }

    /// Preempts for a job that fits nowhere, when it outranks a preemptible running job or its
    /// tenant reclaims its quota. Returns whether victims are now stopping for it.
    mutating func preemptFor(_ job: inout JobInfo, on snap: ClusterSnapshot, _ pass: inout SchedulingPass) -> Bool {
        var reclaim = false
        if !config.tenants.isEmpty {
            let holdings = pass.holdings ?? tenantHoldings()
            pass.holdings = holdings
            reclaim = mayReclaim(job, holdings: holdings)
        }
        guard pass.outranks(job.spec.priority) || reclaim else { return false }
        let victims = preemptIfPossible(for: job, in: snap, reclaim: reclaim)
        guard !victims.isEmpty else { return false }
        job = jobs[job.id] ?? job
        job.reason = "waiting for preempted jobs to stop: \(victims.map(\.description).joined(separator: ", "))"
        save(job)
        lastPendingSummary[job.id] = nil
        return true
    }

    /// The backfill reservation for the first job that cannot start, and its estimated start.
    /// Without time limits nothing is known to end: no reservation to compute, except when nodes
    /// are masked for preemptors (the job may fit on an unmasked view).
    mutating func backfillEstimate(for job: JobInfo, _ pass: inout SchedulingPass) -> Int64? {
        guard pass.reservation == nil, !jobs.timeLimitedActive.isEmpty || !preemptors.isEmpty else { return nil }
        let tasks = pass.running ?? runningTasks(now: pass.now)
        pass.running = tasks
        guard let r = Backfill.reservation(for: job.spec.resources, in: pass.fleet, running: tasks, nowMs: pass.now) else { return nil }
        pass.reservation = PassReservation(job: job.id, nodes: [r.node], startMs: r.startMs)
        return r.startMs
    }

    /// Records why a job waits, with a placement-log record, only when the reason or the
    /// estimated start changed.
    mutating func recordWaiting(_ job: JobInfo, _ e: PlacementExplanation, estimate: Int64?) {
        guard lastPendingSummary[job.id] != e.summary || job.estimatedStartMs != estimate else { return }
        var job = job
        lastPendingSummary[job.id] = e.summary
        appendLog(job: job, decision: .unplaceable(e))
        job.reason = e.summary
        job.estimatedStartMs = estimate
        save(job)
    }
}
