import SchedCore

/// Many job specs in one request: stored in one transaction, all or none, then answered with
/// one `SUBMITTED_BATCH`. Each spec may itself be an array (`array: N`).
public struct SubmitBatch: Sendable, Codable, Hashable {
    public var specs: [JobSpec]
    public init(specs: [JobSpec]) { self.specs = specs }
}

/// The ids stored for a `SUBMIT_BATCH`, one entry per spec in the order sent.
public struct SubmittedBatch: Sendable, Codable, Hashable {
    /// For each spec: its (first) job id and, for an array, how many jobs it stored.
    public var jobs: [Submitted]
    public init(jobs: [Submitted]) { self.jobs = jobs }
}

/// schedd → agent: heartbeat every `heartbeatIntervalMs` from now on (sent when the fleet grew
/// enough to change the interval; see docs/protocol.md "Heartbeats at fleet scale").
public struct HeartbeatInterval: Sendable, Codable, Hashable {
    public var heartbeatIntervalMs: Int
    public init(heartbeatIntervalMs: Int) { self.heartbeatIntervalMs = heartbeatIntervalMs }
}
