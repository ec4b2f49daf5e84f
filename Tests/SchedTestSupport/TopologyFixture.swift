import SchedCore

/// Builds synthetic node topologies for tests.
///
/// Numbering follows Linux on a typical x86 box: PU OS indices first enumerate the first thread of
/// every core (core `c` gets PU `c`), then the second thread (`c + totalCores`), and so on. Cores get
/// hwloc logical ids 0, 1, 2, ... in NUMA order; L3 groups are numbered globally; NUMA OS ids are
/// 0..<numa. GPUs hang off NUMA nodes in order (`gpusPerNUMA` on each).
public enum TopologyFixture {
    public static func make(arch: String = "x86_64",
                            numa: Int = 2,
                            coresPerNUMA: Int = 4,
                            threadsPerCore: Int = 2,
                            l3PerNUMA: Int = 1,
                            gpusPerNUMA: Int = 0,
                            gpuModel: String = "Tesla V100-SXM2-32GB",
                            memoryPerNUMA: Int64 = 64 * GiB,
                            packages: Int? = nil) -> NodeTopology {
        precondition(coresPerNUMA % l3PerNUMA == 0, "cores must split evenly over L3 groups")
        let totalCores = numa * coresPerNUMA
        let coresPerL3 = coresPerNUMA / l3PerNUMA
        var cores: [CoreInfo] = []
        var numaNodes: [NUMANodeInfo] = []
        var gpus: [GPUInfo] = []
        for n in 0..<numa {
            var numaPUs = CPUSet()
            for k in 0..<coresPerNUMA {
                let c = n * coresPerNUMA + k
                let pus = CPUSet((0..<threadsPerCore).map { c + $0 * totalCores })
                numaPUs.formUnion(pus)
                cores.append(CoreInfo(id: c, pus: pus, numa: n, l3: n * l3PerNUMA + k / coresPerL3, package: n))
            }
            numaNodes.append(NUMANodeInfo(id: n, memoryBytes: memoryPerNUMA, cpus: numaPUs))
            for _ in 0..<gpusPerNUMA {
                let i = gpus.count
                gpus.append(GPUInfo(index: i, name: "cuda\(i)", model: gpuModel, memoryBytes: 32 * GiB,
                                    numaNodes: NUMASet([n]), cpus: numaPUs))
            }
        }
        return NodeTopology(arch: arch, packages: packages ?? numa, numaNodes: numaNodes, cores: cores, gpus: gpus)
    }

    /// An NVIDIA DGX-2-like node: 2 sockets × 24 cores × 2 threads (Xeon Platinum 8168), one NUMA
    /// node and one L3 per socket, 768 GiB per socket, 16 Tesla V100-SXM3-32GB, 8 behind each socket.
    /// PUs 0-23 and 48-71 are socket 0, 24-47 and 72-95 socket 1.
    public static func dgx2() -> NodeTopology {
        var cores: [CoreInfo] = []
        var numaNodes: [NUMANodeInfo] = []
        var gpus: [GPUInfo] = []
        for s in 0..<2 {
            var pus = CPUSet()
            for k in 0..<24 {
                let c = s * 24 + k
                let core = CPUSet([c, c + 48])
                pus.formUnion(core)
                cores.append(CoreInfo(id: c, pus: core, numa: s, l3: s, package: s))
            }
            numaNodes.append(NUMANodeInfo(id: s, memoryBytes: 768 * GiB, cpus: pus))
            for _ in 0..<8 {
                let i = gpus.count
                gpus.append(GPUInfo(index: i, name: "cuda\(i)", model: "Tesla V100-SXM3-32GB", memoryBytes: 32 * GiB,
                                    pciBusID: "0000:\(String(0x34 + i * 2, radix: 16)):00.0",
                                    numaNodes: NUMASet([s]), cpus: pus))
            }
        }
        return NodeTopology(arch: "x86_64", cpuModel: "Intel(R) Xeon(R) Platinum 8168 CPU @ 2.70GHz", packages: 2,
                            numaNodes: numaNodes, cores: cores, gpus: gpus)
    }

