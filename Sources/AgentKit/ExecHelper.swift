import Foundation
import HostTopology
import SchedCore
import SchedProtocol

/// The first moments of every task, and its shim for as long as it runs:
/// `sched-agent __exec --cpus LIST --mems LIST [--chdir DIR] [--exit-file PATH] -- CMD ARGS...`.
///
/// Runs in the freshly spawned child: starts a new session (so the whole process group can be
/// signalled), restores default signal handling, binds the CPU affinity and the memory policy.
/// Without `--exit-file` it then `execvp`s the command, which inherits both. With it, it forks:
/// the child `execvp`s the command, and this process stays as the task's shim, like Slurm's
/// slurmstepd: it ignores the signals sent to the task's group, waits for the command, writes
/// its exit to PATH (`exit N` or `signal N`) and then ends the same way. The exit file outlives
/// a crashed agent, so the next agent can report how the task ended (`TaskSupervisor.recover`).
/// Exit codes when the command never runs: 125 binding failed, 126 not executable, 127 not
/// found, 124 bad helper arguments.
public enum ExecHelper {
    public static let verb = "__exec"

    public static func run(_ args: [String]) -> Never {
        var cpus: CPUSet?
        var mems = NUMASet()
        var chdirTo: String?
        var exitFile: String?
        var i = 0
        while i < args.count, args[i] != "--" {
            guard i + 1 < args.count else { fail(124, "missing value for \(args[i])") }
            switch args[i] {
            case "--cpus": cpus = CPUSet(listFormat: args[i + 1])
            case "--mems": mems = NUMASet(listFormat: args[i + 1]) ?? NUMASet()
            case "--chdir": chdirTo = args[i + 1]
            case "--exit-file": exitFile = args[i + 1]
            default: fail(124, "unknown helper option \(args[i])")
            }
            i += 2
        }
        let command = Array(args.dropFirst(i + 1))
        guard let cpus, !cpus.isEmpty, !command.isEmpty else { fail(124, "usage: \(verb) --cpus LIST [--mems LIST] -- CMD ARGS...") }
        _ = setsid()
        // The agent ignores SIGTERM/SIGINT (its signal handling does) and such dispositions
        // survive exec: give the task default dispositions and an empty signal mask.
        ProcessControl.resetSignals()
        do {
            try ProcessBinding.bindCurrentProcess(cpus: cpus, memory: mems)
        } catch {
            fail(125, "cannot bind to CPUs \(cpus) / NUMA \(mems): \(error)")
        }
        if let dir = chdirTo, chdir(dir) != 0 { fail(126, "cannot chdir to \(dir): \(String(cString: strerror(errno)))") }
        var cargs: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) }
        cargs.append(nil)
        guard let exitFile else {
            execvp(command[0], cargs)
            let e = errno
            fail(e == ENOENT ? 127 : 126, "cannot run \(command[0]): \(String(cString: strerror(e)))")
        }
        shim(cargs, exitFile: exitFile, notFound: "sched-agent: cannot run \(command[0]): \(String(cString: strerror(ENOENT)))\n",
             notExecutable: "sched-agent: cannot run \(command[0]): not executable\n")
    }

    /// Forks the command and stays as its shim (see the type's doc). Signals are blocked across
    /// the fork, so one sent to the group then cannot end the shim before it ignores them. The
    /// child side of the fork (parent-death signal, exec, the exit codes when exec fails) is C
    /// (`ProcessControl.spawnShimChild`): only async-signal-safe code may run there.
    static func shim(_ cargs: [UnsafeMutablePointer<CChar>?], exitFile: String, notFound: String, notExecutable: String) -> Never {
        let previous = ProcessControl.blockAllSignals()
        // Killing the shim (the task's pid) kills the command too, as it did before there was a
        // shim; an agent crash does not, since the shim outlives the agent.
        let child = ProcessControl.spawnShimChild(cargs, notFound: notFound, notExecutable: notExecutable)
        guard child > 0 else { fail(126, "cannot fork the task: \(String(cString: strerror(errno)))") }
        // Every signal a KILL_TASK may carry (checkpoint signals go up to 64, real-time ones
        // included) is for the command; SIGKILL alone ends the shim, and the command with it.
        ProcessControl.ignoreTaskSignals()
        ProcessControl.restoreSignals(previous)
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        let signalled = (status & 0x7f) != 0 && (status & 0x7f) != 0x7f
        let code = signalled ? status & 0x7f : (status >> 8) & 0xff
        TaskExitFile.write(signalled ? TaskExit(signal: code) : TaskExit(exitCode: code), to: exitFile)
        // End as the command did, without a core file of the shim's own.
        if signalled { ProcessControl.endBySignal(code) }
        exit(code)
    }

    static func fail(_ code: Int32, _ message: String) -> Never {
        FileHandle.standardError.write(Data("sched-agent: \(message)\n".utf8))
        exit(code)
    }
}
