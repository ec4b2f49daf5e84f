import SchedCore

/// Builds a `NodeTopology` from hwloc: the live host, or an hwloc XML file for emulation.
public enum TopologyDiscovery {
    /// Discovers packages, NUMA nodes, cores, GPUs and the NVLink matrix.
    ///
    /// For `.host`, NVML (when its library is installed) adds model, memory and UUID to the GPUs
    /// hwloc found, matched by PCI bus id, and appends GPUs hwloc missed. `.xml` never uses NVML.
    public static func discover(_ source: TopologySource) throws(TopologyError) -> NodeTopology {
        let isHost = source == .host
        var topology = try withHwloc(source) { hw in
            let numa = hw.numaNodes()
            let found = hw.discoverGPUs()
            return NodeTopology(arch: hw.arch(isHost: isHost), cpuModel: hw.cpuModel(),
                                packages: hw.packageCount(), numaNodes: numa, cores: hw.cores(numa: numa),
                                gpus: found.gpus, nvlinkBandwidth: hw.nvlinkBandwidth(found))
        }
        if isHost {
            let merged = NVMLProbe.merge(NVMLProbe.devices(), into: topology.gpus)
            topology.nvlinkBandwidth = padded(topology.nvlinkBandwidth, to: merged.count)
            topology.gpus = merged
        }
        return topology
    }

    /// Loads a topology, runs `body` on it and destroys it before returning.
    static func withHwloc<T>(_ source: TopologySource, _ body: (HwlocTopology) -> T) throws(TopologyError) -> T {
        let hw = try HwlocTopology(source)
        return withExtendedLifetime(hw) { body(hw) }
    }

    /// Grows a square matrix with zero rows/columns for GPUs appended after it was built.
    static func padded(_ matrix: [[Int64]]?, to n: Int) -> [[Int64]]? {
        guard var m = matrix, m.count < n else { return matrix }
        for i in m.indices { m[i] += [Int64](repeating: 0, count: n - m[i].count) }
        m += [[Int64]](repeating: [Int64](repeating: 0, count: n), count: n - m.count)
        return m
    }
}
