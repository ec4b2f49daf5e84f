/// What an agent discovered about its node: the hardware the core places onto.
///
/// Built once by `HostTopology` from hwloc (a live machine or an XML file) and sent to schedd in
/// the agent's registration. All numbers are hwloc OS indices, so they can be handed to the kernel.
public struct NodeTopology: Sendable, Codable, Hashable {
    /// CPU architecture as `uname -m` spells it: `x86_64`, `aarch64`, `ppc64le`.
    public var arch: String
    /// CPU model string when known (`Intel(R) Xeon(R) ...`, `Kunpeng 920`).
    public var cpuModel: String?
    /// Number of processor packages (sockets).
    public var packages: Int
    /// NUMA nodes, ascending by OS index. GPU-memory nodes have an empty `cpus` set.
    public var numaNodes: [NUMANodeInfo]
    /// Physical cores, in hwloc's logical order (locality order).
    public var cores: [CoreInfo]
    /// GPUs, one entry per physical device, in discovery order; `GPUInfo.index` is the position.
    public var gpus: [GPUInfo]
    /// NVLink bandwidth between GPUs in MB/s (`nvlinkBandwidth[i][j]`), when hwloc has a
    /// `NVLinkBandwidth` distance matrix; indices follow `gpus`.
    public var nvlinkBandwidth: [[Int64]]?

    public init(arch: String, cpuModel: String? = nil, packages: Int, numaNodes: [NUMANodeInfo],
                cores: [CoreInfo], gpus: [GPUInfo] = [], nvlinkBandwidth: [[Int64]]? = nil) {
        self.arch = arch
        self.cpuModel = cpuModel
        self.packages = packages
        self.numaNodes = numaNodes
        self.cores = cores
        self.gpus = gpus
        self.nvlinkBandwidth = nvlinkBandwidth
    }

    /// Every PU of the node.
    public var allPUs: CPUSet { cores.reduce(into: CPUSet()) { $0.formUnion($1.pus) } }
    /// Number of PUs (hardware threads).
    public var puCount: Int { cores.reduce(0) { $0 + $1.pus.count } }
    /// Memory of the NUMA nodes that have CPUs (GPU-memory nodes are not job memory).
    public var cpuMemoryBytes: Int64 { numaNodes.filter { !$0.cpus.isEmpty }.reduce(0) { $0 + $1.memoryBytes } }
    /// The position of a NUMA node in `numaNodes`, by OS index.
    public func numaPosition(ofOS id: Int) -> Int? { numaNodes.firstIndex { $0.id == id } }
}

/// One NUMA node: its memory and the PUs local to it.
public struct NUMANodeInfo: Sendable, Codable, Hashable {
    /// OS index (the number `numactl` and `Mems_allowed_list` use).
    public var id: Int
    /// Local memory in bytes.
    public var memoryBytes: Int64
    /// PUs local to this node; empty for CPU-less (GPU memory) nodes.
    public var cpus: CPUSet
    public init(id: Int, memoryBytes: Int64, cpus: CPUSet) {
        self.id = id
        self.memoryBytes = memoryBytes
        self.cpus = cpus
    }
}

/// One physical core and its hardware threads.
public struct CoreInfo: Sendable, Codable, Hashable {
    /// hwloc logical index of the core.
    public var id: Int
    /// PUs (hardware threads) of the core, by OS index.
    public var pus: CPUSet
    /// OS index of the NUMA node the core belongs to.
    public var numa: Int
    /// Logical index of the L3 cache (or the closest shared cache) above the core; -1 when none.
    public var l3: Int
    /// Logical index of the package.
    public var package: Int
    public init(id: Int, pus: CPUSet, numa: Int, l3: Int = -1, package: Int = 0) {
        self.id = id
        self.pus = pus
        self.numa = numa
        self.l3 = l3
        self.package = package
    }
}

/// One GPU and where it sits.
public struct GPUInfo: Sendable, Codable, Hashable {
    /// Position in `NodeTopology.gpus`; this is the number given to the task in CUDA_VISIBLE_DEVICES.
    public var index: Int
    /// hwloc OS-device name (`cuda0`, `nvml3`, `card1`), or `pci:<busid>` for a bare PCI device.
    public var name: String
    /// Vendor (`NVIDIA`, `AMD`, ...).
    public var vendor: String
    /// Model (`Tesla V100-SXM3-32GB`); empty when neither hwloc nor NVML knows it.
    public var model: String
    /// Device memory in bytes; 0 when unknown.
    public var memoryBytes: Int64
    /// UUID from NVML or hwloc when known.
    public var uuid: String?
    /// PCI bus id `dddd:bb:dd.f` when known.
    public var pciBusID: String?
    /// NUMA nodes local to the GPU (its non-I/O ancestor's nodeset); empty when unknown.
    public var numaNodes: NUMASet
    /// PUs local to the GPU.
    public var cpus: CPUSet
    public init(index: Int, name: String, vendor: String = "NVIDIA", model: String = "", memoryBytes: Int64 = 0,
                uuid: String? = nil, pciBusID: String? = nil, numaNodes: NUMASet = NUMASet(), cpus: CPUSet = CPUSet()) {
        self.index = index
        self.name = name
        self.vendor = vendor
        self.model = model
        self.memoryBytes = memoryBytes
        self.uuid = uuid
        self.pciBusID = pciBusID
        self.numaNodes = numaNodes
        self.cpus = cpus
    }
}
