import SchedCore
#if canImport(Glibc)
import Glibc
#endif

/// Which cgroups the agent gives its tasks (`sched-agent --cgroups`): `auto` takes v2 where the
/// unified hierarchy holds the controllers and v1 where v1 hierarchies do; `off` none.
public enum CgroupMode: String, Sendable, CaseIterable {
    case auto, v1, v2, off
}

/// What one task's cgroup holds it to.
public struct TaskLimits: Sendable, Hashable {
    /// PUs and NUMA nodes (host numbering); empty: the node's (its parent's).
    public var cpus: CPUSet
    public var mems: NUMASet
    /// 0: no memory limit (the job reserved none).
    public var memoryBytes: Int64
    /// 0: no limit on processes and threads.
    public var pidsMax: Int
    /// The GPUs (NVIDIA minor numbers) the task may open; nil leaves devices alone (a node without GPUs).
    public var gpus: [Int]?

    public init(cpus: CPUSet, mems: NUMASet, memoryBytes: Int64, pidsMax: Int, gpus: [Int]?) {
        self.cpus = cpus
        self.mems = mems
        self.memoryBytes = memoryBytes
        self.pidsMax = pidsMax
        self.gpus = gpus
    }
}

/// The subtree the agent owns for one node's tasks, `PARENT/NODE` in each hierarchy it uses:
/// every task gets a directory `PARENT/NODE/NAME` below it (`createTask`). `PARENT` is relative to
/// the agent's own cgroup in that hierarchy (what systemd's `Delegate=yes` hands a service), or
/// absolute from the hierarchy's root when it starts with `/`.
///
/// - v1: a directory per controller hierarchy (`/sys/fs/cgroup/memory/.../sched/NODE`, ...);
///   `prepare` gives every level of the cpuset one `cpuset.cpus`/`cpuset.mems` (a v1 cpuset takes
///   no task before both are set).
/// - v2: one directory; `prepare` enables the controllers for the levels below the agent's own
///   cgroup. A cgroup with processes cannot hand controllers down (the "no internal processes"
///   rule), so where the agent's own cgroup is not the root it first moves itself into `OWN/agent`.
///   An agent that runs in a leaf named `agent` (moved there, or started there by systemd's
///   `DelegateSubgroup=agent`) takes the leaf's parent as its own cgroup, on v1 too.
public struct CgroupTree: Sendable, Hashable {
    public let version: CgroupVersion
    /// The node's directory in each controller's hierarchy (v2: the one directory, for each
    /// controller available there).
    public private(set) var nodeDirs: [CgroupController: String]
    /// v2: the node's directory, which also holds tasks (membership, `cgroup.kill`, the device
    /// filter) when no controller is available there. nil on v1.
    public let unifiedDir: String?
    /// Each hierarchy's directory the path starts from (the agent's own cgroup, or the root for an
    /// absolute parent), by the node directory under it.
    let bases: [String: String]

    /// The controllers this tree places tasks under.
    public var controllers: [CgroupController] { nodeDirs.keys.sorted() }

    /// Why a host gives its tasks no cgroups.
    public struct Unavailable: Error, CustomStringConvertible, Sendable, Hashable {
        public var description: String
        public init(_ d: String) { description = d }
    }

