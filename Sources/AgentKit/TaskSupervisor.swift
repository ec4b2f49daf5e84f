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

    /// - Parameter mapping: how the node's PUs map onto this host's; nil when the node is this host.
    public init(config: AgentConfig, topology: NodeTopology, mapping: HostPUMapping?, logger: Logger) {
        self.config = config
        self.topology = topology
        self.mapping = mapping
        self.logger = logger
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
        let binding = hostBinding(for: s.assignment)
        if config.noExec { return startHeld(s, binding: binding) }
        let dir = taskDir(s.ref)
        var entry = Entry(start: s, binding: binding, stdoutPath: dir + "/stdout", stderrPath: dir + "/stderr")
        do {
            let pid = try launch(s, binding: binding, dir: dir, entry: entry)
            entry.pid = pid
            entries[s.ref] = entry
            stats.started += 1
            logger.info("task started", metadata: ["job.id": "\(s.ref.job)", "pid": "\(pid)", "host.cpus": "\(binding.cpus)",
                                                   "host.numa": "\(binding.numaNodes)", "gpus": "\(s.assignment.gpus)"])
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

    private func launch(_ s: StartTask, binding: HostBinding, dir: String, entry: Entry) throws -> Int32 {
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        guard fm.createFile(atPath: entry.stdoutPath, contents: nil), fm.createFile(atPath: entry.stderrPath, contents: nil),
              let out = FileHandle(forWritingAtPath: entry.stdoutPath), let err = FileHandle(forWritingAtPath: entry.stderrPath) else {
            throw LaunchError("cannot create output files in \(dir)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: config.agentExecutable)
        var args = [ExecHelper.verb, "--cpus", binding.cpus.description, "--mems", binding.numaNodes.description,
                    "--chdir", s.workdir ?? dir, "--exit-file", dir + "/" + TaskRecord.exitFileName]
        args += ["--"] + s.command
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        // The agent's credentials are not the task's (sched-agent also unsets it at start).
        env["SCHED_TOKEN"] = nil
        for (k, v) in TaskEnvironment.variables(for: s, node: config.nodeName, topology: topology, binding: binding) { env[k] = v }
        p.environment = env
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = out
        p.standardError = err
        let ref = s.ref
        p.terminationHandler = { [weak self] proc in
            let exit = proc.terminationReason == .uncaughtSignal
                ? TaskExit(signal: proc.terminationStatus) : TaskExit(exitCode: proc.terminationStatus)
            Task { await self?.ended(ref, exit: exit) }
        }
        try? fm.removeItem(atPath: dir + "/" + TaskRecord.exitFileName)
        try p.run()
        try? out.close()
        try? err.close()
        let pid = p.processIdentifier
        let record = TaskRecord(start: s, binding: binding, pid: pid, startTicks: ProcessProbe.startTicks(pid),
                                stdoutPath: entry.stdoutPath, stderrPath: entry.stderrPath)
        do {
            try record.save(in: dir)
        } catch {
            // The task runs; only a restart after a crash would not find it.
            logger.error("cannot record task; a restarted agent will not find it", metadata: ["job.id": "\(s.ref.job)", "error": "\(error)"])
        }
        return pid
    }

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
            let exitFile = dir + "/" + TaskRecord.exitFileName
            if let exit = TaskExitFile.read(exitFile) {
                entry.exit = exit
            } else if let recorded = r.startTicks, let ticks = ProcessProbe.startTicks(r.pid), ticks == recorded {
                running += 1
                watch(r.start.ref, pid: r.pid, ticks: ticks, exitFile: exitFile)
            } else {
                entry.exit = TaskExit(error: "ended while sched-agent was down; its exit status was not recorded")
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

    func ended(_ ref: TaskRef, exit: TaskExit) {
        guard var e = entries[ref], e.exit == nil else { return }
        e.exit = exit
        e.killTimer?.cancel()
        e.killTimer = nil
        entries[ref] = e
        logger.info("task ended", metadata: ["job.id": "\(ref.job)", "exit.code": "\(exit.exitCode.map(String.init) ?? "-")",
                                             "signal": "\(exit.signal.map(String.init) ?? "-")"])
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
