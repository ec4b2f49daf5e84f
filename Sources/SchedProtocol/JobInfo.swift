import SchedCore

/// Lifecycle of a job.
public enum JobState: String, Sendable, Codable, Hashable, CaseIterable {
    /// Waiting for a node.
    case pending
    /// Placed and sent to its agent; not yet confirmed started.
    case starting
    /// The agent reported the process running.
    case running
    /// Exited with status 0.
    case completed
    /// Exited non-zero, was killed by a signal, could not start, or its node was lost.
    case failed
    /// Cancelled by a user.
    case cancelled

    public var isTerminal: Bool { self == .completed || self == .failed || self == .cancelled }
    /// Holds resources on a node.
    public var isActive: Bool { self == .starting || self == .running }
}

/// Everything known about one job: the wire view and the stored record.
public struct JobInfo: Sendable, Codable, Hashable {
    public var id: JobID
    public var spec: JobSpec
    public var state: JobState
    /// Unix time in milliseconds.
    public var submittedAtMs: Int64
    public var startedAtMs: Int64?
    public var finishedAtMs: Int64?
    /// Where it was placed (node numbering).
    public var assignment: Assignment?
    /// What the agent actually bound (host numbering).
    public var hostBinding: HostBinding?
    public var pid: Int32?
    public var exit: TaskExit?
    /// Why the job is pending, failed or was cancelled, in one line.
    public var reason: String?
    public var stdoutPath: String?
    public var stderrPath: String?
    /// Set when a cancel was requested while the task was running.
    public var cancelRequested: Bool?
    /// For a member of a job array: the array's first job id and this member's index.
    public var arrayJob: JobID?
    public var arrayIndex: Int?
    /// Set while the job is being stopped to make room for this (higher-priority) job.
    public var preemptedBy: JobID?
    /// How many times the job was preempted and re-queued.
    public var preemptions: Int?
    /// For a service: how many times its task was started again after it ended.
    public var restarts: Int?
    /// Not to be placed before this wall-clock time (ms): a service's restart back-off.
    public var notBeforeMs: Int64?
    /// Set when the task was stopped for running past its time limit.
    public var timedOut: Bool?
    /// For the first waiting job: when backfill expects it to start (wall-clock ms), from the
    /// running tasks' time limits.
    public var estimatedStartMs: Int64?
    /// Which shape runs (0 = `spec.resources`, 1... = `spec.alternatives`), when the job has alternatives.
    public var shape: Int?
    /// For a gang member: set when another member (this job) failed, so this one is stopped with
    /// its gang and ends `failed`.
    public var gangStoppedBy: JobID?
    /// For a service replica: the revision of the template it runs (nil = 1; each update adds one).
    public var revision: Int?
    /// For a service replica while a rolling update is in progress: the template it moves to.
    public var rollout: RolloutTarget?
    /// Set while this replica's task is being stopped, to start again with `rollout`'s template.
    public var replacing: Bool?
    /// In JOB_INFO replies for a service being updated: how far the rolling update is.
    public var rolloutProgress: RolloutProgress?
    /// Who submitted it (`Principal.ownerName`): a submitter may cancel or update only its own jobs.
    public var owner: String?
    /// The Unix user its task runs as on the node (from the submitting token; `nobody` without one).
    public var runAs: String?

    public init(id: JobID, spec: JobSpec, state: JobState, submittedAtMs: Int64) {
        self.id = id
        self.spec = spec
        self.state = state
        self.submittedAtMs = submittedAtMs
    }

    public var node: NodeID? { assignment?.node }
}

/// Node lifecycle as operators see it.
public enum NodeStatus: String, Sendable, Codable, Hashable {
    /// Connected and registered; reconciling tasks.
    case registered
    /// Takes new work.
    case ready
    /// Drain requested; running tasks finish, no new ones start.
    case draining
    /// Drain requested and nothing runs.
    case drained
    /// Missed heartbeats or disconnected.
    case down
}

/// One node in `schedctl nodes`.
public struct NodeInfo: Sendable, Codable, Hashable {
    public var name: NodeID
    public var status: NodeStatus
    public var arch: String
    public var cpuModel: String?
    public var emulated: Bool
    public var packages: Int
    public var numaNodes: Int
    public var cores: Int
    public var cpus: Int
    public var cpusUsed: Int
    public var memoryBytes: Int64
    public var memoryUsedBytes: Int64
    public var gpus: Int
    public var gpusUsed: Int
    public var gpuModels: [String]
    public var nvlink: Bool
    public var runningJobs: Int
    public var drainReason: String?
    public var lastHeartbeatMs: Int64?
    /// Free memory per NUMA node as the agent last measured it (libnuma); nil for emulated nodes.
    public var freeMemory: [NUMAMemory]?
    /// Node labels (`nvlink.domain`, `rack`, ...).
    public var labels: [String: String]?
    public var topology: NodeTopology?

    public init(name: NodeID, status: NodeStatus, arch: String, cpuModel: String?, emulated: Bool, packages: Int,
                numaNodes: Int, cores: Int, cpus: Int, cpusUsed: Int, memoryBytes: Int64, memoryUsedBytes: Int64,
                gpus: Int, gpusUsed: Int, gpuModels: [String], nvlink: Bool, runningJobs: Int,
                drainReason: String?, lastHeartbeatMs: Int64?, freeMemory: [NUMAMemory]? = nil, labels: [String: String]? = nil,
                topology: NodeTopology? = nil) {
        self.name = name
        self.status = status
        self.arch = arch
        self.cpuModel = cpuModel
        self.emulated = emulated
        self.packages = packages
        self.numaNodes = numaNodes
        self.cores = cores
        self.cpus = cpus
        self.cpusUsed = cpusUsed
        self.memoryBytes = memoryBytes
        self.memoryUsedBytes = memoryUsedBytes
        self.gpus = gpus
        self.gpusUsed = gpusUsed
        self.gpuModels = gpuModels
        self.nvlink = nvlink
        self.runningJobs = runningJobs
        self.drainReason = drainReason
        self.lastHeartbeatMs = lastHeartbeatMs
        self.freeMemory = freeMemory
        self.labels = labels
        self.topology = topology
    }
}
