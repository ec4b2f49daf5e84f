import Foundation
import SchedControlPlane
import SchedCore
import SchedProtocol

/// schedctl's requests: each is one control-plane request answered by one reply. Jobs that
/// left memory, and the placement log, are read from the store here, by the shell.
extension Scheduler {
    /// Sends a request on behalf of `p` and waits for its reply. In-process callers (tests,
    /// tools) act as the cluster admin; the wire session passes its connection's principal.
    func request(_ r: ClientRequest, as p: Principal = .clusterAdmin) async -> ControlReply {
        let id = nextRequestID
        nextRequestID += 1
        // A caller that is cancelled (a WAIT whose client went away) abandons its request: the
        // plane forgets it and the caller gets `ERR unavailable` at once.
        return await withTaskCancellationHandler {
            await withCheckedContinuation { c in
                replies[id] = c
                dispatch(.request(id, r, from: p))
            }
        } onCancel: {
            Task { await self.abandon(id) }
        }
    }

    /// Forgets a request whose caller went away (see `request`).
    func abandon(_ id: RequestID) {
        guard let c = replies.removeValue(forKey: id) else { return }
        dispatch(.requestAbandoned(id))
        c.resume(returning: .message(.error(ErrorReply(.unavailable, "request abandoned: its client went away"))))
        abandonedRequests += 1
    }

    func message(_ r: ClientRequest, as p: Principal = .clusterAdmin) async throws(ErrorReply) -> Message {
        switch await request(r, as: p) {
        case .message(.error(let e)): throw e
        case .message(let m): return m
        case .submitted: throw ErrorReply(.internalError, "unexpected reply")
        }
    }

    /// A job that left memory, read from the store (nil when it is in memory or unknown).
    func storedJob(_ id: JobID) throws(ErrorReply) -> JobInfo? {
        guard !plane.holdsJob(id), plane.jobsLeftInStore > 0 else { return nil }
        do {
            return try store.job(id)
        } catch {
            throw ErrorReply(.unavailable, "cannot read job \(id) from the store: \(error)")
        }
    }

    /// Stores a new job and returns it once durable; then tries to place it.
    public func submit(_ spec: JobSpec, as p: Principal = .clusterAdmin) async throws(ErrorReply) -> JobInfo { try await submitAll(spec, as: p).first }

    /// `submit` for job arrays: the first job and how many were stored (ids are consecutive).
    public func submitAll(_ spec: JobSpec, as p: Principal = .clusterAdmin) async throws(ErrorReply) -> (first: JobInfo, count: Int) {
        let (firsts, counts) = try await submitBatch([spec], as: p)
        guard let first = firsts.first else { throw ErrorReply(.internalError, "no job stored") }
        return (first, counts[0])
    }

    /// Stores many specs (each possibly an array) in one transaction, all or none. With
    /// `placeAtOnce` the first placement attempt runs before this returns; without, the jobs
    /// join the next coalesced pass (`SUBMIT_BATCH`).
    public func submitBatch(_ specs: [JobSpec], placeAtOnce: Bool = true, as p: Principal = .clusterAdmin) async throws(ErrorReply) -> (firsts: [JobInfo], counts: [Int]) {
        switch await request(.submit(specs, placeAtOnce: placeAtOnce), as: p) {
        case .submitted(let firsts, let counts): return (firsts, counts)
        case .message(.error(let e)): throw e
        case .message: throw ErrorReply(.internalError, "unexpected reply")
        }
    }

    /// Jobs, newest first.
    public func listJobs(_ q: ListJobs, as p: Principal = .clusterAdmin) async -> [JobInfo] {
        var stored: [JobInfo]?
        let finished = JobState.allCases.filter { $0.isTerminal && (q.states?.contains($0) ?? true) }
        if plane.jobsLeftInStore > 0, !finished.isEmpty {
            do {
                stored = try store.jobs(states: finished, limit: min(max(q.limit ?? 1000, 1), 100_000))
            } catch {
                logger.error("cannot read finished jobs from the store; listing those in memory", metadata: ["error": "\(error)"])
            }
        }
        guard case .message(.jobList(let l)) = await request(.listJobs(q, storedFinished: stored), as: p) else { return [] }
        return l.jobs
    }

    public func job(_ id: JobID, as p: Principal = .clusterAdmin) async throws(ErrorReply) -> JobInfo {
        let stored = try storedJob(id)
        guard case .jobInfo(let j) = try await message(.getJob(id, stored: stored), as: p) else { throw ErrorReply(.internalError, "unexpected reply") }
        return j
    }

    /// Cancels a job: a pending one at once; a running one by asking its agent to stop it.
    /// Answered once stored (`ACCEPTED` if the store refuses for longer than its retry time).
    public func cancel(_ id: JobID, as p: Principal = .clusterAdmin) async throws(ErrorReply) -> JobInfo {
        try Self.jobInfo(try await message(.cancel(id, stored: try storedJob(id)), as: p))
    }

