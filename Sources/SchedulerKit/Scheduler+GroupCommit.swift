import SchedCore
import SchedProtocol
import SchedStore

/// Group commit (`SchedulerConfig.groupCommit`, on in schedd): writes made while handling
/// events are collected and committed together in one transaction, after the events queued on
/// the actor have been handled. Nothing that depends on them leaves schedd earlier: lines to
/// agents, `WAIT` replies and log-follower records are held until the commit, and client
/// replies call `commit()` first. Without group commit every write commits on its own.
extension Scheduler {
    /// Persists a job (or queues it for the group commit) and notifies anyone waiting on it
    /// when it became terminal, once durable.
    func save(_ job: JobInfo) throws {
        if config.groupCommit {
            batch.jobs[job.id] = job
            track(job)
            if job.state.isTerminal, let ws = waiters.removeValue(forKey: job.id) { batch.outbox.append(.resume(ws, job)) }
            queueCommit()
            return
        }
        try store.updateJob(job)
        track(job)
        if job.state.isTerminal, let ws = waiters.removeValue(forKey: job.id) {
            for w in ws { w.resume(returning: job) }
        }
    }

    /// Keeps the in-memory job and the pending index in step.
    func track(_ job: JobInfo) {
        if job.state.isTerminal, jobs[job.id]?.state.isTerminal != true { noteFinished(job.id, atMs: monotonicMs()) }
        jobs[job.id] = job
        if job.state == .pending { pendingIDs.insert(job.id) } else { pendingIDs.remove(job.id) }
        if job.state.isActive { activeIDs.insert(job.id) } else { activeIDs.remove(job.id) }
        if job.state.isActive, job.spec.timeLimitSeconds != nil { timeLimitedActive.insert(job.id) } else { timeLimitedActive.remove(job.id) }
        if job.state == .running, job.spec.preemptible == true { preemptibleRunning[job.id] = job.spec.priority ?? 0 } else { preemptibleRunning[job.id] = nil }
    }

    /// Persists a node record (topology, labels, drain flag).
    func persist(_ node: StoredNode) throws {
        if config.groupCommit {
            batch.nodes[node.name] = node
            queueCommit()
            return
        }
        try store.saveNode(node)
    }

    /// Appends a placement record and hands it to `log --follow` readers once stored.
    func persist(_ record: PlacementRecord) {
        if config.groupCommit {
            batch.placements.append(record)
            queueCommit()
            return
        }
        do {
            let stored = try store.appendPlacement(record)
            for (_, f) in logFollowers where Self.matches(stored, f.query) { f.continuation.yield(stored) }
        } catch {
            logger.error("cannot append placement log", metadata: ["job.id": "\(record.job)", "error": "\(error)"])
        }
    }

    func send(_ message: Message, to node: NodeID) {
        guard let link = links[node] else { return }
        // While writes wait or are being committed, a line may report them: it waits its turn,
        // addressed to this connection (a reconnected agent must not get the old one's lines).
        if config.groupCommit, !batch.isEmpty || inFlight != nil {
            batch.outbox.append(.line(node, link: link.id, LineCodec.encode(message)))
            return
        }
        link.send.yield(LineCodec.encode(message))
    }

    /// Queues one commit behind the events already waiting on the actor (so they share it), or
    /// starts it at once when the batch is large.
    func queueCommit() {
        if batch.writeCount >= WriteBatch.maxWrites { startCommit(); return }
        guard !batch.commitQueued else { return }
        batch.commitQueued = true
        let delay = config.groupDelayMs
        Task {
            if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
            self.commitQueuedBatch()
        }
    }

    func commitQueuedBatch() {
        batch.commitQueued = false
        startCommit()
    }

