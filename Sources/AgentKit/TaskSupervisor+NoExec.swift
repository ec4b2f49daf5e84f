import SchedCore
import SchedProtocol

/// Counters of one supervisor, reported by `sched-agent --emulate --stats-file`.
public struct SupervisorStats: Sendable, Codable, Hashable {
    /// Tasks started (processes launched, or held with `--no-exec`).
    public var started = 0
    /// Tasks refused because a PU or GPU share was already held by a running task (`--no-exec`).
    public var refusedOverlap = 0
    /// Tasks refused for any other reason (unknown PUs, NUMA nodes or GPUs).
    public var refusedInvalid = 0
    public init() {}
    public mutating func add(_ o: SupervisorStats) {
        started += o.started
        refusedOverlap += o.refusedOverlap
        refusedInvalid += o.refusedInvalid
    }
}

/// How long a `--no-exec` node holds a task: `sleep N` (N seconds, fractions allowed) holds N
/// seconds, as the real command would; any other command finishes at once with exit code 0.
public enum NoExecDuration {
    public static func milliseconds(for command: [String]) -> Int {
        guard command.count == 2, command[0] == "sleep" || command[0].hasSuffix("/sleep"),
              let s = Double(command[1]), s.isFinite, s >= 0 else { return 0 }
        return Int((min(s, 31_536_000) * 1000).rounded())
    }
}

extension TaskSupervisor {
    /// `--no-exec`: records the task as running without a process. The task is refused when it
    /// would share a PU, or more than a whole GPU, with a task still running here, which an
    /// emulated fleet uses to check that schedd never hands anything out twice.
    func startHeld(_ s: StartTask, binding: HostBinding) -> Message {
        if let clash = overlap(s.assignment) {
            let exit = TaskExit(error: "refused: \(clash)")
            entries[s.ref] = Entry(start: s, binding: binding, exit: exit, stdoutPath: "", stderrPath: "")
            stats.refusedOverlap += 1
            logger.error("task refused", metadata: ["job.id": "\(s.ref.job)", "reason": "\(clash)"])
            return .taskExited(TaskExited(ref: s.ref, exit: exit))
        }
        entries[s.ref] = Entry(start: s, binding: binding, pid: 0, stdoutPath: "", stderrPath: "")
        stats.started += 1
        return .taskStarted(TaskStarted(ref: s.ref, pid: 0, binding: binding, stdoutPath: "", stderrPath: ""))
    }

    /// Starts a held task's clock once its TASK_STARTED was written, so its exit never
    /// overtakes the start report.
    public func startedReported(_ ref: TaskRef) {
        guard config.noExec, let e = entries[ref], e.exit == nil, e.killTimer == nil else { return }
        let ms = NoExecDuration.milliseconds(for: e.start.command)
        if ms == 0 {
            ended(ref, exit: TaskExit(exitCode: 0))
            return
        }
        entries[ref]?.killTimer = Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(ms))
            guard !Task.isCancelled else { return }
            await self?.ended(ref, exit: TaskExit(exitCode: 0))
        }
    }

    /// What a new assignment would share with the running tasks, or nil.
    func overlap(_ a: Assignment) -> String? {
        var milli: [Int: Int] = [:]
        for g in a.gpus { milli[g, default: 0] += a.milliPerGPU }
        for (ref, e) in entries where e.exit == nil {
            let other = e.start.assignment
            if !other.pus.isDisjoint(with: a.pus) {
                return "PUs \(other.pus.intersection(a.pus)) already held by job \(ref.job)"
            }
            for g in other.gpus where milli[g] != nil { milli[g]! += other.milliPerGPU }
        }
        if let (g, m) = milli.first(where: { $0.value > 1000 }) { return "GPU \(g) over-committed (\(m)/1000)" }
        return nil
    }
}
