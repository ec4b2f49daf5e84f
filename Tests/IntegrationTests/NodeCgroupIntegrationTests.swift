import Foundation
import SchedCore
import SchedProtocol
import Testing
import SchedIntegrationSupport

/// Task cgroups on a real agent: limits, membership, killing what left the process group, OOM
/// reasons, crash recovery. They need root and a writable cgroup hierarchy, as CI has (cgroup v1
/// here: cpuset, memory, pids, devices); elsewhere they are skipped, saying so.
enum CgroupHost {
    static let isRoot = geteuid() == 0
    /// /sys/fs/cgroup is cgroup2 (with its controllers), else the v1 hierarchies.
    static let unified = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")
    static let writable = isRoot && (unified ? access("/sys/fs/cgroup/cgroup.subtree_control", W_OK) == 0
                                             : access("/sys/fs/cgroup/memory", W_OK) == 0 && access("/sys/fs/cgroup/pids", W_OK) == 0)
    static let reason = "needs root and writable cgroups"

    /// The directory holding `file` (`cpuset.cpus`, `memory.limit_in_bytes`, ...) of the cgroup a
    /// process reported in its `/proc/self/cgroup` text.
    static func directory(for file: String, procCgroup: String) -> String? {
        let controller = String(file.prefix { $0 != "." })
        for line in procCgroup.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if unified, parts[0] == "0" { return "/sys/fs/cgroup" + parts[2] }
            if !unified, parts[1].split(separator: ",").contains(Substring(controller)) { return "/sys/fs/cgroup/\(controller)" + parts[2] }
        }
        return nil
    }

    static func value(_ path: String) -> String {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whether process `pid` is gone (or a zombie: dead, not yet reaped by its new parent).
    static func isDead(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(close, offsetBy: 2)] == "Z"
    }

    /// schedd and one agent on this host.
    static func cluster(agentArgs: [String] = []) async throws -> TestCluster {
        let c = try TestCluster()
        try await c.startSchedd()
        try c.startAgent("host", extra: agentArgs)
        try await c.waitForNodes(["host"], status: .ready)
        return c
    }
}

extension Integration {
@Suite(.serialized, .enabled(if: CgroupHost.writable, "\(CgroupHost.reason)"))
struct NodeCgroupIntegrationTests {
    static let MiB: Int64 = 1 << 20

    @Test("a task that allocates more than its memory is OOM-killed and its job fails with 'out of memory (limit N bytes)'")
    func outOfMemory() async throws {
        let c = try await CgroupHost.cluster()
        defer { c.shutdown() }
        // tail keeps an unterminated line whole: 512 MiB against a 32 MiB limit (no swap past it).
        let id = try await c.submit(JobSpec(command: ["sh", "-c", "head -c 512M /dev/zero | tail > /dev/null"],
                                            resources: ResourceRequest(cpus: 1, memoryBytes: 32 * Self.MiB)))
        let j = try await c.waitTerminal(id)
        #expect(j.state == .failed)
        #expect(j.exit?.error == "out of memory (limit \(32 * Self.MiB) bytes)")
        #expect(j.reason == "out of memory (limit \(32 * Self.MiB) bytes)")
        // Within its limit the same pipeline succeeds: the reason is the limit, not the command.
        let fits = try await c.submit(JobSpec(command: ["sh", "-c", "head -c 4M /dev/zero | tail > /dev/null"],
                                              resources: ResourceRequest(cpus: 1, memoryBytes: 64 * Self.MiB)))
        #expect(try await c.waitTerminal(fits).state == .completed)
    }

