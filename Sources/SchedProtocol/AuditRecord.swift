import SchedCore

/// One entry of the audit log: a mutating request, who made it and how it ended. Written in
/// the same store transaction as the change itself (a refused request is recorded too).
public struct AuditRecord: Sendable, Codable, Hashable {
    /// Position in the log, assigned by the store (1, 2, ...).
    public var seq: Int64
    /// Wall-clock milliseconds of the request.
    public var timeMs: Int64
    /// The token's id (never its secret).
    public var tokenID: String
    /// The token's tenant; absent for a cluster admin's token.
    public var tenant: String?
    public var role: Role
    /// The request's verb, e.g. `CANCEL`.
    public var verb: String
    /// What it named, e.g. `job 42`, `node gpu-0-1`, `jobs 7-9`.
    public var object: String
    /// `ok`, or the `ERR` code it was answered with.
    public var outcome: String

    public init(seq: Int64 = 0, timeMs: Int64, tokenID: String, tenant: String?, role: Role, verb: String, object: String, outcome: String) {
        self.seq = seq
        self.timeMs = timeMs
        self.tokenID = tokenID
        self.tenant = tenant
        self.role = role
        self.verb = verb
        self.object = object
        self.outcome = outcome
    }
}

/// `AUDIT`: the audit log's newest records (cluster admins only), oldest first.
public struct AuditQuery: Sendable, Codable, Hashable {
    /// Only records at or after this wall-clock time (ms).
    public var sinceMs: Int64?
    /// At most this many, the newest (default 1,000).
    public var limit: Int?
    public init(sinceMs: Int64? = nil, limit: Int? = nil) {
        self.sinceMs = sinceMs
        self.limit = limit
    }
}

/// The reply to `AUDIT`.
public struct AuditList: Sendable, Codable, Hashable {
    public var records: [AuditRecord]
    public init(records: [AuditRecord]) { self.records = records }
}
