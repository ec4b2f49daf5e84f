import SchedCore
import SchedProtocol

/// What schedd keeps across restarts: jobs, registered nodes (with drain flags), the placement
/// log, the audit log, and the cluster's trust (its CA, the hashes of its bearer tokens, the node
/// certificates it issued). Every method returns only after the change is durable.
///
/// SQLite (`SQLiteStore`) is the embedded default; a PostgreSQL store for several schedd
/// instances will implement the same protocol.
public protocol SchedulerStore: Sendable {
    /// Stores a new job; `make` receives the id the store assigned and builds the record.
    func insertJob(_ make: (JobID) -> JobInfo) throws -> JobInfo
    /// Stores `count` new jobs in one transaction (a job array): all or none. `make` receives
    /// each assigned id and the member's index 0..count-1.
    func insertJobs(count: Int, _ make: (JobID, Int) -> JobInfo) throws -> [JobInfo]
    /// Overwrites a job's record.
    func updateJob(_ job: JobInfo) throws
    /// Every stored job, oldest first.
    func allJobs() throws -> [JobInfo]
    /// One job, nil when there is none with that id.
    func job(_ id: JobID) throws -> JobInfo?
    /// The newest jobs in `states` (any state when nil), newest first, at most `limit`.
    func jobs(states: [JobState]?, limit: Int) throws -> [JobInfo]
    /// What a restarted schedd holds in memory, oldest first: every job not finished, and the
    /// finished ones with `finishedAtMs` at or after `finishedSinceMs` (wall clock).
    func unfinishedAndRecentJobs(finishedSinceMs: Int64) throws -> [JobInfo]
    /// How many jobs are stored.
    func jobCount() throws -> Int
    /// The requests of the newest `limit` jobs, oldest first (to relearn the workload profile).
    func recentRequests(limit: Int) throws -> [ResourceRequest]
    /// Appends a placement record; returns it with its `seq` set.
    func appendPlacement(_ record: PlacementRecord) throws -> PlacementRecord
    /// Placement records matching a query, oldest first.
    func placements(_ query: LogQuery) throws -> [PlacementRecord]
    /// Remembers a node (topology and drain state).
    func saveNode(_ node: StoredNode) throws
    /// Every node ever registered.
    func allNodes() throws -> [StoredNode]
    /// Group commit: overwrites `jobs` and `nodes` and appends `placements` and `audit` records
    /// in one transaction, all or none. Returns the placements with their `seq` set, in order.
    func commit(jobs: [JobInfo], nodes: [StoredNode], placements: [PlacementRecord], audit: [AuditRecord]) throws -> [PlacementRecord]
    /// Appends audit records (their `seq` is assigned by the store).
    func appendAudit(_ records: [AuditRecord]) throws
    /// The newest `limit` audit records at or after `sinceMs` (wall clock), oldest first.
    func auditRecords(sinceMs: Int64?, limit: Int) throws -> [AuditRecord]

    /// Stores a token (its hash, never the secret); returns it with its `id` set. A hash
    /// already stored is refused.
    func insertToken(_ token: StoredToken) throws -> StoredToken
    /// The token with this hash (SHA-256 hex of the presented secret), revoked or not; nil when none.
    func token(hash: String) throws -> StoredToken?
    /// Every token, oldest first.
    func tokens() throws -> [StoredToken]
    /// Marks a token revoked at `atMs`; false when there is no such token or it already was.
    func revokeToken(id: Int64, atMs: Int64) throws -> Bool
    /// The cluster's CA; nil before schedd's first start.
    func clusterIdentity() throws -> ClusterIdentity?
    /// Stores the cluster's CA (replacing the one stored).
    func saveClusterIdentity(_ identity: ClusterIdentity) throws

