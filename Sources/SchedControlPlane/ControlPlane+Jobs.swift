import SchedCore
import SchedProtocol

extension ControlPlane {
    /// Checks a submission and asks the store to insert its jobs, all or none, in one
    /// transaction (the store assigns consecutive ids). A bad spec refuses the whole batch with
    /// its position in the error. The reply follows `jobsInserted`.
    mutating func submit(_ id: RequestID, _ specs: [JobSpec], placeAtOnce: Bool, by p: Principal = .clusterAdmin, runAs: String?) {
        guard !specs.isEmpty else { return refuse(id, ErrorReply(.invalidSpec, "specs: empty batch")) }
        for (i, spec) in specs.enumerated() {
            let at = specs.count == 1 ? "" : "specs[\(i)]."
            if let p = spec.problems().first { return refuse(id, ErrorReply(.invalidSpec, "\(at)\(p.field): \(p.message)")) }
            guard queues[spec.queueName] != nil else {
                return refuse(id, ErrorReply(.invalidSpec, "\(at)queue: no queue '\(spec.queueName)'; queues: \(queues.keys.sorted().joined(separator: ", "))"))
            }
        }
        let counts = specs.map { $0.array ?? 1 }
        // Flat position → (spec, index inside its array).
        var owner: [(spec: Int, index: Int)] = []
        owner.reserveCapacity(counts.reduce(0, +))
        for (s, c) in counts.enumerated() { for i in 0..<c { owner.append((s, i)) } }
        pendingInserts[id] = (counts, placeAtOnce, p)
        actions.append(.insertJobs(id, JobInsert(specs: specs, owner: owner, submittedAtMs: wallNow, submittedBy: p.ownerName, runAs: runAs)))
    }

    /// The store inserted a submission's jobs (or refused them): hold them, then try to place
    /// them. With `placeAtOnce` the first placement attempt runs before the reply (so a job that
    /// cannot start already says why) and the reply waits for that pass's commit attempt;
    /// without (SUBMIT_BATCH, whose reply reports only the ids the insert stored), they join
    /// the next coalesced pass and the reply goes at once.
    mutating func jobsInserted(_ id: RequestID, _ result: Result<[JobInfo], StoreFailure>) {
        guard let (counts, placeAtOnce, principal) = pendingInserts.removeValue(forKey: id) else { return }
        let stored: [JobInfo]
        switch result {
        case .success(let jobs): stored = jobs
        case .failure(let error):
            audit("SUBMIT", "\(counts.reduce(0, +)) jobs", by: principal, outcome: WireErrorCode.unavailable.rawValue)
            actions.append(.reply(id, .message(.error(ErrorReply(.unavailable, "job not stored: \(error)")))))
            return
        }
        if let first = stored.first, let last = stored.last {
            audit("SUBMIT", stored.count == 1 ? "job \(first.id)" : "jobs \(first.id)-\(last.id)", by: principal, outcome: "ok")
        }
        let total = counts.reduce(0, +)
        guard stored.count == total else {
            actions.append(.reply(id, .message(.error(ErrorReply(.internalError, "stored \(stored.count) of \(total) jobs")))))
            return
        }
        var firsts: [JobInfo] = []
        for job in stored {
            track(job)
            workload.observe(job.spec.resources)
            if (job.arrayIndex ?? 0) == 0 { firsts.append(job) }
        }
        if let first = firsts.first {
            log(.info, "submitted", ["job.id": "\(first.id)", "job.name": "\(first.spec.displayName)",
                                     "specs": "\(counts.count)", "jobs": "\(total)"])
        }
        if placeAtOnce {
            schedulePending()
            reply(id, .submitted(firsts: firsts.map { jobs[$0.id] ?? $0 }, counts: counts), whenDurable: false)
        } else {
            requestPass()
            actions.append(.reply(id, .submitted(firsts: firsts, counts: counts)))
        }
    }

    /// Jobs, newest first.
    mutating func listJobs(_ q: ListJobs, storedFinished: [JobInfo]?, for p: Principal = .clusterAdmin) -> [JobInfo] {
        let limit = min(max(q.limit ?? 1000, 1), 100_000)
        let states = q.states.map(Set.init)
        let inMemory = Array(jobs.values.filter { (states?.contains($0.state) ?? true) && p.sees(tenant: $0.spec.tenantName) }
            .sorted { $0.id > $1.id }.prefix(limit))
        // Finished jobs that left memory are in the store: the newest of them compete for the limit.
        let finished = JobState.allCases.filter { $0.isTerminal && (states?.contains($0) ?? true) }
        guard retention.evicted > 0, !finished.isEmpty, let stored = storedFinished else { return inMemory }
        let merged = inMemory + stored.filter { jobs[$0.id] == nil && p.sees(tenant: $0.spec.tenantName) }
        return Array(merged.sorted { $0.id > $1.id }.prefix(limit))
    }

