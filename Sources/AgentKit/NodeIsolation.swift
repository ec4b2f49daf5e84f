import HostTopology
import Logging
import SchedCore

/// How this agent keeps its tasks apart, found once at start (`NodeIsolation.setUp`) and said
/// in the agent's start log: whether tasks switch to their owners (only an agent running as
/// root can), and the cgroup subtree its tasks go into, or why there is none (then tasks get
/// CPU affinity and the NUMA memory policy only, as before cgroups).
struct NodeIsolation: Sendable {
    /// The agent's effective uid: 0 switches tasks to their users.
    var agentUID: UInt32
    /// The node's cgroup subtree; nil when the host gives none (`cgroupsUnavailable` says why).
    var cgroups: CgroupTree?
    var cgroupsUnavailable: String?
    /// `pids.max` of each task (0: none).
    var pidsMax: Int
    /// Whether tasks get device rules: the node has GPUs.
    var controlsGPUs: Bool

    /// No cgroups, no switch of user (`--no-exec`, tests of the supervisor alone).
    static func none(agentUID: UInt32) -> NodeIsolation {
        NodeIsolation(agentUID: agentUID, cgroups: nil, cgroupsUnavailable: "not set up", pidsMax: 0, controlsGPUs: false)
    }

    /// Locates and creates the node's subtree and logs what tasks will get.
    static func setUp(config: AgentConfig, topology: NodeTopology, mounts: CgroupMounts = .current(),
                      agentUID: UInt32 = UnixUser.effectiveUID, logger: Logger) -> NodeIsolation {
        var isolation = NodeIsolation(agentUID: agentUID, cgroups: nil, cgroupsUnavailable: nil, pidsMax: config.taskPidsMax,
                                      controlsGPUs: !topology.gpus.isEmpty)
        switch CgroupTree.locate(mode: config.cgroups, mounts: mounts, parent: config.cgroupParent, node: config.nodeName.rawValue) {
        case .failure(let why):
            isolation.cgroupsUnavailable = why.description
        case .success(var tree):
            let problems = tree.prepare()
            if tree.directories.isEmpty {
                isolation.cgroupsUnavailable = "no cgroup hierarchy is writable by this agent (uid \(agentUID)): "
                    + problems.joined(separator: "; ")
            } else {
                isolation.cgroups = tree
                for p in problems { logger.warning("a cgroup controller is not used for tasks", metadata: ["problem": "\(p)"]) }
            }
        }
        if agentUID == 0 {
            logger.notice("tasks run as their users (the agent is root)", metadata: ["default.user": "\(TaskUser.defaultUser)"])
        } else {
            let name = UnixUser.withID(agentUID)?.name ?? "uid \(agentUID)"
            logger.notice("tasks run as this agent's user: it is not root, so it cannot switch to theirs",
                          metadata: ["user": "\(name)", "uid": "\(agentUID)"])
        }
        if let tree = isolation.cgroups {
            let devices = tree.version == .v1 ? tree.nodeDirs[.devices] != nil : true
            logger.notice("task cgroups", metadata: [
                "cgroup.version": "\(tree.version.rawValue)",
                "cgroup.controllers": "\(tree.controllers.map(\.rawValue).joined(separator: ","))",
                "cgroup.dirs": "\(tree.directories.joined(separator: " "))",
                "pids.max": "\(config.taskPidsMax)",
                "gpu.devices": "\(isolation.controlsGPUs ? (devices ? (tree.version == .v1 ? "devices cgroup" : "eBPF device filter") : "not controlled") : "no GPUs")",
            ])
        } else {
            logger.notice("no task cgroups: tasks get CPU and NUMA binding only",
                          metadata: ["reason": "\(isolation.cgroupsUnavailable ?? "")"])
        }
        return isolation
    }
}
