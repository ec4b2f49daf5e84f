import SchedCore
import SchedProtocol

/// schedctl requests: each gets exactly one `reply`. A reply that confirms a change (CANCEL,
/// UPDATE, DRAIN, UNDRAIN) leaves only once the change is stored; if the store keeps refusing
/// past `storeRetryMs`, it is answered `ACCEPTED` instead: kept and retried, not confirmed. An
/// `ERR` reply is never followed by its change taking effect. Reads are answered at once from
/// memory.
extension ControlPlane {
    mutating func handleRequest(_ id: RequestID, _ request: ClientRequest, from p: Principal) {
        do throws(ErrorReply) {
            try authorize(request, p)
            switch request {
            case .submit(let specs, let placeAtOnce):
                let own = try ownSpecs(specs, p)
                try admit(own, p)
                submit(id, own, placeAtOnce: placeAtOnce, by: p, runAs: try runAs(p))
                return
            case .wait(let job, let stored):
                wait(id, for: try visible(knownJob(job, stored: stored), job, to: p).id, stored: stored)
                return
            case .commitBarrier:
                deliverWhenDurable(.barrier(id))
                startCommit()
                return
            case .update(let job, let spec, let stored):
                try mayChange(try visible(knownJob(job, stored: stored), job, to: p), p)
                confirm(id, "UPDATE", .jobInfo(try update(job, to: try ownSpecs([spec], p)[0], stored: stored)))
            case .cancel(let job, let stored):
                try mayChange(try visible(knownJob(job, stored: stored), job, to: p), p)
                confirm(id, "CANCEL", .jobInfo(try cancel(job, stored: stored)))
            case .drain(let node, let reason): confirm(id, "DRAIN", .nodeInfo(try drain(node, reason: reason)))
            case .undrain(let node): confirm(id, "UNDRAIN", .nodeInfo(try undrain(node)))
            case .revokeNode(let node, let serials): confirm(id, "NODE_REVOKE", .nodeRevoked(try revokeNode(node, serials: serials)))
            case .listJobs(let q, let stored):
                answerNow(id, .jobList(JobList(jobs: listJobs(q, storedFinished: stored, for: p))))
            case .getJob(let job, let stored):
                _ = try visible(knownJob(job, stored: stored), job, to: p)
                answerNow(id, .jobInfo(try self.job(job, stored: stored)))
            case .explain(let job, let stored, let latest):
                _ = try visible(knownJob(job, stored: stored), job, to: p)
                answerNow(id, .explanation(try explain(job, stored: stored, latest: latest)))
            case .listNodes(let topology): answerNow(id, .nodeList(NodeList(nodes: listNodes(topology: topology))))
            case .status: answerNow(id, .statusInfo(status(for: p)))
            }
            if let (verb, object) = Self.audited(request) { audit(verb, object, by: p, outcome: "ok") }
        } catch {
            if let (verb, object) = Self.audited(request) { audit(verb, object, by: p, outcome: error.code.rawValue) }
            refuse(id, error)
        }
    }

    /// The verb and object of a request the audit log records: every change (a submission is
    /// recorded with its job ids once stored, or here when refused).
    static func audited(_ request: ClientRequest) -> (String, String)? {
        switch request {
        case .submit(let specs, _): ("SUBMIT", "\(specs.reduce(0) { $0 + ($1.array ?? 1) }) jobs")
        case .update(let job, _, _): ("UPDATE", "job \(job)")
        case .cancel(let job, _): ("CANCEL", "job \(job)")
        case .drain(let node, _): ("DRAIN", "node \(node)")
        case .undrain(let node): ("UNDRAIN", "node \(node)")
        case .revokeNode(let node, let serials):
            ("NODE_REVOKE", "node \(node)" + (serials.isEmpty ? "" : " (certificates \(serials.joined(separator: ", ")))"))
        case .listJobs, .getJob, .wait, .explain, .listNodes, .status, .commitBarrier: nil
        }
    }

    /// A change's confirmation: sent once stored, or `ACCEPTED` at the store deadline.
    mutating func confirm(_ id: RequestID, _ verb: String, _ message: Message) {
        let held = !(batch.isEmpty && inFlight == nil) && !plantedBugs.acknowledgeBeforeCommit
        reply(id, .message(message), whenDurable: true)
        // Delivered at once (nothing waited to be stored): no deadline needed.
        guard held else { return }
        openDeadlines[id] = verb
        actions.append(.arm(.storeDeadline(id), afterMs: config.storeRetryMs))
    }

    /// Refuses a request. An `ERR` confirms nothing, so it leaves at once.
    mutating func refuse(_ id: RequestID, _ error: ErrorReply) {
        answerNow(id, .error(error))
    }

    /// A read's answer: what memory holds now. (It confirms no change; schedd's wire session
    /// still holds it until the commit attempt in progress is over, as before.)
    mutating func answerNow(_ id: RequestID, _ message: Message) {
        actions.append(.reply(id, .message(message)))
    }
}
