import Foundation
import HostTopology
import SchedCore

/// The first moments of every task: `sched-agent __exec --cpus LIST --mems LIST [--chdir DIR] -- CMD ARGS...`.
///
/// Runs in the freshly spawned child, single-threaded in effect: starts a new session (so the
/// whole process group can be signalled), restores default signal handling, binds the CPU
/// affinity and the memory policy, then
/// `execvp`s the command, which inherits both. Exit codes when the command never runs:
/// 125 binding failed, 126 not executable, 127 not found, 124 bad helper arguments.
public enum ExecHelper {
    public static let verb = "__exec"

    public static func run(_ args: [String]) -> Never {
        var cpus: CPUSet?
        var mems = NUMASet()
        var chdirTo: String?
        var i = 0
        while i < args.count, args[i] != "--" {
            guard i + 1 < args.count else { fail(124, "missing value for \(args[i])") }
            switch args[i] {
            case "--cpus": cpus = CPUSet(listFormat: args[i + 1])
            case "--mems": mems = NUMASet(listFormat: args[i + 1]) ?? NUMASet()
            case "--chdir": chdirTo = args[i + 1]
            default: fail(124, "unknown helper option \(args[i])")
            }
            i += 2
        }
        let command = Array(args.dropFirst(i + 1))
        guard let cpus, !cpus.isEmpty, !command.isEmpty else { fail(124, "usage: \(verb) --cpus LIST [--mems LIST] -- CMD ARGS...") }
        _ = setsid()
        resetSignals()
        do {
            try ProcessBinding.bindCurrentProcess(cpus: cpus, memory: mems)
        } catch {
            fail(125, "cannot bind to CPUs \(cpus) / NUMA \(mems): \(error)")
        }
        if let dir = chdirTo, chdir(dir) != 0 { fail(126, "cannot chdir to \(dir): \(String(cString: strerror(errno)))") }
        var cargs: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) }
        cargs.append(nil)
        execvp(command[0], cargs)
        let e = errno
        fail(e == ENOENT ? 127 : 126, "cannot run \(command[0]): \(String(cString: strerror(e)))")
    }

    /// The agent ignores SIGTERM/SIGINT (its signal handling does) and such dispositions survive
    /// exec: give the task default dispositions and an empty signal mask.
    static func resetSignals() {
        for sig in Int32(1)..<32 where sig != SIGKILL && sig != SIGSTOP { signal(sig, SIG_DFL) }
        var empty = sigset_t()
        sigemptyset(&empty)
        sigprocmask(SIG_SETMASK, &empty, nil)
    }

    static func fail(_ code: Int32, _ message: String) -> Never {
        FileHandle.standardError.write(Data("sched-agent: \(message)\n".utf8))
        exit(code)
    }
}