    /// Finds where the node's subtree goes, without creating anything.
    public static func locate(mode: CgroupMode, mounts: CgroupMounts, parent: String, node: String) -> Result<CgroupTree, Unavailable> {
        let usesV1 = !mounts.v1.isEmpty
        let version: CgroupVersion
        switch mode {
        case .off: return .failure(Unavailable("task cgroups are turned off (--cgroups off)"))
        case .v1:
            guard usesV1 else { return .failure(Unavailable("no cgroup v1 hierarchy of cpuset, memory, pids or devices is mounted")) }
            version = .v1
        case .v2:
            guard mounts.v2 != nil else { return .failure(Unavailable("no cgroup v2 (cgroup2) filesystem is mounted")) }
            version = .v2
        case .auto:
            if usesV1 { version = .v1 } else if mounts.v2 != nil { version = .v2 } else {
                return .failure(Unavailable("no cgroup filesystem is mounted"))
            }
        }
        let relative = sanitize(parent) + "/" + sanitize(node)
        func nodeDir(_ mount: CgroupMounts.Mount, own: String?) -> (base: String, node: String)? {
            let base: String?
            if parent.hasPrefix("/") { base = mount.mountPoint } else { base = own.flatMap { CgroupMounts.directory(of: delegated($0), in: mount) } }
            guard let base else { return nil }
            return (base, base + "/" + relative)
        }
        if version == .v1 {
            var dirs: [CgroupController: String] = [:], bases: [String: String] = [:]
            for (c, mount) in mounts.v1 {
                guard let d = nodeDir(mount, own: mounts.ownV1[c]) else { continue }
                dirs[c] = d.node
                bases[d.node] = d.base
            }
            guard !dirs.isEmpty else { return .failure(Unavailable("this process's cgroups are not visible in the mounted v1 hierarchies")) }
            return .success(CgroupTree(version: .v1, nodeDirs: dirs, unifiedDir: nil, bases: bases))
        }
        guard let mount = mounts.v2, let d = nodeDir(mount, own: mounts.ownV2) else {
            return .failure(Unavailable("this process's cgroup is not visible in the mounted v2 hierarchy"))
        }
        let available = Set((CgroupFile.value(d.base + "/cgroup.controllers") ?? "").split(separator: " ").compactMap { CgroupController(rawValue: String($0)) })
        var dirs: [CgroupController: String] = [:]
        for c in available where c != .devices { dirs[c] = d.node }
        return .success(CgroupTree(version: .v2, nodeDirs: dirs, unifiedDir: d.node, bases: [d.node: d.base]))
    }

    /// The cgroup handed to the agent, from the one it runs in: that one, or its parent when the
    /// agent runs in the leaf `agent` of it (systemd's `DelegateSubgroup=agent`, or where a v2
    /// agent moved itself, see `prepare`).
    static func delegated(_ own: String) -> String {
        guard own.hasSuffix("/" + agentLeaf) else { return own }
        let up = String(own.dropLast(agentLeaf.count + 1))
        return up.isEmpty ? "/" : up
    }

    /// The leaf a v2 agent runs in when its cgroup hands controllers to its tasks' cgroups.
    static let agentLeaf = "agent"

    /// A path component as the user gave it, without `/` and `..` tricks.
    static func sanitize(_ s: String) -> String {
        s.split(separator: "/").filter { $0 != ".." && $0 != "." }.joined(separator: "/")
    }

    /// v2: `prepare` could not create the node's directory.
    private var unusable = false

    /// Every distinct node directory (v1: one per hierarchy; v2: one); empty when the tree cannot be used.
    public var directories: [String] {
        if unusable { return [] }
        if let unifiedDir { return [unifiedDir] }
        return Array(Set(nodeDirs.values)).sorted()
    }

    /// Creates the node's subtree. A v1 hierarchy that cannot be written (read-only, not root)
    /// is left out of the tree and named in the result; the tree is usable while `directories`
    /// is not empty. On v2 the agent may move itself (see the type's doc).
    public mutating func prepare() -> [String] {
        if version == .v2, let node = unifiedDir, let base = bases[node] {
            do throws(CgroupError) {
                try prepareUnified(base: base, node: node)
                return []
            } catch {
                nodeDirs = [:]
                unusable = true
                return ["\(error)"]
            }
        }
        var problems: [String] = []
        var kept: [CgroupController: String] = [:]
        for (c, node) in nodeDirs.sorted(by: { $0.key < $1.key }) {
            do throws(CgroupError) {
                try makeLevels(from: bases[node] ?? node, to: node, cpuset: c == .cpuset)
                kept[c] = node
            } catch {
                problems.append("\(c.rawValue): \(error)")
            }
        }
        nodeDirs = kept
        return problems
    }

