#ifndef SCHED_CPROCESSCONTROL_H
#define SCHED_CPROCESSCONTROL_H
// The process control the agent's exec helper and task shim (AgentKit's ExecHelper, through
// HostTopology's ProcessControl) need, in C because Swift cannot do it safely:
//
// - the child side of fork(). After fork() only async-signal-safe calls are allowed in the
//   child (the parent's other threads may have held locks, e.g. malloc's, that the child
//   inherits held), and Swift code gives no such guarantee (retain/release, runtime locks,
//   allocation). So fork and everything up to execvp (or _exit) happen here;
// - prctl(2), which is variadic.
//
// The signal and rlimit helpers are plain system calls Swift could make. They are here so
// that the shim's whole signal discipline (block across the fork, ignore what is sent to the
// task's group, reset for the task, no core of its own) sits in one small, commented place.
// Signal masks are the calling thread's (sigprocmask); the helper and shim run them on the
// main thread, the one that forks.

#include <signal.h>
#include <sys/types.h>

/// Forks the task's command and returns its pid to the shim (the caller), or -1 with errno set
/// when fork failed. The child never returns: it asks for SIGKILL when the shim ends
/// (PR_SET_PDEATHSIG), exits 137 if the shim already ended, unblocks every signal,
/// execvp(argv[0], argv), and if that fails writes `not_found_msg` (ENOENT) or
/// `not_executable_msg` (any other error) to stderr and exits 127 or 126.
/// Call with every signal blocked (sched_block_all_signals), so that no signal can reach the
/// child before it has its own dispositions and mask.
pid_t sched_spawn_shim_child(char *const argv[], const char *not_found_msg, const char *not_executable_msg);

/// Blocks every signal for the calling thread; the mask before goes to `*previous`.
int sched_block_all_signals(sigset_t *previous);

/// Sets the calling thread's signal mask back to one saved by sched_block_all_signals.
int sched_restore_signal_mask(const sigset_t *saved);

/// Default dispositions for signals 1-31 (but SIGKILL and SIGSTOP, which cannot be changed)
/// and an empty signal mask. Dispositions set to "ignore" and the mask survive execve: the
/// agent ignores SIGTERM/SIGINT, and its tasks must not inherit that.
void sched_reset_signals(void);

/// Ignores every signal 1-64 (checkpoint signals up to SIGRTMAX included) but SIGKILL and
/// SIGSTOP (which cannot be ignored) and SIGCHLD (ignoring it would reap the command before
/// the shim's waitpid sees its status). glibc's internal signals 32 and 33 are refused by
/// sigaction and stay as they are.
void sched_ignore_task_signals(void);

/// Sets RLIMIT_CORE to 0 (soft and hard): this process writes no core file. Returns setrlimit's result.
int sched_disable_core_dumps(void);

#endif
