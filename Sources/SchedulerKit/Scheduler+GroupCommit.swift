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
        if config.groupCommit, !batch.isEmpty {
            batch.outbox.append(.line(node, LineCodec.encode(message)))
            return
        }
        links[node]?.send.yield(LineCodec.encode(message))
    }

    /// Queues one commit behind the events already waiting on the actor (so they share it), or
    /// commits at once when the batch is large.
    func queueCommit() {
        if batch.writeCount >= WriteBatch.maxWrites { commit(); return }
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
        commit()
    }

    /// Commits the batch in one transaction, then delivers what waited for it. When the store
    /// refuses, nothing is delivered and the batch is kept and retried (nothing acknowledged is lost).
    public func commit() {
        guard !batch.isEmpty else { return }
        if batch.hasWrites {
            let stored: [PlacementRecord]
            do {
                stored = try store.commit(jobs: Array(batch.jobs.values), nodes: Array(batch.nodes.values),
                                          placements: batch.placements)
            } catch {
                logger.error("group commit failed; retrying", metadata: ["jobs": "\(batch.jobs.count)",
                                                                         "placements": "\(batch.placements.count)",
                                                                         "error": "\(error)"])
                guard !batch.commitQueued else { return }
                batch.commitQueued = true
                Task {
                    try? await Task.sleep(for: .milliseconds(200))
                    self.commitQueuedBatch()
                }
                return
            }
            commits += 1
            committedWrites += batch.writeCount
            for r in stored {
                for (_, f) in logFollowers where Self.matches(r, f.query) { f.continuation.yield(r) }
            }
        }
        let outbox = batch.outbox
        let queued = batch.commitQueued
        batch = WriteBatch()
        batch.commitQueued = queued
        for o in outbox {
            switch o {
            case .line(let node, let line): links[node]?.send.yield(line)
            case .resume(let ws, let job): for w in ws { w.resume(returning: job) }
            }
        }
    }

    /// Writes made but not yet committed (group commit).
    public var uncommittedWrites: Int { batch.writeCount }

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
