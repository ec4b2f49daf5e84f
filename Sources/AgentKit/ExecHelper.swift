import Foundation
import HostTopology
import SchedCore
import SchedProtocol

/// The first moments of every task, and its shim for as long as it runs:
/// `sched-agent __exec --cpus LIST --mems LIST [--cgroup DIR]... [--user NAME --uid N --gid N
/// --groups LIST] [--chdir DIR] [--exit-file PATH] -- CMD ARGS...`.
///
/// Runs in the freshly spawned child: starts a new session (so the whole process group can be
/// signalled), restores default signal handling, moves itself into the task's cgroup (`--cgroup`,
/// one per hierarchy: the command and everything it starts are then inside), binds the CPU
/// affinity and the memory policy. Without `--exit-file` it then switches to the task's user,
/// changes directory and `execvp`s the command, which inherits all of it. With it, it forks: the
/// child switches to the user (setgroups, setgid, setuid, checked irreversible), changes
/// directory as that user and `execvp`s the command; this process stays as the task's shim, like
/// Slurm's slurmstepd, and keeps the agent's user, so the task can neither signal it nor rewrite
/// what it records. It ignores the signals sent to the task's group, waits for the command,
/// writes its exit to PATH (`exit N` or `signal N`, and `error TEXT` when the command never ran
/// for a reason it knows) and then ends the same way. The exit file outlives a crashed agent, so
/// the next agent can report how the task ended (`TaskSupervisor.recover`).
/// Exit codes when the command never runs: 125 setup failed (cgroup, binding, switch of user),
/// 126 not executable or no working directory, 127 not found, 124 bad helper arguments.
public enum ExecHelper {
    public static let verb = "__exec"

    /// The helper's options, parsed.
    struct Options {
        var cpus: CPUSet?
        var mems = NUMASet()
        var chdir: String?
        var exitFile: String?
        var cgroups: [String] = []
        var userName: String?
        var uid: UInt32?
        var gid: UInt32?
        var groups: [UInt32] = []
        var command: [String] = []

        var credentials: ProcessControl.Credentials? {
            guard let uid, let gid else { return nil }
            return .init(uid: uid, gid: gid, groups: groups)
        }

        /// The user, as the messages name it.
        var who: String {
            guard let uid else { return "" }
            return " as user \(userName ?? "uid \(uid)") (uid \(uid))"
        }
    }

    static func parse(_ args: [String]) -> Options {
        var o = Options()
        var i = 0
        while i < args.count, args[i] != "--" {
            guard i + 1 < args.count else { fail(124, "missing value for \(args[i])") }
            let v = args[i + 1]
            switch args[i] {
            case "--cpus": o.cpus = CPUSet(listFormat: v)
            case "--mems": o.mems = NUMASet(listFormat: v) ?? NUMASet()
            case "--chdir": o.chdir = v
            case "--exit-file": o.exitFile = v
            case "--cgroup": o.cgroups.append(v)
            case "--user": o.userName = v
            case "--uid": o.uid = UInt32(v) ?? { fail(124, "bad --uid \(v)") }()
            case "--gid": o.gid = UInt32(v) ?? { fail(124, "bad --gid \(v)") }()
            case "--groups":
                o.groups = v.split(separator: ",").map { UInt32($0) ?? { fail(124, "bad --groups \(v)") }() }
            default: fail(124, "unknown helper option \(args[i])")
            }
            i += 2
        }
        o.command = Array(args.dropFirst(i + 1))
        if (o.uid == nil) != (o.gid == nil) { fail(124, "--uid and --gid go together") }
        return o
    }

