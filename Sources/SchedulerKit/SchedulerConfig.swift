import SchedControlPlane
import SchedCore
import SchedNet

/// Settings of one schedd instance.
public struct SchedulerConfig: Sendable {
    /// Address serving agents and schedctl alike.
    public var listen: HostPort
    /// Directory of the embedded store (`schedd.sqlite`).
    public var stateDir: String
    /// How often agents send HEARTBEAT.
    public var heartbeatIntervalMs: Int
    /// A node whose last heartbeat is older than this is marked down.
    public var nodeTimeoutMs: Int
    /// Longest protocol line accepted.
    public var maxLineBytes: Int
    /// Ranking policy of the `default` queue.
    public var policy: SchedulingPolicy
    /// Further queues and their policies; `default` is always there (with `policy` unless named here).
    public var queues: [String: SchedulingPolicy]
    /// Guaranteed quotas per tenant; a tenant not named here has none (it may only borrow).
    public var tenants: [String: TenantQuota] = [:]
    /// Per-tenant caps: the most a tenant may hold at once, however idle the fleet.
    public var tenantCaps: [String: TenantCap] = [:]
    /// Commit writes in groups on the store's writer thread and coalesce scheduling passes
    /// (schedd turns this on). Off, every event's writes are committed on the actor before the
    /// call returns (unit tests: every call's effects are durable when it returns). The rules
    /// of what waits for a commit are the same either way (the control plane's).
    public var groupCommit = false
    /// With group commit: how long a commit (and an event-triggered scheduling pass) waits for
    /// more events to join it, in milliseconds (like PostgreSQL's `commit_delay`). 0: only what
    /// is already queued on the actor joins.
    public var groupDelayMs = 0
    /// With group commit: how long a request that changes state (cancel, update, drain) waits
    /// for a store that refuses writes before it is answered `unavailable` instead of confirmed.
    public var storeRetrySeconds = 10.0
    /// Most heartbeats per second the whole fleet should send: the interval agents are given
    /// doubles from `heartbeatIntervalMs` until the fleet stays under this (0: never grows).
    public var heartbeatsPerSecond = 500
    /// Seconds a finished job stays in schedd's memory (Slurm's `MinJobAge`); after that it is
    /// read from the store when asked for, so memory follows the active jobs, not the history.
    /// 0 keeps every finished job in memory (as `MinJobAge=0` does in Slurm).
    public var minJobAgeSeconds = 300
    /// Tenants whose tokens may run tasks as root (`--tenant NAME=allow-root`).
    public var rootTenants: Set<String> = []
    /// Admission limits on submissions (jobs per request, pending per tenant, submit rate).
    public var limits = AdmissionLimits()
    /// Further names (DNS names or IP addresses) schedd's serving certificate carries besides
    /// 127.0.0.1, ::1, localhost and the host name (`--tls-san`).
    public var tlsSANs: [String] = []
    /// The host name in the serving certificate; nil: this host's name.
    public var hostName: String?
    /// A peer that has not finished its TLS handshake after this long is closed.
    public var tlsHandshakeTimeoutMs = 5_000
    /// Connections a peer address, and all of them, may hold before they are agents; the
    /// HELLO deadline after TLS; a client's idle timeout between requests.
    public var connectionLimits = ConnectionLimits()

    public init(listen: HostPort, stateDir: String, heartbeatIntervalMs: Int = 2_000, nodeTimeoutMs: Int = 10_000,
                maxLineBytes: Int = 1 << 20, policy: SchedulingPolicy = .bestFit, queues: [String: SchedulingPolicy] = [:]) {
        self.listen = listen
        self.stateDir = stateDir
        self.heartbeatIntervalMs = heartbeatIntervalMs
        self.nodeTimeoutMs = nodeTimeoutMs
        self.maxLineBytes = maxLineBytes
        self.policy = policy
        self.queues = queues
    }

    /// Every queue with its policy, `default` included.
    public var allQueues: [String: SchedulingPolicy] {
        var q = queues
        if q["default"] == nil { q["default"] = policy }
        return q
    }

    /// The settings the control plane reads.
    public func controlPlane(minimumLogLevel: LogLevel) -> ControlPlaneConfig {
        var c = ControlPlaneConfig(heartbeatIntervalMs: heartbeatIntervalMs, nodeTimeoutMs: nodeTimeoutMs, policy: policy, queues: queues)
        c.tenants = tenants
        c.tenantCaps = tenantCaps
        c.groupDelayMs = groupCommit ? groupDelayMs : 0
        c.storeRetryMs = Int(storeRetrySeconds * 1000)
        c.heartbeatsPerSecond = heartbeatsPerSecond
        c.limits = limits
        c.minJobAgeSeconds = minJobAgeSeconds
        c.stateDir = stateDir
        c.minimumLogLevel = minimumLogLevel
        return c
    }
}
