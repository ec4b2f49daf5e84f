// See include/CProcessControl.h for what each function does and why it is in C.
#define _GNU_SOURCE  // pipe2
#include "CProcessControl.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <dirent.h>
#include <linux/close_range.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int sched_switch_credentials(const struct sched_credentials *c) {
    // initgroups(3) would read the group database (malloc, locks): the list was looked up
    // before the fork, and only the system calls are made here.
    if (setgroups(c->group_count, c->groups) != 0) return SCHED_STAGE_SETGROUPS;
    if (setgid(c->gid) != 0) return SCHED_STAGE_SETGID;
    if (setuid(c->uid) != 0) return SCHED_STAGE_SETUID;
    // As root, setuid sets the real, effective and saved uid: nothing is left to go back to.
    // Check that rather than trust it.
    if (c->uid != 0 && (setuid(0) == 0 || (c->gid != 0 && setgid(0) == 0))) {
        errno = 0;
        return SCHED_STAGE_IRREVERSIBLE;
    }
    return SCHED_STAGE_NONE;
}

/// The child's report to the shim; a write of 8 bytes to a pipe is atomic.
static void report(int fd, int stage, int error) {
    const struct sched_spawn_failure f = {.stage = stage, .error = error};
    const ssize_t written = write(fd, &f, sizeof f);
    (void)written;  // the shim then sees only the exit status
}

pid_t sched_spawn_shim_child(char *const argv[], const struct sched_credentials *credentials, const char *workdir,
                             const char *not_found_msg, const char *not_executable_msg,
                             struct sched_spawn_failure *failure) {
    // Everything the child uses is ready before the fork.
    const pid_t shim = getpid();
    const size_t not_found_len = strlen(not_found_msg);
    const size_t not_executable_len = strlen(not_executable_msg);
    sigset_t none;
    sigemptyset(&none);
    failure->stage = SCHED_STAGE_NONE;
    failure->error = 0;
    // The child reports a failure here; exec closes its end (O_CLOEXEC), so end of file means
    // the command runs.
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;

    const pid_t child = fork();
    if (child != 0) {  // the shim, or -1 with errno from fork
        const int fork_errno = errno;
        close(fds[1]);
        if (child > 0) {
            struct sched_spawn_failure f;
            ssize_t n;
            while ((n = read(fds[0], &f, sizeof f)) < 0 && errno == EINTR) {}
            if (n == (ssize_t)sizeof f) *failure = f;
        }
        close(fds[0]);
        errno = fork_errno;
        return child;
    }

    // The child. Only async-signal-safe calls from here on (execvp: glibc searches PATH in
    // stack buffers, without malloc).
    close(fds[0]);
    if (credentials != NULL) {
        const int stage = sched_switch_credentials(credentials);
        if (stage != SCHED_STAGE_NONE) {
            report(fds[1], stage, errno);
            _exit(125);
        }
    }
    // Killing the shim (the task's pid) kills the command too; an agent crash does not, since
    // the shim outlives the agent. Asked for after the switch: changing the effective uid or
    // gid clears it.
    prctl(PR_SET_PDEATHSIG, (unsigned long)SIGKILL, 0UL, 0UL, 0UL);
    // The shim may have ended before prctl took effect: then no signal would come.
    if (getppid() != shim) _exit(137);
    if (workdir != NULL && chdir(workdir) != 0) {
        report(fds[1], SCHED_STAGE_CHDIR, errno);
        _exit(126);
    }
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvp(argv[0], argv);
    const int exec_errno = errno;
    const int missing = exec_errno == ENOENT;
    const ssize_t written = write(STDERR_FILENO, missing ? not_found_msg : not_executable_msg,
                                  missing ? not_found_len : not_executable_len);
    (void)written;  // nothing more to do if stderr is gone
    report(fds[1], SCHED_STAGE_EXEC, exec_errno);
    _exit(missing ? 127 : 126);
}

int sched_block_all_signals(sigset_t *previous) {
    sigset_t all;
    sigfillset(&all);
    return sigprocmask(SIG_SETMASK, &all, previous);
}

int sched_restore_signal_mask(const sigset_t *saved) {
    return sigprocmask(SIG_SETMASK, saved, NULL);
}

/// Sets `handler` for signals first...last, but SIGKILL, SIGSTOP and `except`.
static void set_dispositions(int first, int last, int except, void (*handler)(int)) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    for (int sig = first; sig <= last; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP || sig == except) continue;
        sigaction(sig, &action, NULL);  // EINVAL for glibc's reserved 32 and 33: left alone
    }
}

void sched_reset_signals(void) {
    set_dispositions(1, 31, 0, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

void sched_ignore_task_signals(void) {
    set_dispositions(1, 64, SIGCHLD, SIG_IGN);
}

int sched_close_on_exec_from(int lowest) {
    // Linux 5.11+: one call. Else every open descriptor, as /proc/self/fd lists them.
    if (syscall(SYS_close_range, (unsigned)lowest, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return 0;
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL) return -1;
    const int own = dirfd(dir);
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        const int fd = atoi(entry->d_name);
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9' || fd < lowest || fd == own) continue;
        const int flags = fcntl(fd, F_GETFD);
        if (flags >= 0) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }
    closedir(dir);
    return 0;
}

int sched_disable_core_dumps(void) {
    const struct rlimit none = {.rlim_cur = 0, .rlim_max = 0};
    return setrlimit(RLIMIT_CORE, &none);
}
