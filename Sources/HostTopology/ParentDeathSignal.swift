import CProcessControl

/// Ties a process's life to its parent's: the kernel sends `signal` to the calling process when
/// the thread that forked it ends (Linux `PR_SET_PDEATHSIG`; kept across `execve`).
public enum ParentDeathSignal {
    /// Async-signal-safe (one system call): usable in a child between `fork` and `exec`.
    @discardableResult
    public static func set(_ signal: Int32) -> Bool { sched_set_parent_death_signal(signal) == 0 }
}
