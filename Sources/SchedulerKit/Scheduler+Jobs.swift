import SchedCore
import SchedProtocol

extension Scheduler {
    /// Stores a new job (or a job array, in one transaction) and returns the (first) job once
    /// durable, with the number of jobs stored; then tries to place them.
    public func submit(_ spec: JobSpec) async throws(ErrorReply) -> JobInfo { try await submitAll(spec).first }

    /// `submit` for job arrays: the first job and how many were stored (ids are consecutive).
    public func submitAll(_ spec: JobSpec) async throws(ErrorReply) -> (first: JobInfo, count: Int) {
        let (stored, counts) = try await submitBatch([spec])
        guard let first = stored.first else { throw ErrorReply(.internalError, "no job stored") }
        return (jobs[first.id] ?? first, counts[0])
    }

    /// Stores many specs (each possibly an array) in one transaction, all or none, then tries
    /// to place them. Returns each spec's first job and how many jobs it stored, in order.
    /// A bad spec refuses the whole batch with its position in the error. The insert runs on
    /// the store's writer thread, after the commits already handed to it; the actor handles
    /// other events meanwhile. With `placeAtOnce` the first placement attempt runs before this
    /// returns (so a job that cannot start already says why); without, it joins the next
    /// coalesced pass (`SUBMIT_BATCH`, whose reply reports only ids).
    public func submitBatch(_ specs: [JobSpec], placeAtOnce: Bool = true) async throws(ErrorReply) -> (firsts: [JobInfo], counts: [Int]) {
        guard !specs.isEmpty else { throw ErrorReply(.invalidSpec, "specs: empty batch") }
        for (i, spec) in specs.enumerated() {
            let at = specs.count == 1 ? "" : "specs[\(i)]."
            if let p = spec.problems().first { throw ErrorReply(.invalidSpec, "\(at)\(p.field): \(p.message)") }
            guard queues[spec.queueName] != nil else {
                throw ErrorReply(.invalidSpec, "\(at)queue: no queue '\(spec.queueName)'; queues: \(queues.keys.sorted().joined(separator: ", "))")
            }
        }
        let counts = specs.map { $0.array ?? 1 }
        // Flat position → (spec, index inside its array).
        var owner: [(spec: Int, index: Int)] = []
        owner.reserveCapacity(counts.reduce(0, +))
        for (s, c) in counts.enumerated() { for i in 0..<c { owner.append((s, i)) } }
        let now = Self.wallMs()
        var stored: [JobInfo]
        let store = self.store, ownerOf = owner
        let inserted: Result<[JobInfo], any Error> = await withCheckedContinuation { done in
            storeWriter.async {
                done.resume(returning: Result {
                    try store.insertJobs(count: ownerOf.count) { id, flat in
                        let (s, index) = ownerOf[flat]
                        let spec = specs[s]
                        var job = JobInfo(id: id, spec: spec, state: .pending, submittedAtMs: now)
                        if spec.array != nil {
                            job.arrayIndex = index
                            job.arrayJob = JobID(id.rawValue - Int64(index))
                        }
                        return job
                    }
                })
            }
        }
        switch inserted {
        case .success(let jobs): stored = jobs
        case .failure(let error): throw ErrorReply(.unavailable, "job not stored: \(error)")
        }
        guard stored.count == owner.count else { throw ErrorReply(.internalError, "stored \(stored.count) of \(owner.count) jobs") }
        var firsts: [JobInfo] = []
        for (flat, job) in stored.enumerated() {
            track(job)
            workload.observe(job.spec.resources)
            if owner[flat].index == 0 { firsts.append(job) }
        }
        stored.removeAll()
        if let first = firsts.first {
            logger.info("submitted", metadata: ["job.id": "\(first.id)", "job.name": "\(first.spec.displayName)",
                                                "specs": "\(specs.count)", "jobs": "\(owner.count)"])
        }
        // With group commit the pass's writes join the reply's commit.
        if placeAtOnce { schedulePending() } else { requestPass() }
        return (firsts.map { jobs[$0.id] ?? $0 }, counts)
    }

