import CHwloc
import SchedCore

/// Packages, NUMA nodes and cores of a loaded topology.
extension HwlocTopology {
    /// Number of packages; at least 1 when the topology has PUs but no Package objects.
    func packageCount() -> Int {
        let n = objects(HWLOC_OBJ_PACKAGE).count
        return n > 0 ? n : 1
    }

    /// NUMA nodes ascending by OS index. hwloc gives a CPU-less node the cpuset of the place it
    /// is attached to, so GPU-memory nodes (subtype `GPUMemory`) are given an empty `cpus`.
    func numaNodes() -> [NUMANodeInfo] {
        objects(HWLOC_OBJ_NUMANODE).map { node in
            let gpuMemory = Self.subtype(node) == "GPUMemory"
            return NUMANodeInfo(id: Int(node.pointee.os_index),
                                memoryBytes: Int64(clamping: sched_hwloc_numa_local_memory(node)),
                                cpus: gpuMemory ? CPUSet() : Self.cpus(node))
        }.sorted { $0.id < $1.id }
    }

    /// Cores in hwloc logical order. A PU with no Core ancestor becomes a core of its own.
    func cores(numa: [NUMANodeInfo]) -> [CoreInfo] {
        let realCores = objects(HWLOC_OBJ_CORE)
        var result: [CoreInfo] = realCores.map { core in
            let pus = Self.cpus(core)
            return CoreInfo(id: Int(core.pointee.logical_index), pus: pus,
                            numa: numaNode(of: core, pus: pus, numa: numa),
                            l3: sharedCacheIndex(above: core), package: packageIndex(of: core))
        }
        var nextID = realCores.count
        for pu in objects(HWLOC_OBJ_PU) where ancestor(of: pu, where: { $0.pointee.type == HWLOC_OBJ_CORE }) == nil {
            let pus = CPUSet([Int(pu.pointee.os_index)])
            result.append(CoreInfo(id: nextID, pus: pus, numa: numaNode(of: pu, pus: pus, numa: numa),
                                   l3: sharedCacheIndex(above: pu), package: packageIndex(of: pu)))
            nextID += 1
        }
        return result
    }

    /// OS index of the NUMA node a core belongs to: the lowest-numbered node with CPUs that holds
    /// all of the core's PUs, else the lowest node of the core's nodeset, else the first node.
    private func numaNode(of obj: Object, pus: CPUSet, numa: [NUMANodeInfo]) -> Int {
        if let node = numa.first(where: { !$0.cpus.isEmpty && pus.isSubset(of: $0.cpus) }) { return node.id }
        if let first = Self.nodes(obj).members.first { return first }
        return numa.first?.id ?? 0
    }

    /// Logical index of the nearest L3 above `obj`; without an L3, of the nearest data/unified
    /// cache of level >= 2 that is shared with other PUs; -1 when there is none.
    private func sharedCacheIndex(above obj: Object) -> Int {
        if let l3 = ancestor(of: obj, where: { $0.pointee.type == HWLOC_OBJ_L3CACHE }) {
            return Int(l3.pointee.logical_index)
        }
        let own = Self.cpus(obj).count
        let shared = ancestor(of: obj) { a in
            Self.isCache(a) && a.pointee.type != HWLOC_OBJ_L1ICACHE && a.pointee.type != HWLOC_OBJ_L2ICACHE
                && a.pointee.type != HWLOC_OBJ_L3ICACHE && Self.cacheLevel(a) >= 2 && Self.cpus(a).count > own
        }
        return shared.map { Int($0.pointee.logical_index) } ?? -1
    }

    private func packageIndex(of obj: Object) -> Int {
        ancestor(of: obj, where: { $0.pointee.type == HWLOC_OBJ_PACKAGE }).map { Int($0.pointee.logical_index) } ?? 0
    }
}