    /// Returns when the job is completed, failed or cancelled (and that is stored).
    public func waitForTerminal(_ id: JobID, as p: Principal = .clusterAdmin) async throws(ErrorReply) -> JobInfo {
        guard case .jobInfo(let j) = try await message(.wait(id, stored: try storedJob(id)), as: p) else { throw ErrorReply(.internalError, "unexpected reply") }
        return j
    }

    /// Why a job waits (with a fresh evaluation) or why it went where it went.
    public func explain(_ id: JobID, as p: Principal = .clusterAdmin) async throws(ErrorReply) -> Explanation {
        let stored = try storedJob(id)
        let latest = (try? store.placements(LogQuery(job: id, limit: 1)))?.last
        // `current` is evaluated now: its time is now.
        guard case .explanation(var x) = try await message(.explain(id, stored: stored, latest: latest), as: p) else {
            throw ErrorReply(.internalError, "unexpected reply")
        }
        if x.current != nil { x.current?.time = Self.rfc3339(Self.wallMs()) }
        return x
    }

    /// Starts a rolling update of a service (see `ControlPlane.update`).
    public func update(_ id: JobID, to spec: JobSpec, as p: Principal = .clusterAdmin) async throws(ErrorReply) -> JobInfo {
        try Self.jobInfo(try await message(.update(id, spec, stored: try storedJob(id)), as: p))
    }

    public func listNodes(topology: Bool, as p: Principal = .clusterAdmin) async -> [NodeInfo] {
        guard case .message(.nodeList(let l)) = await request(.listNodes(topology: topology), as: p) else { return [] }
        return l.nodes
    }

    /// Stops new work from going to a node; running tasks finish.
    public func drain(_ name: NodeID, reason: String?, as p: Principal = .clusterAdmin) async throws(ErrorReply) -> NodeInfo {
        try Self.nodeInfo(try await message(.drain(name, reason: reason), as: p))
    }

    public func undrain(_ name: NodeID, as p: Principal = .clusterAdmin) async throws(ErrorReply) -> NodeInfo {
        try Self.nodeInfo(try await message(.undrain(name), as: p))
    }

    /// The typed calls above answer an `ACCEPTED` reply (kept, not stored in time) by throwing
    /// `unavailable` with its words; the wire (`answer`) sends `ACCEPTED` itself.
    static func jobInfo(_ m: Message) throws(ErrorReply) -> JobInfo {
        switch m {
        case .jobInfo(let j): return j
        case .accepted(let a): throw ErrorReply(.unavailable, "accepted, not stored yet: \(a.message)")
        default: throw ErrorReply(.internalError, "unexpected reply")
        }
    }

    static func nodeInfo(_ m: Message) throws(ErrorReply) -> NodeInfo {
        switch m {
        case .nodeInfo(let n): return n
        case .accepted(let a): throw ErrorReply(.unavailable, "accepted, not stored yet: \(a.message)")
        default: throw ErrorReply(.internalError, "unexpected reply")
        }
    }

    /// The reply to one schedctl request as it goes on the wire (LOG is served by the session).
    /// Nothing a reply reports leaves before the commit attempt in progress is over; a change's
    /// confirmation leaves only once stored (the control plane holds it), and SUBMITTED_BATCH
    /// reports only ids its own insert stored.
    public func answer(_ message: Message, as p: Principal = .clusterAdmin) async -> Message {
        let reply = await answerNow(message, as: p)
        switch (message, reply) {
        case (.tokenCreate, _), (.listTokens, _), (.tokenRevoke, _), (.whoami, _), (.listNodeCertificates, _), (.nodeRevoke, .nodeRevoked): break
        case (.submitBatch, _), (.update, .jobInfo), (.cancel, .jobInfo), (.drain, .nodeInfo), (.undrain, .nodeInfo), (_, .accepted): break
        default: await commit()
        }
        // A job's environment is its tenant's secret (JobSecrets).
        return JobSecrets.visible(reply, to: p)
    }

