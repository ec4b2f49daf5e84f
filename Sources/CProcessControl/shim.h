#ifndef SCHED_CPROCESSCONTROL_SHIM_H
#define SCHED_CPROCESSCONTROL_SHIM_H
// prctl(2) is variadic, so Swift cannot call it directly: this wraps the one use we have.
#include <sys/prctl.h>

/// The signal this process gets when its parent (the thread that forked it) ends.
static inline int sched_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL);
}
#endif