    /// Creates `base/…/node` level by level; a cpuset level gets its parent's CPUs and memory nodes.
    private func makeLevels(from base: String, to node: String, cpuset: Bool) throws(CgroupError) {
        var dir = base
        for part in node.dropFirst(base.count).split(separator: "/") {
            let parent = dir
            dir += "/" + part
            try CgroupFile.makeDirectory(dir)
            if cpuset {
                for file in ["cpuset.cpus", "cpuset.mems"] where (CgroupFile.value(dir + "/" + file) ?? "").isEmpty {
                    try CgroupFile.write(CgroupFile.value(parent + "/" + file) ?? "", to: dir + "/" + file)
                }
            }
        }
    }

    /// Makes the levels down to the node's directories again, as `prepare` did.
    func ensureLevels() throws(CgroupError) {
        if version == .v2, let node = unifiedDir, let base = bases[node] {
            var copy = self
            try copy.prepareUnified(base: base, node: node)
            return
        }
        for (c, node) in nodeDirs { try makeLevels(from: bases[node] ?? node, to: node, cpuset: c == .cpuset) }
    }

    /// v2: the levels down to the node, each handing the controllers on to the one below.
    private mutating func prepareUnified(base: String, node: String) throws(CgroupError) {
        let wanted = controllers.filter { $0 != .devices }
        var dir = base
        var levels = [base]
        for part in node.dropFirst(base.count).split(separator: "/") {
            dir += "/" + part
            levels.append(dir)
        }
        for (i, level) in levels.enumerated() {
            if i > 0 { try CgroupFile.makeDirectory(level) }
            guard level != node, !wanted.isEmpty else { continue }
            let enable = wanted.map { "+" + $0.rawValue }.joined(separator: " ")
            do throws(CgroupError) {
                try CgroupFile.write(enable, to: level + "/cgroup.subtree_control")
            } catch where error.errno == EBUSY && i == 0 {
                // The agent's own cgroup holds processes (the agent): move this process into a leaf.
                let leaf = level + "/" + Self.agentLeaf
                try CgroupFile.makeDirectory(leaf)
                try CgroupFile.write("\(getpid())", to: leaf + "/cgroup.procs")
                try CgroupFile.write(enable, to: level + "/cgroup.subtree_control")
            }
        }
        // The controllers the node's directory really got.
        if let text = CgroupFile.value(node + "/cgroup.controllers") {
            let got = Set(text.split(separator: " ").compactMap { CgroupController(rawValue: String($0)) })
            nodeDirs = nodeDirs.filter { got.contains($0.key) }
        }
    }

    /// The names of the task directories now under the node's directories.
    public func taskNames() -> [String] {
        Array(Set(directories.flatMap { CgroupFile.subdirectories($0) })).sorted()
    }

    /// The cgroup a task named `name` has (or would have) in this tree.
    public func task(named name: String, memoryLimitBytes: Int64? = nil) -> TaskCgroup {
        var dirs: [String: String] = [:]
        if let unifiedDir { dirs[TaskCgroup.unifiedKey] = unifiedDir + "/" + name }
        else { for (c, d) in nodeDirs { dirs[c.rawValue] = d + "/" + name } }
        return TaskCgroup(version: version, dirs: dirs, memoryLimitBytes: memoryLimitBytes)
    }

