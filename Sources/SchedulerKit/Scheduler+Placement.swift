import SchedCore
import SchedProtocol

extension Scheduler {
    /// The fleet as the core sees it now.
    func snapshot() -> ClusterSnapshot {
        ClusterSnapshot(nodes: nodes.values.map(\.snapshotState))
    }

    /// The core configured for a job's queue, with the current workload profile.
    func placer(for spec: JobSpec, workload profile: WorkloadProfile? = nil) -> Placer {
        Placer(policy: queues[spec.queueName] ?? config.policy, workload: profile ?? workload.profile())
    }

    /// Tries every pending job, oldest first, against the current fleet; places what fits.
    /// A job that still cannot be placed gets a log record only when its reason changed.
    func schedulePending() {
        // Highest priority first; the older job first among equals.
        let pending = jobs.values.filter { $0.state == .pending }
            .sorted { ($1.spec.priority ?? 0, $0.id) < ($0.spec.priority ?? 0, $1.id) }
        guard !pending.isEmpty else { return }
        var snap = snapshot()
        var index: [NodeID: Int] = [:]
        for (i, n) in snap.nodes.enumerated() { index[n.id] = i }
        let profile = workload.profile()
        for var job in pending {
            let decision = placer(for: job.spec, workload: profile).place(job.spec.resources, in: snap)
            switch decision {
            case .placed(let assignment, _, _):
                job.state = .starting
                job.assignment = assignment
                job.reason = nil
                do {
                    try save(job)
                } catch {
                    logger.error("cannot store placement", metadata: ["job.id": "\(job.id)", "error": "\(error)"])
                    return
                }
                nodes[assignment.node]?.state.apply(assignment)
                if let i = index[assignment.node] { snap.nodes[i].apply(assignment) }
                lastPendingSummary[job.id] = nil
                appendLog(job: job, decision: decision)
                logger.info("placed", metadata: ["job.id": "\(job.id)", "node.id": "\(assignment.node)",
                                                 "pus": "\(assignment.pus)", "gpus": "\(assignment.gpus)"])
                send(.startTask(startTask(for: job, assignment: assignment)), to: assignment.node)
            case .unplaceable(let e):
                let victims = preemptIfPossible(for: job, in: snap)
                if !victims.isEmpty {
                    job = jobs[job.id] ?? job
                    job.reason = "waiting for preempted jobs to stop: \(victims.map(\.description).joined(separator: ", "))"
                    try? save(job)
                    lastPendingSummary[job.id] = nil
                    continue
                }
                if lastPendingSummary[job.id] != e.summary {
                    lastPendingSummary[job.id] = e.summary
                    appendLog(job: job, decision: decision)
                    job.reason = e.summary
                    try? save(job)
                }
            }
        }
    }

    func startTask(for job: JobInfo, assignment: Assignment) -> StartTask {
        StartTask(ref: TaskRef(job: job.id), jobName: job.spec.displayName, command: job.spec.command,
                  env: job.spec.env, workdir: job.spec.workdir, assignment: assignment,
                  killGraceSeconds: job.spec.killGraceSeconds ?? 10, arrayJob: job.arrayJob, arrayIndex: job.arrayIndex)
    }

    /// Writes a placement record to the store and hands it to `log --follow` readers.
    func appendLog(job: JobInfo, decision: PlacementDecision) {
        let record = PlacementRecord(time: Self.rfc3339(Self.wallMs()), job: job.id, jobName: job.spec.displayName,
                                     request: job.spec.resources, decision: decision)
        do {
            let stored = try store.appendPlacement(record)
            for (_, f) in logFollowers where Self.matches(stored, f.query) { f.continuation.yield(stored) }
        } catch {
            logger.error("cannot append placement log", metadata: ["job.id": "\(job.id)", "error": "\(error)"])
        }
    }

    static func matches(_ r: PlacementRecord, _ q: LogQuery) -> Bool {
        (q.job == nil || q.job == r.job) && (q.node == nil || q.node == r.node)
    }

    /// Registers a `log --follow` reader; records appended from now on are yielded to it.
    public func followLog(_ query: LogQuery) -> (UInt64, AsyncStream<PlacementRecord>) {
        let id = nextLinkID
        nextLinkID += 1
        let (stream, continuation) = AsyncStream<PlacementRecord>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        logFollowers[id] = (query, continuation)
        return (id, stream)
    }

    public func unfollowLog(_ id: UInt64) {
        logFollowers.removeValue(forKey: id)?.continuation.finish()
    }

    /// Stored placement records.
    public func logRecords(_ query: LogQuery) throws(ErrorReply) -> [PlacementRecord] {
        do {
            return try store.placements(query)
        } catch {
            throw ErrorReply(.unavailable, "cannot read placement log: \(error)")
        }
    }
}

extension Scheduler {
    /// Periodic retry of pending jobs (cheap when nothing is pending).
    public func schedulePendingFromTick() { schedulePending() }
}
