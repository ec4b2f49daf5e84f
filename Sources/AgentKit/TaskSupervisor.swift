import Foundation
import HostTopology
import Logging
import SchedCore
import SchedProtocol

/// Starts, watches and stops the node's task processes, and remembers every task until schedd
/// has acknowledged its exit, so a reconnecting agent can report all of them.
public actor TaskSupervisor {
    struct Entry {
        var start: StartTask
        var binding: HostBinding
        var pid: Int32?
        var exit: TaskExit?
        var stdoutPath: String
        var stderrPath: String
        var killTimer: Task<Void, Never>?
        /// This agent sent the task's group SIGKILL.
        var forceKilled = false
        /// The task's cgroup, while it has one.
        var cgroup: TaskCgroup?
    }

    let config: AgentConfig
    let topology: NodeTopology
    let mapping: HostPUMapping?
    let logger: Logger
    var entries: [TaskRef: Entry] = [:]
    /// The current session's feed of exits as they happen (one session at a time).
    var exitSubscriber: AsyncStream<TaskExited>.Continuation?
    /// Resumed when the last running task ends during shutdown.
    var allEnded: CheckedContinuation<Void, Never>?
    /// What this supervisor did (tasks started, refused for overlapping resources).
    public internal(set) var stats = SupervisorStats()
    /// Users and cgroups (`setUpIsolation`); until then tasks switch users but get no cgroup.
    var isolation: NodeIsolation
    /// Cgroups of ended tasks being emptied and removed, by name.
    var cgroupRemovals: [String: Task<Void, Never>] = [:]
    /// A cgroup warning already logged (the same one would repeat for every task).
    var warned: Set<String> = []

    /// - Parameter mapping: how the node's PUs map onto this host's; nil when the node is this host.
    public init(config: AgentConfig, topology: NodeTopology, mapping: HostPUMapping?, logger: Logger) {
        self.config = config
        self.topology = topology
        self.mapping = mapping
        self.logger = logger
        self.isolation = .none(agentUID: UnixUser.effectiveUID)
    }

    /// Finds and creates the node's cgroup subtree and logs how tasks are isolated
    /// (`NodeIsolation`). Nothing to do with `--no-exec`, whose tasks have no process.
    public func setUpIsolation() {
        guard !config.noExec else { return }
        isolation = NodeIsolation.setUp(config: config, topology: topology, logger: logger)
    }

    /// Removes the cgroups under the node's subtree that no running task holds: those of tasks
    /// that ended while no agent ran (after `recover` read what it needed from them) and of
    /// tasks no agent knows any more. Whatever still runs in them is killed.
    public func cleanUpStaleCgroups() {
        guard let tree = isolation.cgroups else { return }
        let live = Set(entries.values.filter { $0.exit == nil }.compactMap(\.cgroup).flatMap(\.joinDirectories))
        var stale = 0
        for name in tree.taskNames() {
            let cg = tree.task(named: name)
            guard live.isDisjoint(with: cg.joinDirectories), cgroupRemovals[name] == nil else { continue }
            stale += 1
            removeCgroup(cg, name: name)
        }
        if stale > 0 { logger.notice("removing cgroups no running task holds", metadata: ["cgroups": "\(stale)"]) }
    }

    /// Waits until the cgroups of ended tasks are removed, then removes the node's subtree where
    /// empty (agent shutdown, after its tasks were stopped).
    public func removeCgroupSubtree() async {
        while let (name, removal) = cgroupRemovals.first {
            await removal.value
            if cgroupRemovals[name] == removal { cgroupRemovals[name] = nil }
        }
        isolation.cgroups?.removeNodeDirectories()
    }

    /// Kills what is left in an ended task's cgroup, waits for it to empty and removes it
    /// (SIGKILL reaches a process at once, but it leaves the cgroup only once it has died).
    func removeCgroup(_ cg: TaskCgroup, name: String) {
        let logger = logger
        let removal = Task.detached {
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                cg.killAll()
                if cg.processes().isEmpty, (try? cg.remove()) != nil || cg.isRemoved { return }
                try? await Task.sleep(for: .milliseconds(10))
            }
            logger.error("cannot remove a task's cgroup; a process in it does not die",
                         metadata: ["cgroup": "\(cg.joinDirectories.joined(separator: " "))", "pids": "\(cg.processes())"])
        }
        cgroupRemovals[name] = removal
        Task { [weak self] in
            await removal.value
            await self?.removalFinished(name, removal)
        }
    }

    private func removalFinished(_ name: String, _ removal: Task<Void, Never>) {
        if cgroupRemovals[name] == removal { cgroupRemovals[name] = nil }
    }

    /// A new feed of exits for a new connection; replaces (and ends) the previous one. Exits
    /// that happen while no connection listens are still reported by `reports()`.
    public func subscribeExits() -> AsyncStream<TaskExited> {
        exitSubscriber?.finish()
        let (stream, continuation) = AsyncStream<TaskExited>.makeStream()
        exitSubscriber = continuation
        return stream
    }

    private func publish(_ e: TaskExited) { exitSubscriber?.yield(e) }

    /// Every known task: running ones and ended ones not yet acknowledged.
    public func reports() -> [TaskReport] {
        entries.map { TaskReport(ref: $0.key, pid: $0.value.pid, binding: $0.value.binding, exit: $0.value.exit) }
            .sorted { $0.ref < $1.ref }
    }

    public var runningCount: Int { entries.values.filter { $0.exit == nil }.count }

    /// The binding a task gets on this host.
    func hostBinding(for a: Assignment) -> HostBinding {
        guard let mapping else { return HostBinding(cpus: a.pus, numaNodes: a.numaNodes) }
        return HostBinding(cpus: mapping.hostCPUs(for: a.pus), numaNodes: mapping.hostNUMA(for: a.numaNodes))
    }

    /// Starts a task; a task already known is not started again (its current state is returned).
    public func start(_ s: StartTask) -> Message {
        if let e = entries[s.ref] {
            if let exit = e.exit { return .taskExited(TaskExited(ref: s.ref, exit: exit)) }
            return .taskStarted(TaskStarted(ref: s.ref, pid: e.pid ?? 0, binding: e.binding, stdoutPath: e.stdoutPath, stderrPath: e.stderrPath))
        }
        if let problem = validate(s.assignment) {
            let exit = TaskExit(error: "refused: \(problem)")
            entries[s.ref] = Entry(start: s, binding: HostBinding(cpus: CPUSet(), numaNodes: NUMASet()), exit: exit,
                                   stdoutPath: "", stderrPath: "")
            stats.refusedInvalid += 1
            logger.error("task refused", metadata: ["job.id": "\(s.ref.job)", "reason": "\(problem)"])
            return .taskExited(TaskExited(ref: s.ref, exit: exit))
        }
        var binding = hostBinding(for: s.assignment)
        if config.noExec { return startHeld(s, binding: binding) }
        let user: TaskUser
        switch TaskUser.resolve(requested: s.user, agentUID: isolation.agentUID, node: config.nodeName, lookup: UnixUser.named) {
        case .success(let u): user = u
        case .failure(let unknown):
            let exit = TaskExit(error: unknown.description)
            entries[s.ref] = Entry(start: s, binding: HostBinding(cpus: CPUSet(), numaNodes: NUMASet()), exit: exit,
                                   stdoutPath: "", stderrPath: "")
            stats.refusedInvalid += 1
            logger.error("task refused", metadata: ["job.id": "\(s.ref.job)", "reason": "\(unknown)"])
            return .taskExited(TaskExited(ref: s.ref, exit: exit))
        }
        binding.uid = user.uid
        let dir = taskDir(s.ref)
        var entry = Entry(start: s, binding: binding, stdoutPath: dir + "/stdout", stderrPath: dir + "/stderr")
        do {
            let (pid, cgroup) = try launch(s, binding: binding, user: user, dir: dir, entry: entry)
            entry.pid = pid
            entry.cgroup = cgroup
            entries[s.ref] = entry
            stats.started += 1
            logger.info("task started", metadata: ["job.id": "\(s.ref.job)", "pid": "\(pid)", "host.cpus": "\(binding.cpus)",
                                                   "host.numa": "\(binding.numaNodes)", "gpus": "\(s.assignment.gpus)",
                                                   "uid": "\(user.uid)", "cgroup": "\(cgroup == nil ? "none" : "yes")"])
            return .taskStarted(TaskStarted(ref: s.ref, pid: pid, binding: binding, stdoutPath: entry.stdoutPath, stderrPath: entry.stderrPath))
        } catch {
            let exit = TaskExit(error: "could not start: \(error)")
            entry.exit = exit
            entries[s.ref] = entry
            logger.error("task failed to start", metadata: ["job.id": "\(s.ref.job)", "error": "\(error)"])
            return .taskExited(TaskExited(ref: s.ref, exit: exit))
        }
    }

    /// Why an assignment cannot run on this node, or nil when it can.
    func validate(_ a: Assignment) -> String? {
        if a.node != config.nodeName { return "assignment is for node \(a.node), this is \(config.nodeName)" }
        if a.pus.isEmpty { return "no PUs assigned" }
        if !a.pus.isSubset(of: topology.allPUs) { return "PUs \(a.pus.subtracting(topology.allPUs)) do not exist on this node" }
        let numa = NUMASet(topology.numaNodes.map(\.id))
        if !a.numaNodes.isSubset(of: numa) { return "NUMA nodes \(a.numaNodes.subtracting(numa)) do not exist on this node" }
        if let g = a.gpus.first(where: { $0 < 0 || $0 >= topology.gpus.count }) { return "GPU \(g) does not exist on this node" }
        return nil
    }

    private func launch(_ s: StartTask, binding: HostBinding, user: TaskUser, dir: String,
                        entry: Entry) throws -> (pid: Int32, cgroup: TaskCgroup?) {
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // The agent's: the task's user may enter it (for its output and `work`), not change it,
        // so `task.json` and `exit` stay what the agent and the shim wrote.
        chmod(dir, 0o711)
        let owner: (uid: uid_t, gid: gid_t)? = { if case .switchTo(let u) = user { return (u.uid, u.gid) } else { return nil } }()
        let out = try Self.outputFile(entry.stdoutPath, owner: owner)
        let err = try Self.outputFile(entry.stderrPath, owner: owner)
        defer { try? out.close(); try? err.close() }
        var workdir = s.workdir
        if workdir == nil {
            // The default working directory: the task user's own, inside the task's directory.
            let work = dir + "/work"
            try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
            chmod(work, 0o700)
            if let owner, chown(work, owner.uid, owner.gid) != 0 { throw LaunchError("cannot give \(work) to uid \(owner.uid)") }
            workdir = work
        }
        let cgroup = try makeCgroup(s, binding: binding)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: config.agentExecutable)
        var args = [ExecHelper.verb, "--cpus", binding.cpus.description, "--mems", binding.numaNodes.description,
                    "--chdir", workdir!, "--exit-file", dir + "/" + TaskRecord.exitFileName]
        for d in cgroup?.joinDirectories ?? [] { args += ["--cgroup", d] }
        var env = ProcessInfo.processInfo.environment
        // The agent's credentials are not the task's (sched-agent also unsets it at start).
        env["SCHED_TOKEN"] = nil
        if case .switchTo(let u) = user {
            args += ["--user", u.name, "--uid", "\(u.uid)", "--gid", "\(u.gid)", "--groups", u.groups.map(String.init).joined(separator: ",")]
            env["USER"] = u.name
            env["LOGNAME"] = u.name
            env["HOME"] = u.home
            env["SHELL"] = u.shell
        }
        args += ["--"] + s.command
        p.arguments = args
        for (k, v) in TaskEnvironment.variables(for: s, node: config.nodeName, topology: topology, binding: binding) { env[k] = v }
        p.environment = env
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = out
        p.standardError = err
        let ref = s.ref
        p.terminationHandler = { [weak self] proc in
            let exit = proc.terminationReason == .uncaughtSignal
                ? TaskExit(signal: proc.terminationStatus) : TaskExit(exitCode: proc.terminationStatus)
            Task { await self?.processEnded(ref, exit: exit) }
        }
        try? fm.removeItem(atPath: dir + "/" + TaskRecord.exitFileName)
        do {
            try p.run()
        } catch {
            try? cgroup?.remove()
            throw error
        }
        let pid = p.processIdentifier
        let record = TaskRecord(start: s, binding: binding, pid: pid, startTicks: ProcessProbe.startTicks(pid),
                                stdoutPath: entry.stdoutPath, stderrPath: entry.stderrPath, cgroup: cgroup)
        do {
            try record.save(in: dir)
        } catch {
            // The task runs; only a restart after a crash would not find it.
            logger.error("cannot record task; a restarted agent will not find it", metadata: ["job.id": "\(s.ref.job)", "error": "\(error)"])
        }
        return (pid, cgroup)
    }

    /// A task's stdout or stderr: new, readable by its user (the owner) alone.
    static func outputFile(_ path: String, owner: (uid: uid_t, gid: gid_t)?) throws -> FileHandle {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LaunchError("cannot create \(path): \(String(cString: strerror(errno)))") }
        if let owner, fchown(fd, owner.uid, owner.gid) != 0 {
            let e = errno
            close(fd)
            throw LaunchError("cannot give \(path) to uid \(owner.uid): \(String(cString: strerror(e)))")
        }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    /// The task's cgroup with its limits, nil on a host without cgroups. A cgroup of the same
    /// name left by an earlier run of the task is emptied and removed first.
    private func makeCgroup(_ s: StartTask, binding: HostBinding) throws -> TaskCgroup? {
        guard let tree = isolation.cgroups else { return nil }
        let name = cgroupName(s.ref)
        let earlier = tree.task(named: name)
        if !earlier.isRemoved {
            earlier.killAll()
            guard (try? earlier.remove()) != nil || earlier.isRemoved else {
                throw LaunchError("the cgroup of an earlier run of this task is still being emptied: \(earlier.joinDirectories.joined(separator: " "))")
            }
        }
        let limits = TaskLimits(cpus: binding.cpus, mems: binding.numaNodes, memoryBytes: s.assignment.memoryBytes,
                                pidsMax: isolation.pidsMax, gpus: isolation.controlsGPUs ? s.assignment.gpus : nil)
        do {
            let (cgroup, warnings) = try tree.createTask(named: name, limits: limits)
            for w in warnings where warned.insert(w).inserted {
                logger.warning("task cgroups are missing a control (logged once)", metadata: ["problem": "\(w)"])
            }
            return cgroup
        } catch {
            throw LaunchError("cannot create the task's cgroup: \(error)")
        }
    }

    func cgroupName(_ ref: TaskRef) -> String { "\(ref.job).\(ref.task)" }

    func taskDir(_ ref: TaskRef) -> String { "\(config.workDir)/tasks/\(ref.job).\(ref.task)" }

    /// After a restart: the tasks a previous agent started and schedd has not acknowledged,
    /// from their `task.json`. A task whose shim still runs is watched again (stopping it works
    /// as before); one that ended meanwhile is reported with the exit its shim recorded.
    /// Returns how many were found, and how many of them still run.
    @discardableResult
    public func recover() -> (found: Int, running: Int) {
        guard !config.noExec else { return (0, 0) }
        let tasksDir = config.workDir + "/tasks"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: tasksDir)) ?? []
        var found = 0, running = 0
        for name in names.sorted() {
            let dir = tasksDir + "/" + name
            guard let r = TaskRecord.load(dir + "/" + TaskRecord.fileName), entries[r.start.ref] == nil else { continue }
            found += 1
            var entry = Entry(start: r.start, binding: r.binding, pid: r.pid, stdoutPath: r.stdoutPath, stderrPath: r.stderrPath)
            entry.cgroup = r.cgroup
            let exitFile = dir + "/" + TaskRecord.exitFileName
            if let exit = TaskExitFile.read(exitFile) {
                entry.exit = Self.withMemoryReason(exit, r.cgroup)
            } else if let recorded = r.startTicks, let ticks = ProcessProbe.startTicks(r.pid), ticks == recorded {
                running += 1
                watch(r.start.ref, pid: r.pid, ticks: ticks, exitFile: exitFile)
            } else {
                // The OOM killer may have taken the shim with the command: its cgroup knows.
                let oom = r.cgroup.map { $0.ranOutOfMemory(sigkilled: true) } ?? false
                entry.exit = TaskExit(error: oom ? Self.outOfMemory(r.cgroup!)
                                                 : "ended while sched-agent was down; its exit status was not recorded")
            }
            entries[r.start.ref] = entry
            logger.info("task recovered", metadata: ["job.id": "\(r.start.ref.job)", "pid": "\(r.pid)",
                                                     "state": "\(entry.exit == nil ? "running" : "ended")"])
        }
        return (found, running)
    }

    /// Watches a recovered task's shim, which is not this agent's child: its end is seen when the
    /// process is gone (or a zombie of its new parent), and its exit read from the exit file.
    private func watch(_ ref: TaskRef, pid: Int32, ticks: UInt64, exitFile: String) {
        Task { [weak self] in
            while ProcessProbe.startTicks(pid) == ticks, TaskExitFile.read(exitFile) == nil {
                try? await Task.sleep(for: .milliseconds(200))
            }
            await self?.recoveredTaskEnded(ref, exitFile: exitFile)
        }
    }

    /// The shim of a task this agent started ended: its status, with the reason its exit file
    /// may add (the command never ran as its user, or in its directory).
    func processEnded(_ ref: TaskRef, exit: TaskExit) {
        var exit = exit
        if exit.error == nil, let recorded = TaskExitFile.read(taskDir(ref) + "/" + TaskRecord.exitFileName) { exit.error = recorded.error }
        ended(ref, exit: exit)
    }

    /// `exit` with the reason `out of memory (limit N bytes)` when the task did not succeed and
    /// the kernel's OOM killer struck in its cgroup.
    static func withMemoryReason(_ exit: TaskExit, _ cgroup: TaskCgroup?) -> TaskExit {
        guard let cgroup, exit.error == nil, !exit.succeeded,
              cgroup.ranOutOfMemory(sigkilled: exit.signal == SIGKILL || exit.exitCode == 128 + SIGKILL) else { return exit }
        var e = exit
        e.error = outOfMemory(cgroup)
        return e
    }

    static func outOfMemory(_ cgroup: TaskCgroup) -> String {
        "out of memory (limit \(cgroup.memoryLimitBytes ?? 0) bytes)"
    }

    func ended(_ ref: TaskRef, exit: TaskExit) {
        guard var e = entries[ref], e.exit == nil else { return }
        let exit = Self.withMemoryReason(exit, e.cgroup)
        e.exit = exit
        e.killTimer?.cancel()
        e.killTimer = nil
        if let cg = e.cgroup {
            // Whatever is left of the task (children that left its process group) goes with it.
            removeCgroup(cg, name: cgroupName(ref))
            e.cgroup = nil
        }
        entries[ref] = e
        logger.info("task ended", metadata: ["job.id": "\(ref.job)", "exit.code": "\(exit.exitCode.map(String.init) ?? "-")",
                                             "signal": "\(exit.signal.map(String.init) ?? "-")", "reason": "\(exit.error ?? "-")"])
        publish(TaskExited(ref: ref, exit: exit))
        resumeIfAllEnded()
    }

    /// `signal` (SIGTERM by default; a checkpoint signal on preemption) to the task's process
    /// group now, SIGKILL after `grace` seconds if it still runs.
    /// A task this agent does not run is reported as ended, so schedd can close its books.
    public func stop(_ ref: TaskRef, graceSeconds: Int, signal: Int32 = SIGTERM) {
        guard let e = entries[ref] else {
            publish(TaskExited(ref: ref, exit: TaskExit(error: "not running on this node")))
            return
        }
        if config.noExec, e.exit == nil {
            // A held task stops at once, as a process would on the signal.
            e.killTimer?.cancel()
            ended(ref, exit: TaskExit(signal: signal))
            return
        }
        guard e.exit == nil, let pid = e.pid else { return }
        signalGroup(pid, signal)
        entries[ref]?.killTimer?.cancel()
        entries[ref]?.killTimer = Task { [weak self] in
            try? await Task.sleep(for: .seconds(max(0, graceSeconds)))
            guard !Task.isCancelled else { return }
            await self?.forceKill(ref)
        }
    }

    /// A recovered task's shim is gone: its recorded exit, or SIGKILL when this agent sent it
    /// (the shim dies with the command and records nothing then).
    private func recoveredTaskEnded(_ ref: TaskRef, exitFile: String) {
        let exit = TaskExitFile.read(exitFile)
            ?? (entries[ref]?.forceKilled == true ? TaskExit(signal: SIGKILL)
                                                   : TaskExit(error: "ended without recording its exit status (shim killed)"))
        ended(ref, exit: exit)
    }

    func forceKill(_ ref: TaskRef) {
        guard let e = entries[ref], e.exit == nil, let pid = e.pid else { return }
        entries[ref]?.forceKilled = true
        logger.warning("grace period over, sending SIGKILL", metadata: ["job.id": "\(ref.job)", "pid": "\(pid)"])
        signalGroup(pid, SIGKILL)
        // And every process in its cgroup, those that left its process group too.
        e.cgroup?.killAll()
    }

    private func signalGroup(_ pid: Int32, _ sig: Int32) {
        // The exec helper made the task a session (and group) leader; before it did, signal the pid.
        if Foundation.kill(-pid, sig) != 0 { _ = Foundation.kill(pid, sig) }
    }

    /// schedd recorded the exit: forget the task.
    public func acknowledge(_ ref: TaskRef) {
        guard entries[ref]?.exit != nil else { return }
        entries[ref] = nil
        try? FileManager.default.removeItem(atPath: taskDir(ref) + "/" + TaskRecord.fileName)
    }

    /// Stops every running task (agent shutdown) and returns once all have ended.
    public func stopAllAndWait(graceSeconds: Int) async {
        let running = entries.filter { $0.value.exit == nil }.map(\.key)
        guard !running.isEmpty else { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            allEnded = c
            for ref in running { stop(ref, graceSeconds: graceSeconds) }
        }
    }

    private func resumeIfAllEnded() {
        if let c = allEnded, runningCount == 0 {
            allEnded = nil
            c.resume()
        }
    }
}

struct LaunchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
