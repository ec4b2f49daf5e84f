import CProcessControl
#if canImport(Glibc)
import Glibc
#endif

/// What the agent's exec helper and task shim (AgentKit's `ExecHelper`) do to processes and
/// signals, over the C target CProcessControl (Sources/CProcessControl/include/CProcessControl.h
/// says what each call does and why it is C). Above all, the child side of `fork` runs in C:
/// after `fork` only async-signal-safe calls are allowed, and Swift code is not.
public enum ProcessControl {
    /// A thread's signal mask, saved by `blockAllSignals()`.
    public struct SignalMask {
        fileprivate var set = sigset_t()
    }

    /// Blocks every signal for the calling thread and returns the mask before.
    public static func blockAllSignals() -> SignalMask {
        var previous = SignalMask()
        sched_block_all_signals(&previous.set)
        return previous
    }

    /// Sets the calling thread's signal mask back to `mask`.
    public static func restoreSignals(_ mask: SignalMask) {
        var mask = mask
        sched_restore_signal_mask(&mask.set)
    }

    /// Default dispositions for signals 1-31 and an empty mask (both survive `execve`).
    public static func resetSignals() {
        sched_reset_signals()
    }

    /// Ignores every signal 1-64 but SIGKILL, SIGSTOP and SIGCHLD: the shim's stance towards
    /// the signals sent to its task's process group.
    public static func ignoreTaskSignals() {
        sched_ignore_task_signals()
    }

    /// Forks the task's command (`argv`: NUL-terminated C strings ending with nil, made before
    /// the call) and returns its pid, or -1 with `errno` set when `fork` failed. The child gets
    /// SIGKILL when the calling process ends (`PR_SET_PDEATHSIG`), an empty signal mask, and is
    /// `execvp`ed; when that fails it writes `notFound` (ENOENT) or `notExecutable` to stderr and
    /// exits 127 or 126. It exits 137 if the caller ended before it could ask for the signal.
    /// Call with every signal blocked (`blockAllSignals()`).
    public static func spawnShimChild(_ argv: [UnsafeMutablePointer<CChar>?], notFound: String,
                                      notExecutable: String) -> pid_t {
        precondition(argv.last.map { $0 == nil } == true && argv.count > 1, "argv must be a command ending with nil")
        return notFound.withCString { notFound in
            notExecutable.withCString { notExecutable in
                sched_spawn_shim_child(argv, notFound, notExecutable)
            }
        }
    }

    /// Ends the calling process by signal `sig`, as if the signal had been its own: no core
    /// file (RLIMIT_CORE 0), default disposition, then the signal. Returns only when that
    /// signal's default action is not to end the process.
    public static func endBySignal(_ sig: Int32) {
        sched_disable_core_dumps()
        signal(sig, SIG_DFL)
        kill(getpid(), sig)
    }
}
