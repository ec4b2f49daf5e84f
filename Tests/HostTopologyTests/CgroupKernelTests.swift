import Foundation
@testable import HostTopology
import SchedCore
import Testing

/// The same calls against the kernel's cgroup filesystems. They need root and writable
/// hierarchies (CI runs as root on hosts like this one: cgroup v1 controllers beside an empty
/// unified hierarchy); elsewhere they are skipped, saying so.
@Suite("Cgroups (kernel)", .serialized)
struct CgroupKernelTests {
    static let mounts = CgroupMounts.current()
    static var isRoot: Bool { geteuid() == 0 }
    static var v1Writable: Bool { isRoot && mounts.v1[.memory].map { access($0.mountPoint, W_OK) == 0 } == true }
    /// A cgroup2 mount (this host's unified hierarchy, or /sys/fs/cgroup itself) root may write.
    static var v2Writable: Bool { isRoot && mounts.v2.map { access($0.mountPoint, W_OK) == 0 } == true }

    /// A process that sleeps until killed.
    static func sleeper() throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sleep")
        p.arguments = ["300"]
        try p.run()
        return p
    }

    static func sh(_ script: String) throws -> (status: Int32, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", script]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    @Test("v1: a process joined to a task's cgroup is in every hierarchy, held to its cpuset, and killAll ends it",
          .enabled(if: v1Writable, "needs root and writable cgroup v1 hierarchies"))
    func v1Task() throws {
        var tree = try CgroupTree.locate(mode: .v1, mounts: Self.mounts, parent: "sched-test-" + UUID().uuidString.prefix(8), node: "n").get()
        #expect(tree.prepare().isEmpty)
        defer { tree.removeNodeDirectories() }
        let cpu = try #require(Array(CPUAffinity.current()).first)
        let (cg, _) = try tree.createTask(named: "1.0", limits: TaskLimits(cpus: CPUSet([cpu]), mems: NUMASet(), memoryBytes: 64 << 20,
                                                                          pidsMax: 8, gpus: [0]))
        let p = try Self.sleeper()
        try TaskCgroup.join(cg.joinDirectories, pid: p.processIdentifier)
        #expect(cg.processes() == [p.processIdentifier])
        let membership = try String(contentsOfFile: "/proc/\(p.processIdentifier)/cgroup", encoding: .utf8)
        for c in tree.controllers { #expect(membership.contains(":\(c.rawValue):") && membership.contains("/n/1.0\n"), "\(c)") }
        #expect(CgroupFile.value(cg.dirs["cpuset"]! + "/cpuset.effective_cpus") == "\(cpu)")
        #expect(CgroupFile.value(cg.dirs["memory"]! + "/memory.limit_in_bytes") == "\(64 << 20)")
        #expect(CgroupFile.value(cg.dirs["pids"]! + "/pids.max") == "8")
        // A cgroup that allows everything lists only "a *:* rwm", not its exceptions; the denied
        // GPUs are checked by opening them (IntegrationTests).
        #expect(CgroupFile.value(cg.dirs["devices"]! + "/devices.list") == "a *:* rwm")
        #expect(throws: CgroupError.self) { try cg.remove() }  // busy while the process is in it
        #expect(cg.killAll() == 1)
        p.waitUntilExit()
        #expect(p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGKILL)
        #expect(cg.processes().isEmpty)
        try cg.remove()
        #expect(cg.isRemoved && tree.taskNames().isEmpty)
    }

    @Test("v2: the eBPF device filter denies what its rules deny, to every process of the cgroup; cgroup.kill ends them",
          .enabled(if: v2Writable, "needs root and a writable cgroup2 mount"))
    func v2DeviceFilterAndKill() throws {
        var tree = try CgroupTree.locate(mode: .v2, mounts: Self.mounts, parent: "sched-test-" + UUID().uuidString.prefix(8), node: "n").get()
        #expect(tree.prepare().isEmpty)
        defer { tree.removeNodeDirectories() }
        let (cg, warnings) = try tree.createTask(named: "1.0", limits: TaskLimits(cpus: CPUSet(), mems: NUMASet(), memoryBytes: 0,
                                                                                 pidsMax: 0, gpus: nil))
        #expect(warnings.isEmpty)
        let dir = try #require(cg.dirs["unified"])
        // /dev/null (1:3) allowed, the rest of major 1 (/dev/zero is 1:5) denied, other majors untouched.
        try DeviceFilter.attach([.init(type: .char, major: 1, minor: 3, allow: true), .init(type: .char, major: 1, minor: nil, allow: false)],
                                to: dir)
        #expect(DeviceFilter.attachedCount(dir) == 1)
        let zero = try Self.sh("echo $$ > \(dir)/cgroup.procs && exec head -c 1 /dev/zero")
        #expect(zero.status != 0 && zero.stderr.contains("Operation not permitted"), "\(zero)")
        let null = try Self.sh("echo $$ > \(dir)/cgroup.procs && exec head -c 1 /dev/null")
        #expect(null.status == 0, "\(null)")
        let p = try Self.sleeper()
        try TaskCgroup.join([dir], pid: p.processIdentifier)
        #expect(cg.killAll() == -1)  // cgroup.kill
        p.waitUntilExit()
        #expect(p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGKILL)
        try cg.remove()
    }
}
