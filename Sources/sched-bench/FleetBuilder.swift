import SchedCore

/// Builds the emulated fleet: `NodeTopology` values written in code, one fresh value per node
/// (as schedd gets them by decoding each agent's registration), each passed through a
/// `NodeClassRegistry` as schedd does, so nodes of one kind share their class and core arrays
/// and the memory figure is what schedd would hold.
enum FleetBuilder {
    static let gib: Int64 = 1 << 30
    /// Trays per rack in a Vera Rubin NVL rack.
    static let traysPerRack = 18

    /// One Vera Rubin compute tray: 2 Vera CPUs (one package and one NUMA node each), 88 cores per
    /// CPU with 2 threads each (352 PUs), one L3 per CPU, 960 GiB per NUMA node, and 4 Rubin GPUs
    /// with 288 GiB each, 2 local to each NUMA node.
    ///
    /// PU numbering follows Linux on SMT machines: the first threads of all 176 cores are 0-175,
    /// the second threads 176-351, so NUMA node 0 holds PUs 0-87,176-263.
    static func veraRubinTray(serial: Int) -> NodeTopology {
        let cpus = 2, coresPerCPU = 88, threads = 2
        let totalCores = cpus * coresPerCPU
        var cores: [CoreInfo] = []
        cores.reserveCapacity(totalCores)
        for c in 0..<totalCores {
            let cpu = c / coresPerCPU
            var pus = CPUSet()
            for t in 0..<threads { pus.insert(c + t * totalCores) }
            cores.append(CoreInfo(id: c, pus: pus, numa: cpu, l3: cpu, package: cpu))
        }
        var numa: [NUMANodeInfo] = []
        for cpu in 0..<cpus {
            var set = CPUSet()
            for c in cores where c.numa == cpu { set.formUnion(c.pus) }
            numa.append(NUMANodeInfo(id: cpu, memoryBytes: 960 * gib, cpus: set))
        }
        var gpus: [GPUInfo] = []
        for g in 0..<4 {
            let local = g / 2
            gpus.append(GPUInfo(index: g, name: "cuda\(g)", vendor: "NVIDIA", model: "NVIDIA Rubin",
                                memoryBytes: 288 * gib,
                                uuid: "GPU-\(hex(serial, 8))-\(hex(g, 4))-4e56-5255-\(hex(serial &* 4 &+ g, 12))",
                                pciBusID: "000\(local):\(hex(0x01 + g, 2)):00.0",
                                numaNodes: NUMASet([local]), cpus: numa[local].cpus))
        }
        return NodeTopology(arch: "aarch64", cpuModel: "NVIDIA Vera", packages: cpus,
                            numaNodes: numa, cores: cores, gpus: gpus)
    }

    /// One Graviton-class node: 1 package, 4 NUMA nodes of 48 cores, no SMT (192 PUs),
    /// one L3 for the package, 192 GiB per NUMA node, no GPUs.
    static func gravitonClass() -> NodeTopology {
        let numaCount = 4, coresPerNUMA = 48
        var cores: [CoreInfo] = []
        cores.reserveCapacity(numaCount * coresPerNUMA)
        for c in 0..<(numaCount * coresPerNUMA) {
            cores.append(CoreInfo(id: c, pus: CPUSet([c]), numa: c / coresPerNUMA, l3: 0, package: 0))
        }
        var numa: [NUMANodeInfo] = []
        for n in 0..<numaCount {
            numa.append(NUMANodeInfo(id: n, memoryBytes: 192 * gib,
                                     cpus: CPUSet((n * coresPerNUMA)..<((n + 1) * coresPerNUMA))))
        }
        return NodeTopology(arch: "aarch64", cpuModel: "Neoverse-V2", packages: 1, numaNodes: numa, cores: cores)
    }

    /// `nodes` nodes: the first half (rounded up) Vera Rubin trays named `vr-<rack>-<tray>`
    /// (18 trays per rack), the rest Graviton-class nodes named `gv-<i>`. Numbers are zero-padded
    /// so that the snapshot's order by id is also numeric order.
    static func build(nodes: Int) -> [NodeState] {
        let vrCount = (nodes + 1) / 2, gvCount = nodes - vrCount
        let rackWidth = max(2, String(max(0, vrCount - 1) / traysPerRack).count)
        let gvWidth = max(2, String(max(0, gvCount - 1)).count)
        var out: [NodeState] = []
        out.reserveCapacity(nodes)
        var registry = NodeClassRegistry()
        for i in 0..<vrCount {
            let id = "vr-\(pad(i / traysPerRack, rackWidth))-\(pad(i % traysPerRack, 2))"
            out.append(registry.node(id: NodeID(id), topology: veraRubinTray(serial: i),
                                     labels: [GangPlacer.domainLabel: "vr-\(pad(i / traysPerRack, rackWidth))"]))
        }
        for i in 0..<gvCount {
            out.append(registry.node(id: NodeID("gv-\(pad(i, gvWidth))"), topology: gravitonClass()))
        }
        return out
    }

    static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
    static func hex(_ n: Int, _ width: Int) -> String {
        let s = String(UInt64(truncatingIfNeeded: n), radix: 16)
        return s.count >= width ? String(s.suffix(width)) : String(repeating: "0", count: width - s.count) + s
    }
}
