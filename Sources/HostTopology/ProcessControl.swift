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

    /// Who a task's command runs as (the groups are what initgroups(3) would set).
    public struct Credentials: Sendable, Hashable {
        public var uid: UInt32
        public var gid: UInt32
        public var groups: [UInt32]
        public init(uid: UInt32, gid: UInt32, groups: [UInt32]) {
            self.uid = uid
            self.gid = gid
            self.groups = groups
        }
    }

    /// Where starting a command failed before it ran (the C target's `sched_spawn_stage`).
    public enum SpawnStage: Int32, Sendable {
        case setgroups = 1, setgid, setuid, irreversible, chdir, exec
    }

    /// A command that never ran: the stage and the errno of the failing call.
    public struct SpawnFailure: Sendable, Hashable {
        public var stage: SpawnStage
        public var errno: Int32
        public init(stage: SpawnStage, errno: Int32) {
            self.stage = stage
            self.errno = errno
        }
    }

    /// Forks the task's command (`argv`: NUL-terminated C strings ending with nil, made before
    /// the call) and returns its pid, or -1 with `errno` set when `fork` failed, and why the
    /// command did not run, if it did not. The child switches to `credentials` (setgroups, setgid,
    /// setuid; checked irreversible), gets SIGKILL when the calling process ends
    /// (`PR_SET_PDEATHSIG`), changes to `workdir` as that user, gets an empty signal mask, and
    /// is `execvp`ed. When the credentials fail it exits 125, when the directory fails 126; when
    /// exec fails it writes `notFound` (ENOENT) or `notExecutable` to stderr and exits 127 or 126.
    /// It exits 137 if the caller ended before it could ask for the signal. Returns once the
    /// command runs or failed. Call with every signal blocked (`blockAllSignals()`).
    public static func spawnShimChild(_ argv: [UnsafeMutablePointer<CChar>?], credentials: Credentials?, workdir: String?,
                                      notFound: String, notExecutable: String) -> (pid: pid_t, failure: SpawnFailure?) {
        precondition(argv.last.map { $0 == nil } == true && argv.count > 1, "argv must be a command ending with nil")
        var failure = sched_spawn_failure()
        let pid = withCredentials(credentials) { cred in
            withOptionalCString(workdir) { workdir in
                notFound.withCString { notFound in
                    notExecutable.withCString { notExecutable in
                        sched_spawn_shim_child(argv, cred, workdir, notFound, notExecutable, &failure)
                    }
                }
            }
        }
        let stage = SpawnStage(rawValue: failure.stage)
        return (pid, stage.map { SpawnFailure(stage: $0, errno: failure.error) })
    }

    /// Switches the calling process to `credentials` (setgroups, setgid, setuid, then checks that
    /// setuid(0) fails); nil when done, else the stage that failed and its errno. For a process
    /// about to exec, single-threaded (the exec helper without a shim).
    public static func switchCredentials(_ credentials: Credentials) -> SpawnFailure? {
        let stage = withCredentials(credentials) { sched_switch_credentials($0) }
        let e = errno
        return SpawnStage(rawValue: stage).map { SpawnFailure(stage: $0, errno: e) }
    }

    private static func withCredentials<R>(_ c: Credentials?, _ body: (UnsafePointer<sched_credentials>?) -> R) -> R {
        guard let c else { return body(nil) }
        return c.groups.withUnsafeBufferPointer { groups in
            var cred = sched_credentials(uid: c.uid, gid: c.gid, groups: groups.baseAddress, group_count: groups.count)
            return withUnsafePointer(to: &cred) { body($0) }
        }
    }

    private static func withOptionalCString<R>(_ s: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
        guard let s else { return body(nil) }
        return s.withCString { body($0) }
    }

    /// Marks every file descriptor above stderr close-on-exec: the task's command inherits only
    /// stdin, stdout and stderr (see CProcessControl.h for why that matters to the agent).
    public static func closeOnExecAboveStandardStreams() {
        _ = sched_close_on_exec_from(3)
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
