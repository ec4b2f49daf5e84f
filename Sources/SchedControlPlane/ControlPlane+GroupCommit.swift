import SchedCore
import SchedProtocol

/// Group commit: writes made while handling events are collected and committed together in
/// one transaction, after the group delay. Nothing that depends on them leaves earlier: lines
/// to agents and client replies wait in the batch's outbox until the commit succeeded.
extension ControlPlane {
    /// Writes a job (into the batch) and answers its WAIT requests once durable if it ended.
    mutating func save(_ job: JobInfo) {
        batch.jobs[job.id] = job
        track(job)
        if job.state.isTerminal, let ws = waiters.removeValue(forKey: job.id) {
            for w in ws { deliverWhenDurable(.reply(w, .message(.jobInfo(job)))) }
        }
        queueCommit()
    }

    /// Keeps the in-memory job and its indexes in step.
    mutating func track(_ job: JobInfo) {
        if jobs.track(job) { noteFinished(job.id, atMs: monoNow) }
    }

    /// Writes a node record (topology, labels, drain flag).
    mutating func persist(_ node: StoredNode) {
        batch.nodes[node.name] = node
        queueCommit()
    }

    /// Appends a placement record (its time is written by the shell).
    /// Records a mutating request in the audit log (stored with the next batch).
    mutating func audit(_ verb: String, _ object: String, by p: Principal, outcome: String) {
        batch.audit.append(AuditRecord(timeMs: wallNow, tokenID: p.tokenID, tenant: p.tenant, role: p.role,
                                       verb: verb, object: object, outcome: outcome))
        queueCommit()
    }

    mutating func persist(_ record: PlacementRecord) {
        batch.placements.append(record)
        batch.placementWallMs.append(wallNow)
        queueCommit()
    }

    /// Sends a line to a node's agent: at once when nothing waits to be stored, else once
    /// the writes made so far are durable, addressed to the node's current connection.
    mutating func send(_ message: Message, to node: NodeID) {
        guard let link = links[node] else { return }
        deliverWhenDurable(.line(node, link: link, message))
    }

    /// Delivers now when nothing waits to be stored (or is being stored), else queues behind it.
    mutating func deliverWhenDurable(_ item: WriteBatch.Outgoing) {
        if batch.isEmpty && inFlight == nil || plantedBugs.acknowledgeBeforeCommit {
            deliver(item, stored: true)
        } else {
            batch.outbox.append(item)
        }
    }

    /// Answers a client: `whenDurable` replies wait for everything written so far to be stored;
    /// the others only for the attempt to be over.
    mutating func reply(_ id: RequestID, _ reply: ControlReply, whenDurable: Bool) {
        deliverWhenDurable(whenDurable ? .reply(id, reply) : .afterAttempt(id, reply))
    }

    /// Arms the commit timer, or starts the commit at once when the batch is large.
    mutating func queueCommit() {
        if batch.writeCount >= WriteBatch.maxWrites { startCommit(); return }
        guard !commitArmed else { return }
        commitArmed = true
        actions.append(.arm(.commit, afterMs: config.groupDelayMs))
    }

    /// Hands the batch to the store, unless a commit is in flight (its end starts the next).
    mutating func startCommit() {
        guard inFlight == nil, !batch.isEmpty else { return }
        let taken = batch
        batch = WriteBatch()
        guard taken.hasWrites else {
            deliverAll(taken, stored: true)
            return
        }
        inFlight = taken
        actions.append(.commit(taken.commitBatch))
    }

    /// The commit in flight is over.
    mutating func finishCommit(_ result: Result<Void, StoreFailure>) {
        guard var done = inFlight else { return }
        inFlight = nil
        switch result {
        case .success:
            commits += 1
            committedWrites += done.writeCount
            deliverAll(done, stored: true)
        case .failure(let error):
            log(.error, "group commit failed; retrying", ["jobs": "\(done.jobs.count)", "placements": "\(done.placements.count)",
                                                         "error": "\(error)"])
            // Replies that waited only for the attempt go now; the rest stay, in order, before
            // what was written meanwhile (newer job and node versions win).
            var kept: [WriteBatch.Outgoing] = []
            for o in done.outbox {
                switch o {
                case .afterAttempt, .barrier: deliver(o, stored: false)
                case .line, .reply: kept.append(o)
                }
            }
            done.outbox = kept
            batch = done.followed(by: batch)
            if !commitArmed {
                commitArmed = true
                actions.append(.arm(.retryCommit, afterMs: 200))
            }
            return
        }
        startCommit()
    }

    /// Everything a batch held for delivery, in order.
    mutating func deliverAll(_ done: WriteBatch, stored: Bool) {
        for o in done.outbox { deliver(o, stored: stored) }
    }

    mutating func deliver(_ o: WriteBatch.Outgoing, stored: Bool) {
        switch o {
        case .line(let node, let link, let line):
            if links[node] == link { actions.append(.send(link, line)) }
        case .reply(let id, let r):
            // A change answered `ACCEPTED` at its deadline is not answered again.
            if acceptedEarly.remove(id) == nil {
                openDeadlines[id] = nil
                actions.append(.reply(id, r))
            }
        case .afterAttempt(let id, let r):
            actions.append(.reply(id, r))
        case .barrier(let id):
            actions.append(.reply(id, .message(stored ? .ok : .error(ErrorReply(.unavailable, "the store refused the commit")))))
        }
    }

    /// Asks for a scheduling pass: passes asked for by events that arrive within the group
    /// delay run once, after them.
    mutating func requestPass() {
        guard !passArmed else { return }
        passArmed = true
        actions.append(.arm(.pass, afterMs: config.groupDelayMs))
    }
}
