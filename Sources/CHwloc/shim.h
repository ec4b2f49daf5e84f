#ifndef SCHED_CHWLOC_SHIM_H
#define SCHED_CHWLOC_SHIM_H
#include <hwloc.h>
#if HWLOC_API_VERSION < 0x00020000
#error "hwloc >= 2.0 required"
#endif

/// Returns the union member of an object's attributes as a plain value (NUMA node memory).
static inline unsigned long long sched_hwloc_numa_local_memory(hwloc_obj_t obj) {
    return (obj && obj->attr) ? (unsigned long long)obj->attr->numanode.local_memory : 0ULL;
}
/// Cache size in bytes, 0 when the object is not a cache.
static inline unsigned long long sched_hwloc_cache_size(hwloc_obj_t obj) {
    return (obj && obj->attr && hwloc_obj_type_is_cache(obj->type)) ? (unsigned long long)obj->attr->cache.size : 0ULL;
}
/// OS-device type (HWLOC_OBJ_OSDEV_GPU, _COPROC, ...), -1 when not an OS device.
static inline int sched_hwloc_osdev_type(hwloc_obj_t obj) {
    return (obj && obj->type == HWLOC_OBJ_OS_DEVICE && obj->attr) ? (int)obj->attr->osdev.type : -1;
}
/// PCI vendor / device / class of a PCI device object, 0 otherwise.
static inline unsigned sched_hwloc_pci_vendor(hwloc_obj_t obj) {
    return (obj && obj->type == HWLOC_OBJ_PCI_DEVICE && obj->attr) ? obj->attr->pcidev.vendor_id : 0;
}
static inline unsigned sched_hwloc_pci_device(hwloc_obj_t obj) {
    return (obj && obj->type == HWLOC_OBJ_PCI_DEVICE && obj->attr) ? obj->attr->pcidev.device_id : 0;
}
static inline unsigned sched_hwloc_pci_class(hwloc_obj_t obj) {
    return (obj && obj->type == HWLOC_OBJ_PCI_DEVICE && obj->attr) ? obj->attr->pcidev.class_id : 0;
}
/// "dddd:bb:dd.f" bus id of a PCI device into buf (at least 16 bytes); returns 0 on success.
static inline int sched_hwloc_pci_busid(hwloc_obj_t obj, char *buf, unsigned long len) {
    if (!obj || obj->type != HWLOC_OBJ_PCI_DEVICE || !obj->attr || len < 16) return -1;
    snprintf(buf, len, "%04x:%02x:%02x.%01x", obj->attr->pcidev.domain, obj->attr->pcidev.bus,
             obj->attr->pcidev.dev, obj->attr->pcidev.func);
    return 0;
}
/// Cache level (1 for L1, 3 for L3, ...), 0 when the object is not a cache.
static inline unsigned sched_hwloc_cache_depth(hwloc_obj_t obj) {
    return (obj && obj->attr && hwloc_obj_type_is_cache(obj->type)) ? obj->attr->cache.depth : 0;
}
/* Thread CPU affinity for HostTopology's binding. glibc declares sched_{get,set}affinity only under
   _GNU_SOURCE, which Swift's Glibc module is not built with, so these use the system calls directly.
   The mask is an array of unsigned long (bit n%64 of word n/64), size in bytes, a multiple of 8. */
#include <unistd.h>
#include <sys/syscall.h>
/// Binds the calling thread to the PUs of mask; 0 on success, -1 with errno.
static inline int sched_hwloc_set_thread_affinity(unsigned long size, const unsigned long *mask) {
    return syscall(SYS_sched_setaffinity, 0, size, mask) < 0 ? -1 : 0;
}
/// The calling thread's allowed PUs into mask; bytes written by the kernel, or -1 with errno
/// (EINVAL when size is smaller than the kernel's CPU mask).
static inline long sched_hwloc_get_thread_affinity(unsigned long size, unsigned long *mask) {
    return syscall(SYS_sched_getaffinity, 0, size, mask);
}
#endif