    /// A join, in one transaction: the join token with hash `joinTokenHash` must be an agent
    /// token, not revoked, not expired, with uses left; the node must have no live certificate.
    /// Then the token's uses go down by one and `certificate` is recorded (with the token's id).
    /// Returns the token as it is now; throws `JoinRefusal` (nothing changed) or a store error.
    func enrollNode(_ certificate: StoredNodeCertificate, joinTokenHash: String, atMs: Int64) throws -> StoredToken
    /// Records a node certificate without a join (tests, tools).
    func insertNodeCertificate(_ certificate: StoredNodeCertificate) throws
    /// The node certificate with this serial, revoked or not; nil when schedd never issued it.
    func nodeCertificate(serial: String) throws -> StoredNodeCertificate?
    /// The node certificates of `node` (every node's when nil), oldest first.
    func nodeCertificates(node: NodeID?) throws -> [StoredNodeCertificate]
    /// Revokes every certificate of `node` not yet revoked; returns their serials.
    func revokeNodeCertificates(node: NodeID, atMs: Int64) throws -> [String]
}

extension SchedulerStore {
    // Stores without the trust tables (test doubles) refuse every token: authentication fails closed.
    public func insertToken(_ token: StoredToken) throws -> StoredToken { throw StoreError("this store keeps no tokens") }
    public func token(hash: String) throws -> StoredToken? { throw StoreError("this store keeps no tokens") }
    public func tokens() throws -> [StoredToken] { [] }
    public func revokeToken(id: Int64, atMs: Int64) throws -> Bool { false }
    public func clusterIdentity() throws -> ClusterIdentity? { nil }
    public func saveClusterIdentity(_ identity: ClusterIdentity) throws { throw StoreError("this store keeps no cluster identity") }
    // ... and every node certificate: no agent joins, none authenticates by certificate.
    public func enrollNode(_ certificate: StoredNodeCertificate, joinTokenHash: String, atMs: Int64) throws -> StoredToken {
        throw StoreError("this store keeps no node certificates")
    }
    public func insertNodeCertificate(_ certificate: StoredNodeCertificate) throws { throw StoreError("this store keeps no node certificates") }
    public func nodeCertificate(serial: String) throws -> StoredNodeCertificate? { throw StoreError("this store keeps no node certificates") }
    public func nodeCertificates(node: NodeID?) throws -> [StoredNodeCertificate] { [] }
    public func revokeNodeCertificates(node: NodeID, atMs: Int64) throws -> [String] { [] }

    /// A group commit with no audit records.
    public func commit(jobs: [JobInfo], nodes: [StoredNode], placements: [PlacementRecord]) throws -> [PlacementRecord] {
        try commit(jobs: jobs, nodes: nodes, placements: placements, audit: [])
    }

    /// Fallback for stores without an index of their own: a scan of every job.
    public func job(_ id: JobID) throws -> JobInfo? { try allJobs().first { $0.id == id } }

    /// Fallback for stores without queries of their own: a scan of every job.
    public func unfinishedAndRecentJobs(finishedSinceMs: Int64) throws -> [JobInfo] {
        try allJobs().filter { !$0.state.isTerminal || ($0.finishedAtMs ?? .max) >= finishedSinceMs }
    }

    public func jobCount() throws -> Int { try allJobs().count }

    public func recentRequests(limit: Int) throws -> [ResourceRequest] {
        try allJobs().suffix(limit).map(\.spec.resources)
    }

    /// Fallback for stores without an index of their own: a scan of every job.
    public func jobs(states: [JobState]?, limit: Int) throws -> [JobInfo] {
        let wanted = states.map(Set.init)
        return Array(try allJobs().reversed().filter { wanted?.contains($0.state) ?? true }.prefix(limit))
    }

    /// Fallback for stores without transactions of their own: one write at a time.
    public func commit(jobs: [JobInfo], nodes: [StoredNode], placements: [PlacementRecord], audit: [AuditRecord]) throws -> [PlacementRecord] {
        for j in jobs { try updateJob(j) }
        for n in nodes { try saveNode(n) }
        if !audit.isEmpty { try appendAudit(audit) }
        return try placements.map { try appendPlacement($0) }
    }

    /// Fallback for stores without transactions of their own: one insert per job.
    public func insertJobs(count: Int, _ make: (JobID, Int) -> JobInfo) throws -> [JobInfo] {
        var out: [JobInfo] = []
        for i in 0..<count { out.append(try insertJob { make($0, i) }) }
        return out
    }
}

/// A store operation failed; the message says which and why.
public struct StoreError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
