import SchedCore

/// First line from any peer.
public struct Hello: Sendable, Codable, Hashable, CustomStringConvertible {
    public enum Role: String, Sendable, Codable, Hashable { case agent, client }
    public var protocolVersion: Int
    public var role: Role
    public var software: String?
    /// The peer's bearer token (`sched_…`); schedd refuses a HELLO without one it knows
    /// (`ERR unauthenticated`). A secret: `description` leaves it out.
    public var token: String?
    public init(role: Role, protocolVersion: Int = WireProtocol.version, software: String? = WireProtocol.software,
                token: String? = nil) {
        self.protocolVersion = protocolVersion
        self.role = role
        self.software = software
        self.token = token
    }
    enum CodingKeys: String, CodingKey { case protocolVersion = "protocol", role, software, token }
    /// The HELLO without its token, for logs and test failures.
    public var description: String {
        "Hello(protocol: \(protocolVersion), role: \(role.rawValue), software: \(software ?? "-"), token: \(token == nil ? "none" : "(redacted)"))"
    }
}

/// schedd's answer to an acceptable HELLO.
public struct Welcome: Sendable, Codable, Hashable {
    public var protocolVersion: Int
    public var software: String
    public init(protocolVersion: Int = WireProtocol.version, software: String = WireProtocol.software) {
        self.protocolVersion = protocolVersion
        self.software = software
    }
    enum CodingKeys: String, CodingKey { case protocolVersion = "protocol", software }
}