    func answerNow(_ message: Message, as p: Principal) async -> Message {
        do throws(ErrorReply) {
            let request: ClientRequest
            switch message {
            case .submit(let s):
                let (firsts, counts) = try await submitBatch([s.spec], as: p)
                return .submitted(Submitted(job: firsts[0].id, count: s.spec.array == nil ? nil : counts[0]))
            case .submitBatch(let b):
                let (firsts, counts) = try await submitBatch(b.specs, placeAtOnce: false, as: p)
                return .submittedBatch(SubmittedBatch(jobs: zip(b.specs, zip(firsts, counts)).map { spec, fc in
                    Submitted(job: fc.0.id, count: spec.array == nil ? nil : fc.1)
                }))
            case .listJobs(let q): return .jobList(JobList(jobs: await listJobs(q, as: p)))
            case .getJob(let r): return .jobInfo(try await job(r.job, as: p))
            case .wait(let r): return .jobInfo(try await waitForTerminal(r.job, as: p))
            case .explain(let r): return .explanation(try await explain(r.job, as: p))
            case .listNodes(let q): return .nodeList(NodeList(nodes: await listNodes(topology: q.topology ?? false, as: p)))
            case .status: return .statusInfo(await status(as: p))
            case .ping: return .pong
            case .whoami: return .identity(IdentityInfo(p))
            case .audit(let q): return .auditList(AuditList(records: try auditRecords(q, as: p)))
            case .tokenCreate(let r): return .tokenCreated(try createToken(r, as: p))
            case .listTokens: return .tokenList(TokenList(tokens: try listTokens(as: p)))
            case .tokenRevoke(let r):
                try revokeToken(r.id, as: p)
                return .ok
            case .nodeRevoke(let r): return .nodeRevoked(try await revokeNode(r.node, as: p))
            case .listNodeCertificates(let q): return .nodeCertificateList(NodeCertificateList(certificates: try nodeCertificates(q, as: p)))
            case .update(let u): request = .update(u.job, u.spec, stored: try storedJob(u.job))
            case .cancel(let r): request = .cancel(r.job, stored: try storedJob(r.job))
            case .drain(let r): request = .drain(r.node, reason: r.reason)
            case .undrain(let r): request = .undrain(r.node)
            default: throw ErrorReply(.wrongRole, "\(message.verb) is not a client request")
            }
            return try await self.message(request, as: p)
        } catch {
            return .error(error)
        }
    }

    /// Counts for `schedctl status`.
    public func status(as p: Principal = .clusterAdmin) async -> SchedulerStatus {
        guard case .message(.statusInfo(var s)) = await request(.status, as: p) else {
            return SchedulerStatus(software: WireProtocol.software, protocolVersion: WireProtocol.version, uptimeSeconds: 0,
                                   policy: "", stateDir: "", nodes: [:], jobs: [:], rejectedLines: 0)
        }
        // Connections closed by a limit are counted by the listener, not the control plane.
        let closed = connectionLimitCounts()
        if !closed.isEmpty { s.limitsHit = (s.limitsHit ?? [:]).merging(closed, uniquingKeysWith: +) }
        return s
    }

    /// Commits everything written so far and returns once that attempt is over: true when it
    /// is durable (what waited for it has been delivered), false when the store refused.
    @discardableResult
    public func commit() async -> Bool {
        if case .message(.ok) = await request(.commitBarrier) { return true }
        return false
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

    /// Commits until nothing written is left uncommitted, or `seconds` have passed (shutdown).
    /// Returns the writes still uncommitted.
    @discardableResult
    public func flush(seconds: Double) async -> Int {
        _ = await commitDurably(seconds: seconds)
        return plane.uncommittedWrites
    }

    static func matches(_ r: PlacementRecord, _ q: LogQuery) -> Bool {
        (q.job == nil || q.job == r.job) && (q.node == nil || q.node == r.node) && (q.tenant == nil || q.tenant == r.tenant)
    }

    /// The query as `p` may ask it: everyone but a cluster admin reads only its tenant's records
    /// (a record from before tenants were recorded belongs to the cluster admin only).
    static func scoped(_ q: LogQuery, to p: Principal) -> LogQuery {
        guard p.role != .clusterAdmin else { return q }
        var own = q
        own.tenant = p.tenant ?? "\u{0}no tenant"
        return own
    }

    /// Registers a `log --follow` reader; records stored from now on are yielded to it.
    public func followLog(_ query: LogQuery, as p: Principal = .clusterAdmin) -> (UInt64, AsyncStream<PlacementRecord>) {
        let id = nextLinkID
        nextLinkID += 1
        let (stream, continuation) = AsyncStream<PlacementRecord>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        logFollowers[id] = (Self.scoped(query, to: p), continuation)
        return (id, stream)
    }

    public func unfollowLog(_ id: UInt64) {
        logFollowers.removeValue(forKey: id)?.continuation.finish()
    }

    /// The audit log: cluster admins only.
    public func auditRecords(_ q: AuditQuery, as p: Principal = .clusterAdmin) throws(ErrorReply) -> [AuditRecord] {
        guard p.role == .clusterAdmin else {
            throw ErrorReply(.forbidden, "AUDIT needs role cluster-admin; this token's role is \(p.role.rawValue)")
        }
        do {
            return try store.auditRecords(sinceMs: q.sinceMs, limit: q.limit ?? 1000)
        } catch {
            throw ErrorReply(.unavailable, "cannot read the audit log: \(error)")
        }
    }

    /// Stored placement records `p` may read. Naming a job of another tenant is `not_found`.
    public func logRecords(_ query: LogQuery, as p: Principal = .clusterAdmin) async throws(ErrorReply) -> [PlacementRecord] {
        if let job = query.job, p.role != .clusterAdmin { _ = try await self.job(job, as: p) }
        do {
            return try store.placements(Self.scoped(query, to: p))
        } catch {
            throw ErrorReply(.unavailable, "cannot read placement log: \(error)")
        }
    }
}
