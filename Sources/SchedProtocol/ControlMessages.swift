import SchedCore

// MARK: schedctl → schedd requests

/// Submit a job; answered by SUBMITTED once the job is durable.
public struct Submit: Sendable, Codable, Hashable {
    public var spec: JobSpec
    public init(spec: JobSpec) { self.spec = spec }
}
/// The id of a stored job.
public struct Submitted: Sendable, Codable, Hashable {
    /// The (first) job's id.
    public var job: JobID
    /// For a job array: how many jobs were stored, with ids `job`, `job+1`, ... `job+count-1`.
    public var count: Int?
    public init(job: JobID, count: Int? = nil) {
        self.job = job
        self.count = count
    }
}
/// List jobs, newest first; `states` filters, `limit` caps (default 1000).
public struct ListJobs: Sendable, Codable, Hashable {
    public var states: [JobState]?
    public var limit: Int?
    public init(states: [JobState]? = nil, limit: Int? = nil) {
        self.states = states
        self.limit = limit
    }
}
public struct JobList: Sendable, Codable, Hashable {
    public var jobs: [JobInfo]
    public init(jobs: [JobInfo]) { self.jobs = jobs }
}
/// A request naming one job (JOB, CANCEL, EXPLAIN, WAIT).
public struct JobRequest: Sendable, Codable, Hashable {
    public var job: JobID
    public init(job: JobID) { self.job = job }
}
/// A request naming one node (DRAIN, UNDRAIN).
public struct NodeRequest: Sendable, Codable, Hashable {
    public var node: NodeID
    public var reason: String?
    public init(node: NodeID, reason: String? = nil) {
        self.node = node
        self.reason = reason
    }
}
/// List nodes; `topology` includes each node's full topology.
public struct ListNodes: Sendable, Codable, Hashable {
    public var topology: Bool?
    public init(topology: Bool? = nil) { self.topology = topology }
}
public struct NodeList: Sendable, Codable, Hashable {
    public var nodes: [NodeInfo]
    public init(nodes: [NodeInfo]) { self.nodes = nodes }
}
/// Why a job waits, or why it went where it went.
public struct Explanation: Sendable, Codable, Hashable {
    public var job: JobInfo
    /// The latest placement-log record of the job, if any.
    public var latest: PlacementRecord?
    /// For a pending job: a fresh evaluation against the current fleet.
    public var current: PlacementRecord?
    /// For a pending job: its place in the queue (1 = tried first) and the queue's length.
    public var queuePosition: Int?
    public var queueLength: Int?
    /// For a pending job: what keeps it waiting whatever the fleet has free (`tenant cap: ...`).
    public var held: String?
    public init(job: JobInfo, latest: PlacementRecord?, current: PlacementRecord?, queuePosition: Int? = nil, queueLength: Int? = nil) {
        self.job = job
        self.latest = latest
        self.current = current
        self.queuePosition = queuePosition
        self.queueLength = queueLength
    }
}
/// Read the placement log. Records with `seq > after`, filtered; with `follow`, new records keep
/// streaming as LOG_RECORD lines until the connection closes.
public struct LogQuery: Sendable, Codable, Hashable {
    public var job: JobID?
    public var node: NodeID?
    public var after: Int64?
    public var limit: Int?
    public var follow: Bool?
    /// Only this tenant's records. schedd sets it to the token's tenant for everyone but a
    /// cluster admin, whatever the client sent.
    public var tenant: String?
    public init(job: JobID? = nil, node: NodeID? = nil, after: Int64? = nil, limit: Int? = nil, follow: Bool? = nil,
                tenant: String? = nil) {
        self.job = job
        self.node = node
        self.after = after
        self.limit = limit
        self.follow = follow
        self.tenant = tenant
    }
}
/// End of the stored records of a LOG reply (streaming continues after it with `follow`).
public struct LogEnd: Sendable, Codable, Hashable {
    public var count: Int
    public init(count: Int) { self.count = count }
}
/// The reply to a change (CANCEL, UPDATE, DRAIN, UNDRAIN) that schedd has made in memory and
/// keeps retrying to store, but could not store within its retry time (the store refuses
/// writes). It is not an error: the change will take effect once stored. A request answered
/// `ERR` never takes effect later.
public struct Accepted: Sendable, Codable, Hashable {
    /// The verb of the request.
    public var request: String
    public var message: String
    public init(request: String, message: String) {
        self.request = request
        self.message = message
    }
}
/// An empty acknowledgement.
public struct Empty: Sendable, Codable, Hashable {
    public init() {}
}

/// One tenant in `schedctl status`.
public struct TenantStatus: Sendable, Codable, Hashable {
    public var holding: TenantQuota
    public var quota: TenantQuota?
    public var decayedUsageCoreSeconds: Int64
    /// The most the tenant may hold at once (`max-cpus`, `max-gpus`), when capped.
    public var cap: TenantCap?
    public init(holding: TenantQuota, quota: TenantQuota?, decayedUsageCoreSeconds: Int64, cap: TenantCap? = nil) {
        self.holding = holding
        self.quota = quota
        self.decayedUsageCoreSeconds = decayedUsageCoreSeconds
        self.cap = cap
    }
}

/// Daemon health for `schedctl status`.
public struct SchedulerStatus: Sendable, Codable, Hashable {
    public var software: String
    public var protocolVersion: Int
    public var uptimeSeconds: Int64
    public var policy: String
    public var stateDir: String
    /// Node count per status (`ready`, `down`, ...).
    public var nodes: [String: Int]
    /// Job count per state.
    public var jobs: [String: Int]
    /// Protocol lines rejected since start (malformed, unknown verb, too long).
    public var rejectedLines: Int
    /// Each queue's policy.
    public var queues: [String: String]?
    /// Per tenant: what it holds now, its guaranteed quota, and its decayed usage (core-seconds).
    public var tenants: [String: TenantStatus]?
    /// Requests refused by an admission limit since start, per limit (`jobs-per-request`,
    /// `pending-per-tenant`, `submit-rate`; the shell adds its connection limits).
    public var limitsHit: [String: Int]?
    /// Agent lines refused `forbidden` since start (the node authorizer: a node certificate used
    /// for another node, a second connection claiming a connected node, a join token used for
    /// anything but JOIN); each closed its connection. Absent when none.
    public var forbiddenAgentLines: Int?
    public init(software: String, protocolVersion: Int, uptimeSeconds: Int64, policy: String, stateDir: String,
                nodes: [String: Int], jobs: [String: Int], rejectedLines: Int, queues: [String: String]? = nil,
                tenants: [String: TenantStatus]? = nil, limitsHit: [String: Int]? = nil, forbiddenAgentLines: Int? = nil) {
        self.limitsHit = limitsHit
        self.forbiddenAgentLines = forbiddenAgentLines
        self.software = software
        self.protocolVersion = protocolVersion
        self.uptimeSeconds = uptimeSeconds
        self.policy = policy
        self.stateDir = stateDir
        self.nodes = nodes
        self.jobs = jobs
        self.rejectedLines = rejectedLines
        self.queues = queues
        self.tenants = tenants
    }
}