    mutating func job(_ id: JobID, stored: JobInfo?) throws(ErrorReply) -> JobInfo {
        guard let j = knownJob(id, stored: stored) else { throw ErrorReply(.notFound, "no job \(id)") }
        return withRolloutProgress(j)
    }

    /// Cancels a job: a pending one at once; a running one by asking its agent to stop it
    /// (SIGTERM, then SIGKILL after the grace period). Its state becomes `cancelled` when the
    /// agent reports the exit, or at once when its node is not connected.
    mutating func cancel(_ id: JobID, stored: JobInfo?) throws(ErrorReply) -> JobInfo {
        guard var job = knownJob(id, stored: stored) else { throw ErrorReply(.notFound, "no job \(id)") }
        if job.state.isTerminal { throw ErrorReply(.conflict, "job \(id) already \(job.state.rawValue)") }
        let heldResources = job.state.isActive ? job.assignment : nil
        if job.state == .pending || job.assignment.map({ links[$0.node] == nil }) ?? true {
            job.state = .cancelled
            job.reason = "cancelled by user"
            job.finishedAtMs = wallNow
        } else {
            job.cancelRequested = true
            job.reason = "cancel requested"
        }
        // Written first; the KILL_TASK and the reply leave once it is stored.
        save(job)
        if job.state.isTerminal, let a = heldResources { nodes[a.node]?.state.release(a) }
        if job.cancelRequested == true, !job.state.isTerminal, let a = job.assignment {
            send(.killTask(KillTask(ref: TaskRef(job: id), graceSeconds: job.spec.killGraceSeconds ?? 10, reason: "cancelled by user")), to: a.node)
        }
        log(.info, "cancel", ["job.id": "\(id)", "job.state": "\(job.state.rawValue)"])
        if job.state.isTerminal { schedulePending() }
        return job
    }

    /// Answers when the job is completed, failed or cancelled (once that is stored).
    mutating func wait(_ request: RequestID, for id: JobID, stored: JobInfo?) {
        guard let j = knownJob(id, stored: stored) else { return refuse(request, ErrorReply(.notFound, "no job \(id)")) }
        if j.state.isTerminal { return answerNow(request, .jobInfo(j)) }
        waiters[id, default: []].append(request)
    }

    /// Why a job waits (with a fresh evaluation) or why it went where it went.
    mutating func explain(_ id: JobID, stored: JobInfo?, latest: PlacementRecord?) throws(ErrorReply) -> Explanation {
        guard let j = knownJob(id, stored: stored) else { throw ErrorReply(.notFound, "no job \(id)") }
        var current: PlacementRecord?
        if j.state == .pending, j.spec.isGang, let g = j.arrayJob {
            // A gang waits as a whole: evaluate all its pending members at once.
            let count = jobs.values.filter { $0.arrayJob == g && $0.state == .pending }.count
            let gp = GangPlacer(placer: placer(for: j.spec))
            let d: PlacementDecision
            switch gp.place(j.spec.resources, count: count, in: snapshot(), locality: j.spec.nvlink) {
            case .placed(let ds): d = ds[0]
            case .unplaceable(let e): d = .unplaceable(e)
            }
            current = PlacementRecord(time: "", job: id, jobName: j.spec.displayName,
                                      request: j.spec.resources, decision: d)
        } else if j.state == .pending {
            let d = placer(for: j.spec).place(j.spec.resources, in: snapshot())
            current = PlacementRecord(time: "", job: id, jobName: j.spec.displayName,
                                      request: j.spec.resources, decision: d)
        }
        var position: Int?, length: Int?
        if j.state == .pending {
            // The pass's own order (`queueKey`), so explain and the pass never disagree.
            let queue = jobs.pendingIDs.compactMap { jobs[$0] }.map { queueKey($0) }.sorted()
            position = (queue.firstIndex { $0.id == id } ?? 0) + 1
            length = queue.count
        }
        var x = Explanation(job: withRolloutProgress(j), latest: latest, current: current, queuePosition: position, queueLength: length)
        x.held = capHold(j)
        return x
    }
}
