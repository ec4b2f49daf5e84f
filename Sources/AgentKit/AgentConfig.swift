import HostTopology
import SchedCore
import SchedNet

/// Settings of one sched-agent.
public struct AgentConfig: Sendable {
    /// schedd's address.
    public var scheduler: HostPort
    /// How to reach schedd: TLS 1.3 with schedd's certificate signed by the cluster CA (`--ca`),
    /// without a client certificate (the node certificate's settings are made from `caPEM`).
    public var tls: TLSClientConfiguration
    /// The CA file `tls` trusts (named in errors).
    public var caFile = ""
    /// The CA certificate itself, PEM: trusted for mutual TLS with the node certificate, and the
    /// CA a stored node certificate must be signed by to be used.
    public var caPEM = ""
    /// How the agent authenticates: a token in every HELLO, or its node certificate (joining
    /// first with a join token). The tokens are secrets, redacted wherever the config is printed
    /// (swift-service-lifecycle logs its services).
    public var authentication: AgentAuthentication
    /// The name this node registers under.
    public var nodeName: NodeID
    /// True when the topology was loaded from `--topology-xml` (an emulated node).
    public var emulated: Bool
    /// Where per-task stdout/stderr files and working directories go.
    public var workDir: String
    /// Longest line accepted from schedd.
    public var maxLineBytes: Int
    /// First reconnect delay; doubles up to `maxBackoffMs` with ±20% jitter.
    public var initialBackoffMs: Int
    public var maxBackoffMs: Int
    /// Absolute path of this agent's executable (runs the exec helper that binds and execs a task).
    public var agentExecutable: String
    /// Node labels sent in REGISTER (`--label`, `--nvlink-domain` → `nvlink.domain`).
    public var labels: [String: String] = [:]
    /// `--no-exec`: acknowledge each task, hold it for its declared duration and report it
    /// finished, without starting a process (see `NoExecDuration`).
    public var noExec = false
    /// `--keep-tasks-on-stop`: a graceful stop leaves the tasks running under their shims (as
    /// slurmd, kubelet and Nomad's client do); the next agent on this work dir adopts them.
    public var keepTasksOnStop = false
    /// `--cgroups`: which cgroups tasks get (`.off` leaves them with CPU and NUMA binding only).
    public var cgroups: CgroupMode = .off
    /// `--cgroup-parent`: where the node's subtree goes (`PARENT/NODE/JOB.TASK` per task),
    /// relative to the agent's own cgroup, or from the hierarchy's root when it starts with `/`.
    public var cgroupParent = "sched"
    /// `--task-pids-max`: each task's limit on processes and threads (`pids.max`); 0: none.
    public var taskPidsMax = 16_384

    public init(scheduler: HostPort, tls: TLSClientConfiguration, authentication: AgentAuthentication, nodeName: NodeID,
                emulated: Bool, workDir: String, agentExecutable: String,
                maxLineBytes: Int = 1 << 26, initialBackoffMs: Int = 200, maxBackoffMs: Int = 5_000) {
        self.scheduler = scheduler
        self.tls = tls
        self.authentication = authentication
        self.nodeName = nodeName
        self.emulated = emulated
        self.workDir = workDir
        self.agentExecutable = agentExecutable
        self.maxLineBytes = maxLineBytes
        self.initialBackoffMs = initialBackoffMs
        self.maxBackoffMs = maxBackoffMs
    }
}

/// How an agent proves who it is to schedd.
public enum AgentAuthentication: Sendable {
    /// A bearer token in every HELLO: the cluster-admin token (`--token-file`, `SCHED_TOKEN`),
    /// which may register any node name.
    case token(RedactedToken)
    /// Mutual TLS with the node certificate kept in the work directory (`node.pem`, `node.key`),
    /// and no token. When there is none, or schedd no longer accepts it, the agent joins first with
    /// `joinToken` (`--join-token`, `--join-token-file`, `SCHED_JOIN_TOKEN`); without one it stops.
    case nodeCertificate(joinToken: RedactedToken?)
}

/// A token that prints as `(redacted)`: in `description`, `debugDescription` and reflection alike.
public struct RedactedToken: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The secret itself, for the HELLO only.
    public let secret: String
    public init(_ secret: String) { self.secret = secret }
    public var description: String { "(redacted)" }
    public var debugDescription: String { "(redacted)" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}