    /// A Kunpeng 920-like node, scaled down: aarch64, 2 packages, 2 NUMA nodes per package (4 in
    /// all), one thread per core, 8 cores per NUMA node split into two 4-core CPU clusters that each
    /// share an L3 tag (l3 groups 0..7), 32 GiB per NUMA node, no GPUs. PUs are numbered 0-31 in order.
    public static func kunpeng() -> NodeTopology {
        var cores: [CoreInfo] = []
        var numaNodes: [NUMANodeInfo] = []
        for n in 0..<4 {
            var pus = CPUSet()
            for k in 0..<8 {
                let c = n * 8 + k
                pus.insert(c)
                cores.append(CoreInfo(id: c, pus: CPUSet([c]), numa: n, l3: n * 2 + k / 4, package: n / 2))
            }
            numaNodes.append(NUMANodeInfo(id: n, memoryBytes: 32 * GiB, cpus: pus))
        }
        return NodeTopology(arch: "aarch64", cpuModel: "Kunpeng 920", packages: 2, numaNodes: numaNodes, cores: cores)
    }

    /// A GH200/DGX-A100-style node with CPU-less GPU-memory NUMA nodes: NUMA 0 has 4 cores × 1 thread
    /// and 16 GiB; NUMA 1 and 2 have no CPUs and 80 GiB each (the GPUs' HBM); one H100 per
    /// memory node, local to NUMA 0 for placement but listing its memory node too.
    public static func withGPUMemoryNodes() -> NodeTopology {
        let pus = CPUSet(0..<4)
        let cores = (0..<4).map { CoreInfo(id: $0, pus: CPUSet([$0]), numa: 0, l3: 0) }
        let numa = [
            NUMANodeInfo(id: 0, memoryBytes: 16 * GiB, cpus: pus),
            NUMANodeInfo(id: 1, memoryBytes: 80 * GiB, cpus: CPUSet()),
            NUMANodeInfo(id: 2, memoryBytes: 80 * GiB, cpus: CPUSet()),
        ]
        let gpus = [
            GPUInfo(index: 0, name: "cuda0", model: "NVIDIA H100 80GB HBM3", memoryBytes: 80 * GiB, numaNodes: NUMASet([1]), cpus: pus),
            GPUInfo(index: 1, name: "cuda1", model: "NVIDIA H100 80GB HBM3", memoryBytes: 80 * GiB, numaNodes: NUMASet([2]), cpus: pus),
        ]
        return NodeTopology(arch: "aarch64", packages: 1, numaNodes: numa, cores: cores, gpus: gpus)
    }

    /// A node of that topology with nothing in use.
    public static func node(_ id: String, _ topology: NodeTopology) -> NodeState {
        NodeState(id: NodeID(id), topology: topology)
    }

    /// A node whose GPU `g` has `used[g]` thousandths in use (0 free, 1000 whole), as GPU-sharing
    /// tasks holding no PUs would.
    public static func node(_ id: String, _ topology: NodeTopology, gpuMilliUsed used: [Int]) -> NodeState {
        var n = node(id, topology)
        for (g, m) in used.enumerated() where m > 0 {
            n.apply(Assignment(node: n.id, pus: CPUSet(), numaNodes: NUMASet([0]), gpus: [g], gpuMilli: m == 1000 ? nil : m))
        }
        return n
    }
}

/// One NUMA node (OS id 0) with `cores` cores of `threads` PUs each; core `c` has PUs
/// `c*threads ..< (c+1)*threads`. GPUs, when asked for, are Tesla T4s local to NUMA node 0.
/// The node the scheduler and control-plane tests register.
public func smallTopology(cores: Int = 2, threads: Int = 2, memory: Int64 = 8 * GiB, gpus: Int = 0,
                          arch: String = "x86_64") -> NodeTopology {
    var coreInfos: [CoreInfo] = []
    var all = CPUSet()
    for c in 0..<cores {
        let pus = CPUSet((0..<threads).map { c * threads + $0 })
        all.formUnion(pus)
        coreInfos.append(CoreInfo(id: c, pus: pus, numa: 0, l3: 0, package: 0))
    }
    let gpuInfos = (0..<gpus).map {
        GPUInfo(index: $0, name: "cuda\($0)", model: "Tesla T4", memoryBytes: 16 * GiB, numaNodes: NUMASet([0]), cpus: all)
    }
    return NodeTopology(arch: arch, cpuModel: "Test CPU", packages: 1,
                        numaNodes: [NUMANodeInfo(id: 0, memoryBytes: memory, cpus: all)],
                        cores: coreInfos, gpus: gpuInfos)
}
