#ifndef SCHED_CPROCESSCONTROL_H
#define SCHED_CPROCESSCONTROL_H
// The process control the agent's exec helper and task shim (AgentKit's ExecHelper, through
// HostTopology's ProcessControl) need, in C because Swift cannot do it safely:
//
// - the child side of fork(). After fork() only async-signal-safe calls are allowed in the
//   child (the parent's other threads may have held locks, e.g. malloc's, that the child
//   inherits held), and Swift code gives no such guarantee (retain/release, runtime locks,
//   allocation). So fork and everything up to execvp (or _exit) happen here: the switch to
//   the task's user, the parent-death signal, the working directory, the exec;
// - prctl(2), which is variadic;
// - bpf(2) (device_filter.c), which takes a union of structs Swift does not import well.
//
// The signal and rlimit helpers are plain system calls Swift could make. They are here so
// that the shim's whole signal discipline (block across the fork, ignore what is sent to the
// task's group, reset for the task, no core of its own) sits in one small, commented place.
// Signal masks are the calling thread's (sigprocmask); the helper and shim run them on the
// main thread, the one that forks.

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// Who a task runs as: what initgroups(3) would set (the user's primary group and every group
/// it is a member of, `groups`, looked up before the fork), its primary group and its uid.
struct sched_credentials {
    uid_t uid;
    gid_t gid;
    const gid_t *groups;
    size_t group_count;
};

/// Where starting the command failed, for `struct sched_spawn_failure`.
enum sched_spawn_stage {
    SCHED_STAGE_NONE = 0,         // the command was exec'ed
    SCHED_STAGE_SETGROUPS = 1,    // setgroups (the supplementary groups)
    SCHED_STAGE_SETGID = 2,
    SCHED_STAGE_SETUID = 3,
    SCHED_STAGE_IRREVERSIBLE = 4, // setuid(0) or setgid(0) still succeeded after the switch
    SCHED_STAGE_CHDIR = 5,        // the working directory, as the task's user
    SCHED_STAGE_EXEC = 6,         // execvp (the message went to stderr, as before)
};

/// What the child reported before it exec'ed, or nothing (`stage` SCHED_STAGE_NONE).
struct sched_spawn_failure {
    int stage;
    int error;  // errno of the failing call (0 for SCHED_STAGE_IRREVERSIBLE)
};

/// Sets the calling process's supplementary groups, gid and uid (setgroups, setgid, setuid, in
/// that order), then checks the switch cannot be undone: unless `c->uid` is 0, setuid(0) (and
/// setgid(0) unless `c->gid` is 0) must fail. Returns SCHED_STAGE_NONE, or the stage that failed
/// with errno set. Only system calls: safe in a forked child. A process that is not root can
/// only "switch" to itself.
int sched_switch_credentials(const struct sched_credentials *c);

/// Forks the task's command and returns its pid to the shim (the caller), or -1 with errno set
/// when fork (or the pipe the child reports through) failed. The child never returns:
///
/// 1. switches to `credentials` (when not NULL; sched_switch_credentials);
/// 2. asks for SIGKILL when the shim ends (PR_SET_PDEATHSIG; after the switch, since a change
///    of effective uid or gid clears it) and exits 137 if the shim already ended;
/// 3. changes to `workdir` (when not NULL), as the task's user: the kernel checks its access;
/// 4. unblocks every signal and execvp(argv[0], argv). If that fails it writes `not_found_msg`
///    (ENOENT) or `not_executable_msg` (any other error) to stderr and exits 127 or 126.
///
/// A failure in 1 or 3 exits 125 (credentials) or 126 (working directory) without a message.
/// The stage and errno of any failure come back in `*failure` through a close-on-exec pipe:
/// the call returns once the child exec'ed or failed, so `*failure` is final when it returns.
/// Call with every signal blocked (sched_block_all_signals), so that no signal can reach the
/// child before it has its own dispositions and mask.
pid_t sched_spawn_shim_child(char *const argv[], const struct sched_credentials *credentials, const char *workdir,
                             const char *not_found_msg, const char *not_executable_msg,
                             struct sched_spawn_failure *failure);

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

/// Marks every file descriptor from `lowest` up close-on-exec, so the task's command inherits
/// none of the agent's (sockets, files). One of them matters beyond hygiene: Foundation's
/// `Process` learns that the shim ended when the last copy of a socket it gave the shim closes,
/// and a child that left the task's process group would otherwise hold it open.
int sched_close_on_exec_from(int lowest);

/// Sets RLIMIT_CORE to 0 (soft and hard): this process writes no core file. Returns setrlimit's result.
int sched_disable_core_dumps(void);

// MARK: device control on cgroup v2 (device_filter.c)

/// One rule of a cgroup v2 device filter: a character (`type` 'c') or block ('b') device
/// `major`:`minor` (`minor` -1: any), allowed (`allow` 1) or denied (0).
struct sched_device_rule {
    char type;
    uint32_t major;
    int64_t minor;
    int allow;
};

/// Loads an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE that applies `rules` in order
/// (the first that matches decides; a device no rule matches is allowed) and attaches it to
/// the cgroup v2 directory open as `cgroup_fd` (BPF_CGROUP_DEVICE, no flags: the only program
/// there). Returns 0, or -1 with errno set (EPERM without CAP_BPF/CAP_SYS_ADMIN; the verifier's
/// log, if any, goes to `log`). The attachment lives as long as the cgroup; the program's fd
/// is closed before returning.
int sched_attach_device_filter(int cgroup_fd, const struct sched_device_rule *rules, size_t rule_count,
                               char *log, size_t log_size);

/// How many BPF_CGROUP_DEVICE programs are attached to the cgroup open as `cgroup_fd`, or -1
/// with errno set.
int sched_device_filter_count(int cgroup_fd);

#endif
