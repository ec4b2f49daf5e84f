import SchedCore

/// The simulated fleet's node kinds, small enough that a run packs them full: GPU trays of 4
/// GPUs in NVLink domains (racks) and Arm nodes in NUMA halves.
public enum SimFleet {
    static let gib: Int64 = 1 << 30
    /// Trays per NVLink domain in the simulated racks.
    public static let traysPerDomain = 4

    /// A GPU tray: 1 package, 2 NUMA nodes of 8 cores (16 PUs), 64 GiB each, 4 GPUs (2 per NUMA node).
    public static func gpuTray() -> NodeTopology {
        var cores: [CoreInfo] = []
        for c in 0..<16 { cores.append(CoreInfo(id: c, pus: CPUSet([c]), numa: c / 8, l3: 0, package: 0)) }
        let numa = (0..<2).map { NUMANodeInfo(id: $0, memoryBytes: 64 * gib, cpus: CPUSet(($0 * 8)..<($0 * 8 + 8))) }
        let gpus = (0..<4).map {
            GPUInfo(index: $0, name: "cuda\($0)", model: "NVIDIA Rubin", memoryBytes: 288 * gib,
                    numaNodes: NUMASet([$0 / 2]), cpus: numa[$0 / 2].cpus)
        }
        return NodeTopology(arch: "aarch64", cpuModel: "NVIDIA Vera", packages: 1, numaNodes: numa, cores: cores, gpus: gpus)
    }

    /// An Arm node: 32 cores in 2 NUMA nodes of 64 GiB, no SMT, no GPUs.
    public static func armNode() -> NodeTopology {
        var cores: [CoreInfo] = []
        for c in 0..<32 { cores.append(CoreInfo(id: c, pus: CPUSet([c]), numa: c / 16, l3: 0, package: 0)) }
        let numa = (0..<2).map { NUMANodeInfo(id: $0, memoryBytes: 64 * gib, cpus: CPUSet(($0 * 16)..<($0 * 16 + 16))) }
        return NodeTopology(arch: "aarch64", cpuModel: "Neoverse-V2", packages: 1, numaNodes: numa, cores: cores)
    }
}