    /// Jobs, newest first.
    public func listJobs(_ q: ListJobs) -> [JobInfo] {
        let limit = min(max(q.limit ?? 1000, 1), 100_000)
        let states = q.states.map(Set.init)
        let inMemory = Array(jobs.values.filter { states?.contains($0.state) ?? true }.sorted { $0.id > $1.id }.prefix(limit))
        // Finished jobs that left memory are in the store: the newest of them compete for the limit.
        let finished = JobState.allCases.filter { $0.isTerminal && (states?.contains($0) ?? true) }
        guard evictedJobs > 0, !finished.isEmpty else { return inMemory }
        let stored: [JobInfo]
        do {
            stored = try store.jobs(states: finished, limit: limit)
        } catch {
            logger.error("cannot read finished jobs from the store; listing those in memory", metadata: ["error": "\(error)"])
            return inMemory
        }
        let merged = inMemory + stored.filter { jobs[$0.id] == nil }
        return Array(merged.sorted { $0.id > $1.id }.prefix(limit))
    }

    public func job(_ id: JobID) throws(ErrorReply) -> JobInfo {
        guard let j = try knownJob(id) else { throw ErrorReply(.notFound, "no job \(id)") }
        return withRolloutProgress(j)
    }

    /// Cancels a job: a pending one at once; a running one by asking its agent to stop it
    /// (SIGTERM, then SIGKILL after the grace period). Its state becomes `cancelled` when the
    /// agent reports the exit, or at once when its node is not connected.
    public func cancel(_ id: JobID) throws(ErrorReply) -> JobInfo {
        guard var job = try knownJob(id) else { throw ErrorReply(.notFound, "no job \(id)") }
        if job.state.isTerminal { throw ErrorReply(.conflict, "job \(id) already \(job.state.rawValue)") }
        let heldResources = job.state.isActive ? job.assignment : nil
        if job.state == .pending || job.assignment.map({ links[$0.node] == nil }) ?? true {
            job.state = .cancelled
            job.reason = "cancelled by user"
            job.finishedAtMs = Self.wallMs()
        } else {
            job.cancelRequested = true
            job.reason = "cancel requested"
        }
        // Stored first; only then acted on.
        do { try save(job) } catch { throw ErrorReply(.unavailable, "cancel not stored: \(error)") }
        if job.state.isTerminal, let a = heldResources { nodes[a.node]?.state.release(a) }
        if job.cancelRequested == true, !job.state.isTerminal, let a = job.assignment {
            send(.killTask(KillTask(ref: TaskRef(job: id), graceSeconds: job.spec.killGraceSeconds ?? 10, reason: "cancelled by user")), to: a.node)
        }
        logger.info("cancel", metadata: ["job.id": "\(id)", "job.state": "\(job.state.rawValue)"])
        if job.state.isTerminal { schedulePending() }
        return job
    }

    /// Returns when the job is completed, failed or cancelled.
    public func waitForTerminal(_ id: JobID) async throws(ErrorReply) -> JobInfo {
        guard let j = try knownJob(id) else { throw ErrorReply(.notFound, "no job \(id)") }
        if j.state.isTerminal { return j }
        return await withCheckedContinuation { c in waiters[id, default: []].append(c) }
    }

    /// Why a job waits (with a fresh evaluation) or why it went where it went.
    public func explain(_ id: JobID) throws(ErrorReply) -> Explanation {
        guard let j = try knownJob(id) else { throw ErrorReply(.notFound, "no job \(id)") }
        let latest = (try? store.placements(LogQuery(job: id, limit: 1)))?.last
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
            current = PlacementRecord(time: Self.rfc3339(Self.wallMs()), job: id, jobName: j.spec.displayName,
                                      request: j.spec.resources, decision: d)
        } else if j.state == .pending {
            let d = placer(for: j.spec).place(j.spec.resources, in: snapshot())
            current = PlacementRecord(time: Self.rfc3339(Self.wallMs()), job: id, jobName: j.spec.displayName,
                                      request: j.spec.resources, decision: d)
        }
        var position: Int?, length: Int?
        if j.state == .pending {
            let queue = jobs.values.filter { $0.state == .pending }.sorted(by: queueOrder)
            position = (queue.firstIndex { $0.id == id } ?? 0) + 1
            length = queue.count
        }
        var x = Explanation(job: withRolloutProgress(j), latest: latest, current: current, queuePosition: position, queueLength: length)
        x.held = capHold(j)
        return x
    }
}
