import SchedCore

/// The settings the control plane's logic reads (schedd's `SchedulerConfig` without addresses,
/// files and I/O choices).
public struct ControlPlaneConfig: Sendable {
    /// How often agents send HEARTBEAT, before it grows with the fleet.
    public var heartbeatIntervalMs: Int
    /// A node whose last sign of life is older than this is marked down.
    public var nodeTimeoutMs: Int
    /// Ranking policy of the `default` queue.
    public var policy: SchedulingPolicy
    /// Further queues and their policies; `default` is always there.
    public var queues: [String: SchedulingPolicy]
    /// Guaranteed quotas per tenant.
    public var tenants: [String: TenantQuota] = [:]
    /// Per-tenant caps: the most a tenant may hold at once.
    public var tenantCaps: [String: TenantCap] = [:]
    /// How long a commit (and an event-triggered scheduling pass) waits for more events to
    /// join it (PostgreSQL's `commit_delay`). 0: only what the shell has already queued joins.
    public var groupDelayMs = 0
    /// How long a change (cancel, update, drain) waits for a store that refuses writes before it
    /// is answered `ACCEPTED` (kept, retried, not confirmed) instead of confirmed.
    public var storeRetryMs = 10_000
    /// Most heartbeats per second the whole fleet should send (0: the interval never grows).
    public var heartbeatsPerSecond = 500
    /// Seconds a finished job stays in memory (Slurm's `MinJobAge`); 0 keeps them all.
    public var minJobAgeSeconds = 300
    /// Shown by `status`.
    public var stateDir = ""
    /// Log events below this level are not built at all (they cost string formatting).
    public var minimumLogLevel: LogLevel = .info
    /// Admission limits against a client that floods schedd (see `AdmissionLimits`).
    public var limits = AdmissionLimits()

    public init(heartbeatIntervalMs: Int = 2_000, nodeTimeoutMs: Int = 10_000, policy: SchedulingPolicy = .bestFit,
                queues: [String: SchedulingPolicy] = [:]) {
        self.heartbeatIntervalMs = heartbeatIntervalMs
        self.nodeTimeoutMs = nodeTimeoutMs
        self.policy = policy
        self.queues = queues
    }

    /// Every queue with its policy, `default` included.
    public var allQueues: [String: SchedulingPolicy] {
        var q = queues
        if q["default"] == nil { q["default"] = policy }
        return q
    }
}

/// Severity of a `ControlAction.log` event (the shell maps it to swift-log's levels).
public enum LogLevel: Int, Sendable, Comparable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}