    public static func run(_ args: [String]) -> Never {
        let o = parse(args)
        guard let cpus = o.cpus, !cpus.isEmpty, !o.command.isEmpty else { fail(124, "usage: \(verb) --cpus LIST [--mems LIST] -- CMD ARGS...") }
        _ = setsid()
        // The agent ignores SIGTERM/SIGINT (its signal handling does) and such dispositions
        // survive exec: give the task default dispositions and an empty signal mask.
        ProcessControl.resetSignals()
        // Into the task's cgroup before anything is forked, so nothing of the task is outside it.
        do throws(CgroupError) {
            try TaskCgroup.join(o.cgroups)
        } catch {
            fail(125, "cannot place the task in its cgroup: \(error)", exitFile: o.exitFile)
        }
        do {
            try ProcessBinding.bindCurrentProcess(cpus: cpus, memory: o.mems)
        } catch {
            fail(125, "cannot bind to CPUs \(cpus) / NUMA \(o.mems): \(error)")
        }
        // The command gets stdin, stdout and stderr, nothing else of the agent's.
        ProcessControl.closeOnExecAboveStandardStreams()
        var cargs: [UnsafeMutablePointer<CChar>?] = o.command.map { strdup($0) }
        cargs.append(nil)
        guard let exitFile = o.exitFile else {
            if let credentials = o.credentials, let failure = ProcessControl.switchCredentials(credentials) {
                fail(125, reason(failure, o) ?? "cannot switch user")
            }
            if let dir = o.chdir, chdir(dir) != 0 { fail(126, reason(.init(stage: .chdir, errno: errno), o) ?? "") }
            execvp(o.command[0], cargs)
            let e = errno
            fail(e == ENOENT ? 127 : 126, "cannot run \(o.command[0]): \(String(cString: strerror(e)))")
        }
        shim(cargs, options: o, exitFile: exitFile)
    }

    /// Forks the command and stays as its shim (see the type's doc). Signals are blocked across
    /// the fork, so one sent to the group then cannot end the shim before it ignores them. The
    /// child side of the fork (the switch of user, parent-death signal, working directory, exec,
    /// the exit codes when one fails) is C (`ProcessControl.spawnShimChild`): only
    /// async-signal-safe code may run there.
    static func shim(_ cargs: [UnsafeMutablePointer<CChar>?], options o: Options, exitFile: String) -> Never {
        let previous = ProcessControl.blockAllSignals()
        // Killing the shim (the task's pid) kills the command too, as it did before there was a
        // shim; an agent crash does not, since the shim outlives the agent.
        let command = o.command[0]
        let (child, failure) = ProcessControl.spawnShimChild(
            cargs, credentials: o.credentials, workdir: o.chdir,
            notFound: "sched-agent: cannot run \(command): \(String(cString: strerror(ENOENT)))\n",
            notExecutable: "sched-agent: cannot run \(command): not executable\n")
        guard child > 0 else { fail(126, "cannot fork the task: \(String(cString: strerror(errno)))") }
        // Every signal a KILL_TASK may carry (checkpoint signals go up to 64, real-time ones
        // included) is for the command; SIGKILL alone ends the shim, and the command with it.
        ProcessControl.ignoreTaskSignals()
        ProcessControl.restoreSignals(previous)
        let why = failure.flatMap { reason($0, o) }
        if let why { FileHandle.standardError.write(Data("sched-agent: \(why)\n".utf8)) }
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        let signalled = (status & 0x7f) != 0 && (status & 0x7f) != 0x7f
        let code = signalled ? status & 0x7f : (status >> 8) & 0xff
        var exit = signalled ? TaskExit(signal: code) : TaskExit(exitCode: code)
        exit.error = why
        TaskExitFile.write(exit, to: exitFile)
        // End as the command did, without a core file of the shim's own.
        if signalled { ProcessControl.endBySignal(code) }
        Foundation.exit(code)
    }

    /// Why the command did not run, for the task's stderr and exit; nil for exec failures, which
    /// the child reported on stderr itself (and whose 127/126 say enough).
    static func reason(_ f: ProcessControl.SpawnFailure, _ o: Options) -> String? {
        let error = String(cString: strerror(f.errno))
        switch f.stage {
        case .setgroups, .setgid, .setuid:
            return "cannot switch\(o.who.replacingOccurrences(of: " as ", with: " to ")), gid \(o.gid.map(String.init) ?? "-"): \(f.stage): \(error)"
        case .irreversible:
            return "the switch\(o.who.replacingOccurrences(of: " as ", with: " to ")) could be undone (setuid(0) still succeeds); the task does not run"
        case .chdir:
            return "cannot change to working directory \(o.chdir ?? "")\(o.who): \(error)"
        case .exec:
            return nil
        }
    }

    static func fail(_ code: Int32, _ message: String, exitFile: String? = nil) -> Never {
        FileHandle.standardError.write(Data("sched-agent: \(message)\n".utf8))
        if let exitFile { TaskExitFile.write(TaskExit(exitCode: code, error: message), to: exitFile) }
        exit(code)
    }
}