    @Test("a task's processes are in its cgroup: cpuset of its PUs only, its memory limit, pids.max; the cgroup goes when it ends")
    func taskCgroup() async throws {
        let c = try await CgroupHost.cluster(agentArgs: ["--task-pids-max", "200"])
        defer { c.shutdown() }
        let release = c.dir + "/release"
        let id = try await c.submit(JobSpec(command: ["sh", "-c", "sleep 300 & echo $!; cat /proc/self/cgroup; while [ ! -e \(release) ]; do sleep 0.05; done"],
                                            resources: ResourceRequest(cpus: 1, memoryBytes: 48 * Self.MiB)))
        let j = try await c.waitForState(id, .running)
        let stdout = try #require(j.stdoutPath)
        let out = try await eventually("the task's cgroups printed") { c.read(stdout).contains("memory") ? c.read(stdout) : nil }
        let child = try #require(Int32(out.split(separator: "\n")[0]))
        let procCgroup = out.split(separator: "\n").dropFirst().joined(separator: "\n")
        let cpuset = try #require(CgroupHost.directory(for: "cpuset.cpus", procCgroup: procCgroup))
        let memory = try #require(CgroupHost.directory(for: "memory.max", procCgroup: procCgroup))
        let pids = try #require(CgroupHost.directory(for: "pids.max", procCgroup: procCgroup))
        #expect(cpuset.hasSuffix("/\(c.cgroupParent)/host/\(id).0"))
        let binding = try #require(j.hostBinding)
        #expect(CPUSet(listFormat: CgroupHost.value(cpuset + "/cpuset.cpus")) == binding.cpus)
        #expect(CPUSet(listFormat: CgroupHost.value(cpuset + (CgroupHost.unified ? "/cpuset.cpus.effective" : "/cpuset.effective_cpus"))) == binding.cpus)
        #expect(CgroupHost.value(memory + (CgroupHost.unified ? "/memory.max" : "/memory.limit_in_bytes")) == "\(48 * Self.MiB)")
        #expect(CgroupHost.value(pids + "/pids.max") == "200")
        // The shim (the task's pid), the shell and its child are all in it.
        let members = Set(CgroupHost.value(pids + "/cgroup.procs").split(separator: "\n").compactMap { Int32($0) })
        #expect(members.isSuperset(of: [try #require(j.pid), child]) && members.count >= 3, "\(members)")
        _ = FileManager.default.createFile(atPath: release, contents: nil)
        #expect(try await c.waitTerminal(id).state == .completed)
        // The shell's child outlived it: it goes with the task, and so does the cgroup.
        _ = try await eventually("the task's cgroup removed") { FileManager.default.fileExists(atPath: pids) ? nil : true }
        #expect(CgroupHost.isDead(child))
    }

    @Test("cancelling a task kills a child that left its process group (setsid), at once, not after the grace period")
    func escapedChildDies() async throws {
        let c = try await CgroupHost.cluster()
        defer { c.shutdown() }
        let id = try await c.submit(JobSpec(command: ["sh", "-c", "setsid sleep 300 & echo $!; wait"], killGraceSeconds: 60))
        let j = try await c.waitForState(id, .running)
        let stdout = try #require(j.stdoutPath)
        let escaped = try await eventually("the escaped child's pid") { Int32(c.read(stdout).trimmingCharacters(in: .whitespacesAndNewlines)) }
        // A session (and group) of its own: a signal to the task's group misses it. `$!` is known
        // as soon as the shell forked, before the child ran setsid(): wait for it to have.
        _ = try await eventually("the escaped child in a session of its own") { () -> Bool? in
            let stat = (try? String(contentsOfFile: "/proc/\(escaped)/stat", encoding: .utf8)) ?? ""
            let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
            return fields.count > 4 && fields[3] == "\(escaped)" ? true : nil
        }
        let asked = ContinuousClock.now
        _ = try await c.request(.cancel(JobRequest(job: id)))
        let done = try await c.waitTerminal(id)
        #expect(done.state == .cancelled && done.exit?.signal == SIGTERM)
        _ = try await eventually("the escaped child killed", timeout: .seconds(10)) { CgroupHost.isDead(escaped) ? true : nil }
        #expect(ContinuousClock.now - asked < .seconds(30))  // the grace period was 60 s
    }

