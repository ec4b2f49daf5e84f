// See include/CProcessControl.h for what each function does and why it is in C.
#include "CProcessControl.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

pid_t sched_spawn_shim_child(char *const argv[], const char *not_found_msg, const char *not_executable_msg) {
    // Everything the child uses is ready before the fork.
    const pid_t shim = getpid();
    const size_t not_found_len = strlen(not_found_msg);
    const size_t not_executable_len = strlen(not_executable_msg);
    sigset_t none;
    sigemptyset(&none);

    const pid_t child = fork();
    if (child != 0) return child;  // the shim, or -1 with errno from fork

    // The child. Only async-signal-safe calls from here on (execvp: glibc searches PATH in
    // stack buffers, without malloc).
    // Killing the shim (the task's pid) kills the command too; an agent crash does not, since
    // the shim outlives the agent.
    prctl(PR_SET_PDEATHSIG, (unsigned long)SIGKILL, 0UL, 0UL, 0UL);
    // The shim may have ended before prctl took effect: then no signal would come.
    if (getppid() != shim) _exit(137);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvp(argv[0], argv);
    const int missing = errno == ENOENT;
    const ssize_t written = write(STDERR_FILENO, missing ? not_found_msg : not_executable_msg,
                                  missing ? not_found_len : not_executable_len);
    (void)written;  // nothing more to do if stderr is gone
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

int sched_disable_core_dumps(void) {
    const struct rlimit none = {.rlim_cur = 0, .rlim_max = 0};
    return setrlimit(RLIMIT_CORE, &none);
}
