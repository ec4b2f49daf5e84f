import SchedCore

/// Maps the PUs and NUMA nodes of an emulated topology (`--topology-xml`) onto the host's.
///
/// Rule: the emulated PU with rank `r` in the emulated node's ascending PU list maps to the host's
/// allowed PU at index `r mod hostPUs.count` (host PUs ascending); NUMA nodes likewise by rank among
/// the emulated NUMA nodes, modulo the host's NUMA node count. When the emulated topology is the
/// host itself the mapping is the identity. Numbers the emulated topology does not have are dropped.
public struct HostPUMapping: Sendable, Hashable {
    private let puRank: [Int: Int]
    private let numaRank: [Int: Int]
    private let hostPUs: [Int]
    private let hostNodes: [Int]

    public init(emulated: NodeTopology, hostPUs: CPUSet, hostNUMA: NUMASet) {
        puRank = Dictionary(uniqueKeysWithValues: emulated.allPUs.members.enumerated().map { ($1, $0) })
        numaRank = Dictionary(uniqueKeysWithValues: emulated.numaNodes.map(\.id).sorted().enumerated().map { ($1, $0) })
        self.hostPUs = hostPUs.members
        self.hostNodes = hostNUMA.isEmpty ? [0] : hostNUMA.members
    }

    /// Host PUs for emulated PUs (empty when the host PU set is empty).
    public func hostCPUs(for pus: CPUSet) -> CPUSet {
        guard !hostPUs.isEmpty else { return CPUSet() }
        return CPUSet(pus.compactMap { puRank[$0] }.map { hostPUs[$0 % hostPUs.count] })
    }

    /// Host NUMA nodes for emulated NUMA nodes.
    public func hostNUMA(for numa: NUMASet) -> NUMASet {
        NUMASet(numa.compactMap { numaRank[$0] }.map { hostNodes[$0 % hostNodes.count] })
    }

    /// PUs this process may run on (`sched_getaffinity`).
    public static func currentAllowedPUs() -> CPUSet { CPUAffinity.current() }

    /// NUMA nodes this process may allocate from (libnuma `numa_get_mems_allowed`), `{0}` when
    /// libnuma is unavailable or reports none.
    public static func currentHostNUMA() -> NUMASet {
        guard let allowed = NUMABitmask.memsAllowed(), !allowed.isEmpty else { return NUMASet([0]) }
        return allowed
    }
}