    /// Commits everything written so far and returns once that attempt is over: on success
    /// (true) what waited for it has been delivered; on failure (false) the writes are kept for
    /// a retry and nothing that depends on them was delivered.
    @discardableResult
    public func commit() async -> Bool {
        if batch.isEmpty {
            guard inFlight != nil else { return true }
            return await withCheckedContinuation { inFlight?.attemptWaiters.append($0) }
        }
        return await withCheckedContinuation { c in
            batch.attemptWaiters.append(c)
            startCommit()
        }
    }

    /// Until what was written so far is durable: commits, and while the store refuses, tries
    /// again every 100 ms for up to `seconds`. False when it is still not stored then.
    public func commitDurably(seconds: Double) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while true {
            if await commit() { return true }
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Commits until nothing written is left uncommitted, or `seconds` have passed (shutdown):
    /// retried every 100 ms while the store refuses. Returns the writes still uncommitted.
    @discardableResult
    public func flush(seconds: Double) async -> Int {
        _ = await commitDurably(seconds: seconds)
        return uncommittedWrites
    }

    /// Hands the batch to the store's writer thread, unless a commit is already in flight (its
    /// completion starts the next one, so the batch grows meanwhile and the actor never waits
    /// for the disk).
    func startCommit() {
        guard inFlight == nil, !batch.isEmpty else { return }
        var taken = batch
        batch = WriteBatch()
        batch.commitQueued = taken.commitQueued
        taken.commitQueued = false
        guard taken.hasWrites else {
            deliver(taken)
            return
        }
        inFlight = taken
        let store = self.store
        let jobs = Array(taken.jobs.values), nodes = Array(taken.nodes.values), placements = taken.placements
        storeWriter.async {
            let result = Result { try store.commit(jobs: jobs, nodes: nodes, placements: placements) }
            Task { await self.finishCommit(result) }
        }
    }

    /// Back on the actor after the writer thread's transaction.
    func finishCommit(_ result: Result<[PlacementRecord], any Error>) {
        guard var done = inFlight else { return }
        inFlight = nil
        switch result {
        case .success(let stored):
            commits += 1
            committedWrites += done.writeCount
            for r in stored {
                for (_, f) in logFollowers where Self.matches(r, f.query) { f.continuation.yield(r) }
            }
            deliver(done)
        case .failure(let error):
            logger.error("group commit failed; retrying", metadata: ["jobs": "\(done.jobs.count)",
                                                                     "placements": "\(done.placements.count)",
                                                                     "error": "\(error)"])
            let waiters = done.attemptWaiters
            done.attemptWaiters = []
            // Kept in order before what was written meanwhile; newer job and node versions win.
            batch = done.followed(by: batch)
            for w in waiters { w.resume(returning: false) }
            retryCommitLater()
            return
        }
        startCommit()
    }

    /// Lines, WAIT replies and commit waiters of a durable batch, in the order they were queued.
    func deliver(_ done: WriteBatch) {
        for o in done.outbox {
            switch o {
            case .line(let node, let link, let line):
                if let l = links[node], l.id == link { l.send.yield(line) }
            case .resume(let ws, let job): for w in ws { w.resume(returning: job) }
            }
        }
        for w in done.attemptWaiters { w.resume(returning: true) }
    }

    func retryCommitLater() {
        guard !batch.commitQueued else { return }
        batch.commitQueued = true
        Task {
            try? await Task.sleep(for: .milliseconds(200))
            self.commitQueuedBatch()
        }
    }

    /// Writes made but not yet durable (group commit): waiting or being committed.
    public var uncommittedWrites: Int { batch.writeCount + (inFlight?.writeCount ?? 0) }

    /// Asks for a scheduling pass. With group commit, passes asked for by events queued together
    /// run once, after those events; without, the pass runs now.
    func requestPass() {
        guard config.groupCommit else { schedulePending(); return }
        guard !passQueued else { return }
        passQueued = true
        let delay = config.groupDelayMs
        Task {
            if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
            self.runQueuedPass()
        }
    }

    func runQueuedPass() {
        passQueued = false
        schedulePending()
    }
}