    /// Creates the cgroup of task `name` with `limits`; returns it and what could not be
    /// applied (the v2 device filter where eBPF is refused). A directory left by an earlier task
    /// of that name must be removed first. On an error nothing of it is left.
    public func createTask(named name: String, limits: TaskLimits) throws(CgroupError) -> (cgroup: TaskCgroup, warnings: [String]) {
        let cg = task(named: name, memoryLimitBytes: limits.memoryBytes > 0 ? limits.memoryBytes : nil)
        var warnings: [String] = []
        var created: [String] = []
        do throws(CgroupError) {
            for dir in cg.joinDirectories {
                do throws(CgroupError) {
                    try CgroupFile.makeDirectory(dir)
                } catch where error.errno == ENOENT {
                    // The node's subtree went (removed by hand, or by an agent stopping as this one
                    // started): make it again.
                    try ensureLevels()
                    try CgroupFile.makeDirectory(dir)
                }
                created.append(dir)
            }
            if version == .v1 {
                try configureV1(cg, limits)
            } else {
                warnings = try configureV2(cg, limits)
            }
        } catch {
            for dir in created.reversed() { try? CgroupFile.removeDirectory(dir) }
            throw error
        }
        return (cg, warnings)
    }

    private func configureV1(_ cg: TaskCgroup, _ l: TaskLimits) throws(CgroupError) {
        if let d = cg.dirs[CgroupController.cpuset.rawValue] {
            let parent = nodeDirs[.cpuset]!
            try CgroupFile.write(l.cpus.isEmpty ? CgroupFile.value(parent + "/cpuset.cpus") ?? "" : l.cpus.description, to: d + "/cpuset.cpus")
            try CgroupFile.write(l.mems.isEmpty ? CgroupFile.value(parent + "/cpuset.mems") ?? "" : l.mems.description, to: d + "/cpuset.mems")
        }
        if let d = cg.dirs[CgroupController.memory.rawValue], l.memoryBytes > 0 {
            try CgroupFile.write("\(l.memoryBytes)", to: d + "/memory.limit_in_bytes")
            // With swap accounting, memory plus swap gets the same limit: no swapping past it.
            if CgroupFile.exists(d + "/memory.memsw.limit_in_bytes") {
                try CgroupFile.write("\(l.memoryBytes)", to: d + "/memory.memsw.limit_in_bytes")
            }
        }
        if let d = cg.dirs[CgroupController.pids.rawValue], l.pidsMax > 0 {
            try CgroupFile.write("\(l.pidsMax)", to: d + "/pids.max")
        }
        if let d = cg.dirs[CgroupController.devices.rawValue], let gpus = l.gpus {
            try CgroupFile.write(GPUDeviceRules.v1DenyEntries(allowedGPUs: gpus), to: d + "/devices.deny", append: true)
        }
    }

    private func configureV2(_ cg: TaskCgroup, _ l: TaskLimits) throws(CgroupError) -> [String] {
        guard let d = cg.dirs[TaskCgroup.unifiedKey] else { return [] }
        if nodeDirs[.cpuset] != nil {
            if !l.cpus.isEmpty { try CgroupFile.write(l.cpus.description, to: d + "/cpuset.cpus") }
            if !l.mems.isEmpty { try CgroupFile.write(l.mems.description, to: d + "/cpuset.mems") }
        }
        if nodeDirs[.memory] != nil, l.memoryBytes > 0 {
            try CgroupFile.write("\(l.memoryBytes)", to: d + "/memory.max")
            if CgroupFile.exists(d + "/memory.swap.max") { try CgroupFile.write("0", to: d + "/memory.swap.max") }
        }
        if nodeDirs[.pids] != nil, l.pidsMax > 0 {
            try CgroupFile.write("\(l.pidsMax)", to: d + "/pids.max")
        }
        guard let gpus = l.gpus else { return [] }
        do throws(CgroupError) {
            try DeviceFilter.attach(GPUDeviceRules.rules(allowedGPUs: gpus), to: d)
            return []
        } catch {
            return ["no GPU device control for this task: \(error)"]
        }
    }

    /// Removes the node's directories, and the levels above them up to the agent's own cgroup,
    /// where empty (agent shutdown). Errors are ignored: a level another agent still uses stays.
    public func removeNodeDirectories() {
        for node in directories {
            guard let base = bases[node] else { continue }
            var dir = node
            while dir.count > base.count, rmdir(dir) == 0 {
                dir = String(dir[..<(dir.lastIndex(of: "/") ?? dir.startIndex)])
            }
        }
    }
}
