import Foundation
@testable import HostTopology
import SchedCore
import Testing

/// The cgroup path and file logic, against a temporary directory tree standing in for
/// /sys/fs/cgroup (plain files take the same writes; the kernel's own behaviour is tested by
/// CgroupKernelTests and the integration tests).
@Suite("Cgroup tree (temporary directory)")
struct CgroupTreeTests {
    /// This host's kind of mountinfo: cgroup v1 controllers beside an empty unified hierarchy.
    static let hybridMountinfo = """
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory
        36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
        39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
        50 23 8:1 / /var/lib\\040data rw - ext4 /dev/sda1 rw
        """
    static let hybridProcCgroup = """
        8:pids:/
        5:devices:/
        4:memory:/box/one
        3:cpuset:/
        2:cpu,cpuacct:/
        0::/
        """

    @Test("mountinfo and /proc/self/cgroup: v1 controllers, the unified hierarchy, the process's own cgroups")
    func parsesMounts() {
        let m = CgroupMounts(mountinfo: Self.hybridMountinfo, procCgroup: Self.hybridProcCgroup)
        #expect(m.v1 == [.cpuset: .init(mountPoint: "/sys/fs/cgroup/cpuset"), .memory: .init(mountPoint: "/sys/fs/cgroup/memory"),
                         .devices: .init(mountPoint: "/sys/fs/cgroup/devices"), .pids: .init(mountPoint: "/sys/fs/cgroup/pids")])
        #expect(m.v2 == .init(mountPoint: "/sys/fs/cgroup/unified"))
        #expect(m.ownV1 == [.pids: "/", .devices: "/", .memory: "/box/one", .cpuset: "/"])
        #expect(m.ownV2 == "/")
        #expect(CgroupMounts.unescape("/var/lib\\040data") == "/var/lib data")
    }

    @Test("locate: auto takes v1 on a hybrid host, paths follow the agent's own cgroup; an absolute parent starts at the root")
    func locatesV1() throws {
        let m = CgroupMounts(mountinfo: Self.hybridMountinfo, procCgroup: Self.hybridProcCgroup)
        let tree = try CgroupTree.locate(mode: .auto, mounts: m, parent: "sched", node: "gpu-01").get()
        #expect(tree.version == .v1)
        #expect(tree.nodeDirs == [.cpuset: "/sys/fs/cgroup/cpuset/sched/gpu-01", .memory: "/sys/fs/cgroup/memory/box/one/sched/gpu-01",
                                  .devices: "/sys/fs/cgroup/devices/sched/gpu-01", .pids: "/sys/fs/cgroup/pids/sched/gpu-01"])
        let absolute = try CgroupTree.locate(mode: .v1, mounts: m, parent: "/jobs/../sched", node: "../n").get()
        #expect(absolute.nodeDirs[.memory] == "/sys/fs/cgroup/memory/jobs/sched/n")
        #expect(absolute.task(named: "7.0").dirs["memory"] == "/sys/fs/cgroup/memory/jobs/sched/n/7.0")
    }

    @Test("an agent in the leaf 'agent' (systemd's DelegateSubgroup=agent, or moved there on v2) puts tasks beside it")
    func delegateSubgroup() throws {
        let service = "/system.slice/sched-agent.service"
        let v2 = CgroupMounts(v2: .init(mountPoint: "/sys/fs/cgroup"), ownV2: service + "/agent")
        let tree = try CgroupTree.locate(mode: .v2, mounts: v2, parent: "sched", node: "n").get()
        #expect(tree.directories == ["/sys/fs/cgroup\(service)/sched/n"])
        #expect(CgroupTree.delegated("/agent") == "/" && CgroupTree.delegated("/x/agents") == "/x/agents")
    }

    @Test("locate: off, and hosts without the hierarchies asked for, give no tree and say why")
    func unavailable() {
        let m = CgroupMounts(mountinfo: Self.hybridMountinfo, procCgroup: Self.hybridProcCgroup)
        #expect(throws: CgroupTree.Unavailable.self) { try CgroupTree.locate(mode: .off, mounts: m, parent: "sched", node: "n").get() }
        let none = CgroupMounts()
        for mode in [CgroupMode.auto, .v1, .v2] {
            #expect(throws: CgroupTree.Unavailable.self) { try CgroupTree.locate(mode: mode, mounts: none, parent: "sched", node: "n").get() }
        }
        let v2only = CgroupMounts(v2: .init(mountPoint: "/sys/fs/cgroup"), ownV2: "/system.slice/sched-agent.service")
        #expect(throws: CgroupTree.Unavailable.self) { try CgroupTree.locate(mode: .v1, mounts: v2only, parent: "sched", node: "n").get() }
    }

    /// A fake cgroup v1 filesystem: one directory per controller, cpuset's root with its CPUs and memory nodes.
    static func fakeV1() throws -> (root: String, mounts: CgroupMounts) {
        let root = NSTemporaryDirectory() + "cgtree-" + UUID().uuidString.prefix(8)
        var v1: [CgroupController: CgroupMounts.Mount] = [:]
        for c in CgroupController.allCases {
            try FileManager.default.createDirectory(atPath: root + "/" + c.rawValue, withIntermediateDirectories: true)
            v1[c] = .init(mountPoint: root + "/" + c.rawValue)
        }
        try "0-7\n".write(toFile: root + "/cpuset/cpuset.cpus", atomically: true, encoding: .utf8)
        try "0-1\n".write(toFile: root + "/cpuset/cpuset.mems", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: root + "/memory/box", withIntermediateDirectories: true)
        return (root, CgroupMounts(v1: v1, ownV1: [.cpuset: "/", .memory: "/box", .pids: "/", .devices: "/"]))
    }

    static func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<missing>" }

    @Test("v1: every cpuset level gets its parent's CPUs and memory nodes; a task gets its PUs, NUMA nodes, limits and device rules")
    func createsV1Task() throws {
        let (root, mounts) = try Self.fakeV1()
        defer { try? FileManager.default.removeItem(atPath: root) }
        var tree = try CgroupTree.locate(mode: .v1, mounts: mounts, parent: "sched", node: "dgx2").get()
        #expect(tree.prepare().isEmpty)
        #expect(tree.controllers == [.cpuset, .devices, .memory, .pids])
        for level in ["/cpuset/sched", "/cpuset/sched/dgx2"] {
            #expect(Self.text(root + level + "/cpuset.cpus") == "0-7\n")
            #expect(Self.text(root + level + "/cpuset.mems") == "0-1\n")
        }
        #expect(FileManager.default.fileExists(atPath: root + "/memory/box/sched/dgx2"))
        let limits = TaskLimits(cpus: CPUSet([2, 3]), mems: NUMASet([1]), memoryBytes: 64 << 20, pidsMax: 100, gpus: [1, 3])
        let (cg, warnings) = try tree.createTask(named: "42.0", limits: limits)
        #expect(warnings.isEmpty)
        #expect(cg.version == .v1 && cg.memoryLimitBytes == 64 << 20)
        #expect(cg.dirs == ["cpuset": root + "/cpuset/sched/dgx2/42.0", "memory": root + "/memory/box/sched/dgx2/42.0",
                            "pids": root + "/pids/sched/dgx2/42.0", "devices": root + "/devices/sched/dgx2/42.0"])
        #expect(Self.text(cg.dirs["cpuset"]! + "/cpuset.cpus") == "2-3\n")
        #expect(Self.text(cg.dirs["cpuset"]! + "/cpuset.mems") == "1\n")
        #expect(Self.text(cg.dirs["memory"]! + "/memory.limit_in_bytes") == "\(64 << 20)\n")
        #expect(Self.text(cg.dirs["pids"]! + "/pids.max") == "100\n")
        let denied = Self.text(cg.dirs["devices"]! + "/devices.deny").split(separator: "\n").map(String.init)
        #expect(denied.count == 255 - 2)
        #expect(denied.first == "c 195:0 rwm" && denied.contains("c 195:2 rwm") && denied.contains("c 195:254 rwm"))
        #expect(!denied.contains("c 195:1 rwm") && !denied.contains("c 195:3 rwm") && !denied.contains("c 195:255 rwm"))
        #expect(tree.taskNames() == ["42.0"])
        // The exec helper's part: the shim writes its pid into each hierarchy.
        try TaskCgroup.join(cg.joinDirectories, pid: 4242)
        #expect(cg.processes() == [4242])
        try FileManager.default.removeItem(atPath: cg.dirs["cpuset"]! + "/cgroup.procs")
        #expect(cg.processes() == [4242])  // still listed in the other hierarchies
    }

    @Test("v1: no memory limit when the job reserved none, no pids.max at 0, no device rules on a node without GPUs")
    func createsUnlimitedTask() throws {
        let (root, mounts) = try Self.fakeV1()
        defer { try? FileManager.default.removeItem(atPath: root) }
        var tree = try CgroupTree.locate(mode: .v1, mounts: mounts, parent: "/sched", node: "host").get()
        _ = tree.prepare()
        let (cg, _) = try tree.createTask(named: "1.0", limits: TaskLimits(cpus: CPUSet(), mems: NUMASet(), memoryBytes: 0, pidsMax: 0, gpus: nil))
        #expect(cg.memoryLimitBytes == nil)
        #expect(Self.text(cg.dirs["cpuset"]! + "/cpuset.cpus") == "0-7\n")  // empty: the node's
        for file in ["memory/sched/host/1.0/memory.limit_in_bytes", "pids/sched/host/1.0/pids.max", "devices/sched/host/1.0/devices.deny"] {
            #expect(!FileManager.default.fileExists(atPath: root + "/" + file), "\(file)")
        }
        #expect(!cg.ranOutOfMemory(sigkilled: true))  // no limit: no OOM reason
    }

    @Test("a subtree removed under the agent is made again for the next task")
    func recreatesSubtree() throws {
        let (root, mounts) = try Self.fakeV1()
        defer { try? FileManager.default.removeItem(atPath: root) }
        var tree = try CgroupTree.locate(mode: .v1, mounts: mounts, parent: "sched", node: "n").get()
        _ = tree.prepare()
        try FileManager.default.removeItem(atPath: root + "/cpuset/sched")
        let (cg, _) = try tree.createTask(named: "2.0", limits: TaskLimits(cpus: CPUSet([1]), mems: NUMASet([0]), memoryBytes: 0, pidsMax: 0, gpus: nil))
        #expect(Self.text(root + "/cpuset/sched/n/cpuset.cpus") == "0-7\n")
        #expect(Self.text(cg.dirs["cpuset"]! + "/cpuset.cpus") == "1\n")
    }

    @Test("OOM evidence: oom_kill where the kernel counts it, else the limit hit and SIGKILL")
    func memoryEvents() throws {
        let dir = NSTemporaryDirectory() + "cgoom-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let v1 = TaskCgroup(version: .v1, dirs: ["memory": dir], memoryLimitBytes: 1 << 20)
        try "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n".write(toFile: dir + "/memory.oom_control", atomically: true, encoding: .utf8)
        try "12\n".write(toFile: dir + "/memory.failcnt", atomically: true, encoding: .utf8)
        #expect(v1.memoryEvents() == .init(oomKills: 1, limitHits: 12))
        #expect(v1.ranOutOfMemory(sigkilled: false))
        try "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n".write(toFile: dir + "/memory.oom_control", atomically: true, encoding: .utf8)
        #expect(!v1.ranOutOfMemory(sigkilled: true))  // limit hit (reclaim) but nothing killed
        try "oom_kill_disable 0\nunder_oom 0\n".write(toFile: dir + "/memory.oom_control", atomically: true, encoding: .utf8)
        #expect(v1.ranOutOfMemory(sigkilled: true))  // a kernel before 4.13: the limit hit and SIGKILL
        #expect(!v1.ranOutOfMemory(sigkilled: false))
        let v2 = TaskCgroup(version: .v2, dirs: ["unified": dir], memoryLimitBytes: 1 << 20)
        try "low 0\nhigh 0\nmax 40\noom 1\noom_kill 1\noom_group_kill 0\n".write(toFile: dir + "/memory.events", atomically: true, encoding: .utf8)
        #expect(v2.ranOutOfMemory(sigkilled: false))
    }

    @Test("v2: the controllers are handed down level by level; a task gets cpuset, memory.max, no swap, pids.max")
    func createsV2Task() throws {
        let root = NSTemporaryDirectory() + "cgv2-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: root + "/system.slice/agent.service", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "cpuset cpu io memory pids\n".write(toFile: root + "/system.slice/agent.service/cgroup.controllers", atomically: true, encoding: .utf8)
        let mounts = CgroupMounts(v2: .init(mountPoint: root), ownV2: "/system.slice/agent.service")
        var tree = try CgroupTree.locate(mode: .auto, mounts: mounts, parent: "sched", node: "n1").get()
        #expect(tree.version == .v2 && tree.controllers == [.cpuset, .memory, .pids])
        #expect(tree.directories == [root + "/system.slice/agent.service/sched/n1"])
        #expect(tree.prepare().isEmpty)
        for level in ["", "/sched"] {
            #expect(Self.text(root + "/system.slice/agent.service" + level + "/cgroup.subtree_control") == "+cpuset +memory +pids\n")
        }
        let node = root + "/system.slice/agent.service/sched/n1"
        #expect(!FileManager.default.fileExists(atPath: node + "/cgroup.subtree_control"))  // tasks are leaves
        let (cg, _) = try tree.createTask(named: "5.0", limits: TaskLimits(cpus: CPUSet([4, 5]), mems: NUMASet([0]), memoryBytes: 1 << 30,
                                                                          pidsMax: 512, gpus: nil))
        #expect(cg.dirs == ["unified": node + "/5.0"])
        #expect(Self.text(node + "/5.0/cpuset.cpus") == "4-5\n" && Self.text(node + "/5.0/cpuset.mems") == "0\n")
        #expect(Self.text(node + "/5.0/memory.max") == "\(1 << 30)\n")
        #expect(Self.text(node + "/5.0/pids.max") == "512\n")
    }

    @Test("GPU device rules: the task's GPUs and nvidiactl allowed, every other minor of 195 denied, other majors left alone")
    func gpuRules() {
        let rules = GPUDeviceRules.rules(allowedGPUs: [3, 1, 3])
        #expect(rules == [.init(type: .char, major: 195, minor: 255, allow: true), .init(type: .char, major: 195, minor: 1, allow: true),
                          .init(type: .char, major: 195, minor: 3, allow: true), .init(type: .char, major: 195, minor: nil, allow: false)])
        let none = GPUDeviceRules.v1DenyEntries(allowedGPUs: [])
        #expect(none.count == 255 && none.last == "c 195:254 rwm")
    }
}
