import CNuma
import SchedCore
#if canImport(Glibc)
import Glibc
#endif

/// Binds the calling process to PUs and NUMA memory. The agent's exec helper calls this in the
/// forked child right before `execve`; both settings are inherited by the new program.
public enum ProcessBinding {
    /// Restricts the calling thread (the whole process in a freshly forked, single-threaded child)
    /// to `cpus` with `sched_setaffinity`, and its memory allocations to `memory` with libnuma's
    /// `numa_set_membind` (MPOL_BIND).
    ///
    /// - An empty `cpus` leaves CPU affinity alone; an empty `memory`, or a host where libnuma
    ///   reports NUMA unavailable, leaves the memory policy alone.
    /// - Throws `bindFailed` when the kernel rejects the CPU mask (no PU of `cpus` is usable), when
    ///   it applied only part of it, or when `memory` names a node outside `Mems_allowed`.
    public static func bindCurrentProcess(cpus: CPUSet, memory: NUMASet) throws(TopologyError) {
        if !cpus.isEmpty { try bindCPUs(cpus) }
        if !memory.isEmpty { try bindMemory(memory) }
    }

    private static func bindCPUs(_ cpus: CPUSet) throws(TopologyError) {
        let context = "cannot bind to PUs \(cpus)"
        let rc = CPUAffinity.bind(cpus)
        guard rc == 0 else { throw TopologyError(.bindFailed, function: "sched_setaffinity", errno: rc, context: context) }
        // The kernel silently drops PUs outside the cgroup's cpuset; a partial binding is an error.
        let applied = CPUAffinity.current()
        guard cpus.isSubset(of: applied) else {
            throw TopologyError(.bindFailed, function: "sched_setaffinity", errno: EINVAL,
                                context: "\(context) (kernel applied only \(applied))")
        }
    }

    private static func bindMemory(_ memory: NUMASet) throws(TopologyError) {
        let context = "cannot bind memory to NUMA nodes \(memory)"
        guard let allowed = NUMABitmask.memsAllowed() else { return }  // libnuma: NUMA unavailable
        // numa_set_membind returns nothing (libnuma only prints), so check what it will accept first
        // and what it did afterwards.
        guard memory.isSubset(of: allowed) else {
            throw TopologyError(.bindFailed, function: "numa_set_membind", errno: EINVAL,
                                context: "\(context) (allowed: \(allowed))")
        }
        guard let mask = numa_allocate_nodemask() else {
            throw TopologyError(.bindFailed, function: "numa_allocate_nodemask", errno: ENOMEM, context: context)
        }
        defer { numa_free_nodemask(mask) }
        for node in memory { numa_bitmask_setbit(mask, UInt32(node)) }
        errno = 0
        numa_set_membind(mask)
        let err = errno
        let applied = NUMABitmask.set(numa_get_membind(), consume: true)
        guard applied == memory else {
            throw TopologyError(.bindFailed, function: "numa_set_membind", errno: err == 0 ? EINVAL : err,
                                context: "\(context) (policy now \(applied))")
        }
    }
}