/// An error reply: a stable code and a human message.
public struct ErrorReply: Sendable, Codable, Hashable, Error {
    public var code: WireErrorCode
    public var message: String
    public init(_ code: WireErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// A job and task number; a job of the walking skeleton has one task, index 0.
public struct TaskRef: Sendable, Codable, Hashable, Comparable, CustomStringConvertible {
    public var job: JobID
    public var task: Int
    public init(job: JobID, task: Int = 0) {
        self.job = job
        self.task = task
    }
    public static func < (a: TaskRef, b: TaskRef) -> Bool { (a.job, a.task) < (b.job, b.task) }
    public var description: String { "\(job).\(task)" }
}

/// How a task ended, as the agent observed it.
public struct TaskExit: Sendable, Codable, Hashable {
    /// Exit status when the process exited normally.
    public var exitCode: Int32?
    /// Signal number when the process was killed by a signal.
    public var signal: Int32?
    /// Set when the task never ran (the command could not be started, no such user, ...), or
    /// why it ended when the agent knows better than the status (`out of memory (limit N bytes)`).
    public var error: String?
    public init(exitCode: Int32? = nil, signal: Int32? = nil, error: String? = nil) {
        self.exitCode = exitCode
        self.signal = signal
        self.error = error
    }
    public var succeeded: Bool { exitCode == 0 && signal == nil && error == nil }
}

/// The PUs and NUMA nodes a task was really bound to on the host (differs from the
/// assignment only on emulated nodes; see docs/topology.md), and the uid it really runs as.
public struct HostBinding: Sendable, Codable, Hashable {
    public var cpus: CPUSet
    public var numaNodes: NUMASet
    /// The uid the task's command runs as: `StartTask.user`'s under an agent running as root,
    /// the agent's own otherwise. nil from agents before this field and for tasks without a process.
    public var uid: UInt32?
    public init(cpus: CPUSet, numaNodes: NUMASet, uid: UInt32? = nil) {
        self.cpus = cpus
        self.numaNodes = numaNodes
        self.uid = uid
    }
}

/// A task the agent knows about, reported in REGISTER so schedd can reconcile after a reconnect.
public struct TaskReport: Sendable, Codable, Hashable {
    public var ref: TaskRef
    public var pid: Int32?
    public var binding: HostBinding?
    /// nil while running; set once it ended (until schedd acknowledges with ACK_EXIT).
    public var exit: TaskExit?
    public init(ref: TaskRef, pid: Int32? = nil, binding: HostBinding? = nil, exit: TaskExit? = nil) {
        self.ref = ref
        self.pid = pid
        self.binding = binding
        self.exit = exit
    }
}

// MARK: agent → schedd

/// Registration: the node's name, its discovered topology and every task the agent knows.
public struct Register: Sendable, Codable, Hashable {
    public var node: NodeID
    public var topology: NodeTopology
    /// True when the topology came from `--topology-xml` rather than this host.
    public var emulated: Bool
    public var tasks: [TaskReport]
    /// Node labels from the agent's configuration (`--label`, `--nvlink-domain`).
    public var labels: [String: String]?
    public init(node: NodeID, topology: NodeTopology, emulated: Bool, tasks: [TaskReport], labels: [String: String]? = nil) {
        self.node = node
        self.topology = topology
        self.emulated = emulated
        self.tasks = tasks
        self.labels = labels
    }
}

/// Periodic liveness and state.
public struct Heartbeat: Sendable, Codable, Hashable {
    public var node: NodeID
    /// Number of tasks the agent is running.
    public var running: Int
    /// Free memory per NUMA node (libnuma), when known.
    public var freeMemory: [NUMAMemory]?
    public init(node: NodeID, running: Int, freeMemory: [NUMAMemory]? = nil) {
        self.node = node
        self.running = running
        self.freeMemory = freeMemory
    }
}

/// The agent started a task's process.
public struct TaskStarted: Sendable, Codable, Hashable {
    public var ref: TaskRef
    public var pid: Int32
    public var binding: HostBinding
    public var stdoutPath: String
    public var stderrPath: String
    public init(ref: TaskRef, pid: Int32, binding: HostBinding, stdoutPath: String, stderrPath: String) {
        self.ref = ref
        self.pid = pid
        self.binding = binding
        self.stdoutPath = stdoutPath
        self.stderrPath = stderrPath
    }
}

/// A task ended (or could not start). Sent once; until schedd answers ACK_EXIT the agent keeps
/// the exit and reports it again in its next REGISTER.
public struct TaskExited: Sendable, Codable, Hashable {
    public var ref: TaskRef
    public var exit: TaskExit
    public init(ref: TaskRef, exit: TaskExit) {
        self.ref = ref
        self.exit = exit
    }
}

// MARK: schedd → agent

/// Registration accepted.
public struct Registered: Sendable, Codable, Hashable {
    public var node: NodeID
    public var heartbeatIntervalMs: Int
    public init(node: NodeID, heartbeatIntervalMs: Int) {
        self.node = node
        self.heartbeatIntervalMs = heartbeatIntervalMs
    }
}

/// Run a task. Idempotent: a task the agent already knows is not started twice.
public struct StartTask: Sendable, Codable, Hashable {
    public var ref: TaskRef
    public var jobName: String
    public var command: [String]
    public var env: [String: String]
    public var workdir: String?
    public var assignment: Assignment
    public var killGraceSeconds: Int
    /// Array membership, for the task's environment.
    public var arrayJob: JobID?
    public var arrayIndex: Int?
    /// For a gang: every member's node, by rank (the member's array index).
    public var gangNodes: [NodeID]?
    /// The Unix user the task runs as on the node (an agent running as root switches to it);
    /// nil means `nobody`. `root` only when schedd says so.
    public var user: String?
    public init(ref: TaskRef, jobName: String, command: [String], env: [String: String], workdir: String?,
                assignment: Assignment, killGraceSeconds: Int, arrayJob: JobID? = nil, arrayIndex: Int? = nil,
                user: String? = nil) {
        self.ref = ref
        self.jobName = jobName
        self.command = command
        self.env = env
        self.workdir = workdir
        self.assignment = assignment
        self.killGraceSeconds = killGraceSeconds
        self.arrayJob = arrayJob
        self.arrayIndex = arrayIndex
        self.gangNodes = nil
        self.user = user
    }
}

/// Stop a task: SIGTERM, then SIGKILL after the grace period.
public struct KillTask: Sendable, Codable, Hashable {
    public var ref: TaskRef
    public var graceSeconds: Int
    public var reason: String
    /// The first signal (default SIGTERM): a preempted job's checkpoint signal.
    public var signal: Int32?
    public init(ref: TaskRef, graceSeconds: Int, reason: String, signal: Int32? = nil) {
        self.ref = ref
        self.graceSeconds = graceSeconds
        self.reason = reason
        self.signal = signal
    }
}

/// schedd has durably recorded a task's exit; the agent may forget it.
public struct AckExit: Sendable, Codable, Hashable {
    public var ref: TaskRef
    public init(ref: TaskRef) { self.ref = ref }
}