    @Test("pids.max bounds a fork loop: forks fail past the limit, and the forked children die with the task")
    func pidsMaxBoundsForks() async throws {
        let c = try await CgroupHost.cluster(agentArgs: ["--task-pids-max", "16"])
        defer { c.shutdown() }
        let script = """
            import os, time
            children = []
            for i in range(200):
                try:
                    pid = os.fork()
                except OSError as e:
                    print("refused", e.errno)
                    break
                if pid == 0:
                    time.sleep(300)
                    os._exit(0)
                children.append(pid)
            print("forked", len(children), " ".join(map(str, children)))
            """
        let id = try await c.submit(JobSpec(command: ["/usr/bin/python3", "-c", script]))
        let j = try await c.waitTerminal(id)
        #expect(j.state == .completed)
        let lines = c.read(try #require(j.stdoutPath)).split(separator: "\n")
        #expect(lines.first == "refused \(EAGAIN)", "\(lines)")
        let forked = try #require(lines.last?.split(separator: " "))
        let n = try #require(Int(forked[1]))
        #expect(n >= 1 && n < 16, "\(n) forks under pids.max 16")  // the shim and python count too
        for pid in forked.dropFirst(2).compactMap({ Int32($0) }) {
            _ = try await eventually("forked child \(pid) killed") { CgroupHost.isDead(pid) ? true : nil }
        }
    }

    @Test("GPU devices: a task opens its own GPUs and nvidiactl; the node's other GPUs are denied")
    func gpuDevices() async throws {
        try await Self.gpuDevices(agentArgs: [])
    }

    /// A cgroup2 mount root may write beside the v1 hierarchies (a hybrid host such as CI's, its
    /// "unified" hierarchy without controllers): enough for the v2 path's membership,
    /// `cgroup.kill` and eBPF device filter, not for its cpuset, memory and pids files.
    static let hybridV2 = !CgroupHost.unified && CgroupHost.isRoot && access("/sys/fs/cgroup/unified/cgroup.procs", W_OK) == 0

    @Test("cgroup v2 path (the hybrid host's unified hierarchy): the eBPF device filter denies the other GPUs",
          .enabled(if: hybridV2, "needs a writable cgroup2 mount beside the v1 hierarchies"))
    func gpuDevicesV2() async throws {
        try await Self.gpuDevices(agentArgs: ["--cgroups", "v2"])
    }

    @Test("cgroup v2 path (the hybrid host's unified hierarchy): cgroup.kill ends a child that left the task's process group",
          .enabled(if: hybridV2, "needs a writable cgroup2 mount beside the v1 hierarchies"))
    func escapedChildDiesV2() async throws {
        let c = try await CgroupHost.cluster(agentArgs: ["--cgroups", "v2"])
        defer { c.shutdown() }
        #expect(c.agentLog("host").contains("cgroup.version=v2"))
        let id = try await c.submit(JobSpec(command: ["sh", "-c", "setsid sleep 300 & echo $!; cat /proc/self/cgroup; wait"], killGraceSeconds: 60))
        let j = try await c.waitForState(id, .running)
        let stdout = try #require(j.stdoutPath)
        let out = try await eventually("the escaped child's pid") { c.read(stdout).contains("0::") ? c.read(stdout) : nil }
        let escaped = try #require(Int32(out.split(separator: "\n")[0]))
        #expect(out.contains("0::/\(c.cgroupParent)/host/\(id).0\n"))
        _ = try await c.request(.cancel(JobRequest(job: id)))
        #expect(try await c.waitTerminal(id).state == .cancelled)
        _ = try await eventually("the escaped child killed", timeout: .seconds(10)) { CgroupHost.isDead(escaped) ? true : nil }
        _ = try await eventually("the task's cgroup removed") {
            FileManager.default.fileExists(atPath: "/sys/fs/cgroup/unified/\(c.cgroupParent)/host/\(id).0") ? nil : true
        }
    }

    static func gpuDevices(agentArgs: [String]) async throws {
        let c = try TestCluster()
        defer { c.shutdown() }
        try await c.startSchedd()
        try c.startAgent("dgx2", xml: "nvidiaDGX2.xml", extra: agentArgs)
        try await c.waitForNodes(["dgx2"], status: .ready)
        // Device nodes of NVIDIA's numbers (no driver here: an allowed open fails with ENXIO,
        // a denied one with EPERM, the cgroup's answer before the driver's).
        let dev = c.dir + "/dev"
        try FileManager.default.createDirectory(atPath: dev, withIntermediateDirectories: true)
        for minor in Array(0..<16) + [254, 255] {
            #expect(mknod(dev + "/nvidia\(minor)", S_IFCHR | 0o666, dev_t((195 << 8) | minor)) == 0)
            chmod(dev + "/nvidia\(minor)", 0o666)
        }
        let probe = "for m in $(seq 0 15) 254 255; do if cat \(dev)/nvidia$m 2>&1 | grep -q 'not permitted'; then echo \"$m denied\"; else echo \"$m open\"; fi; done"
        let id = try await c.submit(JobSpec(command: ["sh", "-c", probe], resources: ResourceRequest(cpus: 1, gpus: 2)))
        let j = try await c.waitTerminal(id)
        #expect(j.state == .completed)
        let gpus = try #require(j.assignment?.gpus)
        #expect(gpus.count == 2)
        let opened = Set(c.read(try #require(j.stdoutPath)).split(separator: "\n").filter { $0.hasSuffix(" open") }.compactMap { Int($0.split(separator: " ")[0]) })
        #expect(opened == Set(gpus + [255]))
    }

    @Test("an agent killed with -9: the next one reports the OOM of a task that ended meanwhile, then removes stale cgroups and what runs in them")
    func recoveryReadsCgroupsThenCleansUp() async throws {
        let c = try await CgroupHost.cluster()
        defer { c.shutdown() }
        let go = c.dir + "/go"
        let id = try await c.submit(JobSpec(command: ["sh", "-c", "while [ ! -e \(go) ]; do sleep 0.05; done; head -c 512M /dev/zero | tail > /dev/null"],
                                            resources: ResourceRequest(cpus: 1, memoryBytes: 32 * Self.MiB)))
        _ = try await c.waitForState(id, .running)
        let agent = try #require(c.agents["host"])
        kill(agent.processIdentifier, SIGKILL)
        agent.waitUntilExit()
        _ = FileManager.default.createFile(atPath: go, contents: nil)
        let exitFile = c.dir + "/agent-host/tasks/\(id).0/exit"
        _ = try await eventually("the shim records the exit") { c.read(exitFile).isEmpty ? nil : true }
        // A stale cgroup no task.json names, with a process in it.
        let own = c.read("/proc/self/cgroup")
        let pidsRoot = try #require(CgroupHost.directory(for: "pids.max", procCgroup: own))
        let stale = pidsRoot + "/\(c.cgroupParent)/host/999.0"
        try FileManager.default.createDirectory(atPath: stale, withIntermediateDirectories: true)
        let orphan = Process()
        orphan.executableURL = URL(fileURLWithPath: "/bin/sleep")
        orphan.arguments = ["300"]
        try orphan.run()
        try "\(orphan.processIdentifier)".write(toFile: stale + "/cgroup.procs", atomically: false, encoding: .utf8)
        try c.startAgent("host")
        let j = try await c.waitTerminal(id)
        #expect(j.state == .failed && j.exit?.error == "out of memory (limit \(32 * Self.MiB) bytes)", "\(String(describing: j.exit))")
        orphan.waitUntilExit()
        #expect(orphan.terminationReason == .uncaughtSignal && orphan.terminationStatus == SIGKILL)
        _ = try await eventually("the stale cgroup removed") { FileManager.default.fileExists(atPath: stale) ? nil : true }
        #expect(c.agentLog("host").contains("removing cgroups no running task holds"))
    }
}
}
