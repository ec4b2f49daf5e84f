#ifndef SCHED_CNUMA_SHIM_H
#define SCHED_CNUMA_SHIM_H
#include <numa.h>
#endif
