#if canImport(Glibc)
import Glibc
#endif

/// One task's cgroup: its directory in each hierarchy (recorded in the task's `task.json`, so an
/// agent restarted after a crash finds it again), and what the agent does with it: place the
/// task's shim there before it execs the command (`join`, in the exec helper), kill everything in
/// it, tell whether the kernel's OOM killer struck, remove it.
public struct TaskCgroup: Codable, Sendable, Hashable {
    public var version: CgroupVersion
    /// The task's directory in each hierarchy: by controller name on v1, `unified` on v2.
    public var dirs: [String: String]
    /// The memory limit it was created with; nil: none.
    public var memoryLimitBytes: Int64?

    static let unifiedKey = "unified"

    public init(version: CgroupVersion, dirs: [String: String], memoryLimitBytes: Int64?) {
        self.version = version
        self.dirs = dirs
        self.memoryLimitBytes = memoryLimitBytes
    }

    /// The distinct directories a process joins (one per v1 hierarchy; one on v2).
    public var joinDirectories: [String] { Array(Set(dirs.values)).sorted() }

    /// Moves process `pid` (0: the caller) into every directory of `dirs` (`cgroup.procs`).
    public static func join(_ dirs: [String], pid: Int32 = 0) throws(CgroupError) {
        let who = pid == 0 ? getpid() : pid
        for dir in dirs { try CgroupFile.write("\(who)", to: dir + "/cgroup.procs") }
    }

    /// Every process in the cgroup (any of its hierarchies).
    public func processes() -> [Int32] {
        var pids = Set<Int32>()
        for dir in joinDirectories {
            for line in (CgroupFile.read(dir + "/cgroup.procs") ?? "").split(separator: "\n") {
                if let p = Int32(line.trimmed), p > 0 { pids.insert(p) }
            }
        }
        return pids.sorted()
    }

    /// Sends SIGKILL to every process in the cgroup, those that left the task's process group
    /// included: v2's `cgroup.kill` (the kernel kills them all, forks in progress too), else one
    /// sweep over `cgroup.procs` (call again until `processes()` is empty: a process forked
    /// during the sweep is killed by the next one). Returns how many were signalled (v2: -1).
    @discardableResult
    public func killAll() -> Int {
        if version == .v2, let d = dirs[Self.unifiedKey], (try? CgroupFile.write("1", to: d + "/cgroup.kill")) != nil {
            return -1
        }
        var n = 0
        for pid in processes() where Glibc.kill(pid, SIGKILL) == 0 { n += 1 }
        return n
    }

    /// What the memory controller saw: how many processes its OOM killer killed here
    /// (`oom_kill` of v2's `memory.events`, of v1's `memory.oom_control` since Linux 4.13), and
    /// how often the limit was hit (v1's `memory.failcnt`, for older kernels). nil when unknown.
    public struct MemoryEvents: Sendable, Hashable {
        public var oomKills: Int64?
        public var limitHits: Int64?
    }

    public func memoryEvents() -> MemoryEvents? {
        switch version {
        case .v2:
            guard let d = dirs[Self.unifiedKey], CgroupFile.exists(d + "/memory.events") else { return nil }
            return MemoryEvents(oomKills: CgroupFile.keyedValue(d + "/memory.events", "oom_kill"), limitHits: nil)
        case .v1:
            guard let d = dirs[CgroupController.memory.rawValue] else { return nil }
            return MemoryEvents(oomKills: CgroupFile.keyedValue(d + "/memory.oom_control", "oom_kill"),
                                limitHits: CgroupFile.value(d + "/memory.failcnt").flatMap { Int64($0) })
        }
    }

    /// Whether a task that ended `killedOrFailed` (not exit 0) ran out of memory: the OOM killer
    /// struck in its cgroup or, where the kernel does not count that (v1 before 4.13), the limit
    /// was hit and the task died of SIGKILL (`sigkilled`).
    public func ranOutOfMemory(sigkilled: Bool) -> Bool {
        guard memoryLimitBytes != nil, let e = memoryEvents() else { return false }
        if let kills = e.oomKills { return kills > 0 }
        return sigkilled && (e.limitHits ?? 0) > 0
    }

    /// Removes the cgroup's directories; fails (EBUSY) while a process is still in one.
    public func remove() throws(CgroupError) {
        var first: CgroupError?
        for dir in joinDirectories where CgroupFile.exists(dir) {
            do throws(CgroupError) { try CgroupFile.removeDirectory(dir) } catch { first = first ?? error }
        }
        if let first { throw first }
    }

    /// True once none of its directories is left.
    public var isRemoved: Bool { !joinDirectories.contains { CgroupFile.exists($0) } }
}
