import Testing
import SchedCore
import SchedTestSupport

@Suite("NodeState apply / release / canApply")
struct NodeStateTests {
    /// Two NUMA nodes with OS ids 0 and 2 (position 1 holds OS id 2), plus a CPU-less node 3.
    static func sparseNUMA() -> NodeTopology {
        let cores = [
            CoreInfo(id: 0, pus: CPUSet([0, 4]), numa: 0, l3: 0),
            CoreInfo(id: 1, pus: CPUSet([1, 5]), numa: 0, l3: 0),
            CoreInfo(id: 2, pus: CPUSet([2, 6]), numa: 2, l3: 1),
            CoreInfo(id: 3, pus: CPUSet([3, 7]), numa: 2, l3: 1),
        ]
        let numa = [
            NUMANodeInfo(id: 0, memoryBytes: 8 * GiB, cpus: CPUSet([0, 1, 4, 5])),
            NUMANodeInfo(id: 2, memoryBytes: 4 * GiB, cpus: CPUSet([2, 3, 6, 7])),
            NUMANodeInfo(id: 3, memoryBytes: 16 * GiB, cpus: CPUSet()),
        ]
        let gpus = [
            GPUInfo(index: 0, name: "cuda0", model: "Tesla T4", numaNodes: NUMASet([0])),
            GPUInfo(index: 1, name: "cuda1", model: "Tesla T4", numaNodes: NUMASet([2])),
        ]
        return NodeTopology(arch: "x86_64", packages: 1, numaNodes: numa, cores: cores, gpus: gpus)
    }

    @Test func freshNodeIsEmpty() {
        let n = NodeState(id: "n", topology: Self.sparseNUMA())
        #expect(n.schedulable)
        #expect(n.usedPUs.isEmpty)
        #expect(n.usedGPUs.isEmpty)
        #expect(n.usedMemory == [0, 0, 0])
        #expect(n.freePUs == CPUSet(0..<8))
        #expect(n.freePUCount == 8)
        #expect(n.freeGPUCount == 2)
        // The CPU-less node's 16 GiB is not job memory.
        #expect(n.freeMemoryBytes == 12 * GiB)
        #expect(n.topology.cpuMemoryBytes == 12 * GiB)
    }

    @Test("apply marks PUs, GPUs and per-NUMA memory (by OS id → position)")
    func applyMarksResources() {
        var n = NodeState(id: "n", topology: Self.sparseNUMA())
        let a = Assignment(node: "n", pus: CPUSet([2, 6]), numaNodes: NUMASet([2]), gpus: [1],
                           memory: [NUMAMemory(numa: 2, bytes: 3 * GiB)])
        #expect(n.canApply(a))
        n.apply(a)
        #expect(n.usedPUs == CPUSet([2, 6]))
        #expect(n.usedGPUs == IndexSet64([1]))
        #expect(n.usedMemory == [0, 3 * GiB, 0])
        #expect(n.freePUCount == 6)
        #expect(n.freePUs == CPUSet([0, 1, 3, 4, 5, 7]))
        #expect(n.freeGPUCount == 1)
        #expect(n.freeMemory(numaPosition: 1) == 1 * GiB)
        #expect(n.freeMemoryBytes == 9 * GiB)
    }

    @Test("release returns exactly what apply took")
    func releaseUndoesApply() {
        let fresh = NodeState(id: "n", topology: Self.sparseNUMA())
        var n = fresh
        let a = Assignment(node: "n", pus: CPUSet([0, 4]), numaNodes: NUMASet([0]), gpus: [0],
                           memory: [NUMAMemory(numa: 0, bytes: 2 * GiB)])
        let b = Assignment(node: "n", pus: CPUSet([1, 3]), numaNodes: NUMASet([0, 2]), gpus: [1],
                           memory: [NUMAMemory(numa: 0, bytes: 1 * GiB), NUMAMemory(numa: 2, bytes: 1 * GiB)])
        n.apply(a)
        n.apply(b)
        #expect(n.usedPUs == CPUSet([0, 1, 3, 4]))
        #expect(n.usedMemory == [3 * GiB, 1 * GiB, 0])
        n.release(a)
        #expect(n.usedPUs == CPUSet([1, 3]))
        #expect(n.usedGPUs == IndexSet64([1]))
        #expect(n.usedMemory == [1 * GiB, 1 * GiB, 0])
        n.release(b)
        #expect(n == fresh)
    }

    @Test("release never drives memory negative")
    func releaseClampsMemory() {
        var n = NodeState(id: "n", topology: Self.sparseNUMA())
        n.release(Assignment(node: "n", pus: CPUSet(), numaNodes: NUMASet([0]), memory: [NUMAMemory(numa: 0, bytes: GiB)]))
        #expect(n.usedMemory == [0, 0, 0])
        #expect(n.freeMemoryBytes == 12 * GiB)
    }

    @Test("canApply refuses conflicts and out-of-node resources", arguments: [
        ("PU already used", Assignment(node: "n", pus: CPUSet([0]), numaNodes: NUMASet([0]))),
        ("PU not on the node", Assignment(node: "n", pus: CPUSet([8]), numaNodes: NUMASet([0]))),
        ("GPU already used", Assignment(node: "n", pus: CPUSet([1]), numaNodes: NUMASet([0]), gpus: [0])),
        ("GPU index past the end", Assignment(node: "n", pus: CPUSet([1]), numaNodes: NUMASet([0]), gpus: [2])),
        ("memory over the NUMA node's capacity",
         Assignment(node: "n", pus: CPUSet([2]), numaNodes: NUMASet([2]), memory: [NUMAMemory(numa: 2, bytes: 4 * GiB + 1)])),
        ("memory over what is left",
         Assignment(node: "n", pus: CPUSet([1]), numaNodes: NUMASet([0]), memory: [NUMAMemory(numa: 0, bytes: 7 * GiB)])),
        ("memory on an unknown NUMA node",
         Assignment(node: "n", pus: CPUSet([1]), numaNodes: NUMASet([1]), memory: [NUMAMemory(numa: 1, bytes: 1)])),
    ])
    func canApplyRefuses(_ what: String, _ b: Assignment) {
        var n = NodeState(id: "n", topology: Self.sparseNUMA())
        // Holds PU 0, GPU 0 and 2 GiB of NUMA 0.
        n.apply(Assignment(node: "n", pus: CPUSet([0]), numaNodes: NUMASet([0]), gpus: [0],
                           memory: [NUMAMemory(numa: 0, bytes: 2 * GiB)]))
        #expect(!n.canApply(b), "\(what)")
    }

    @Test("canApply refuses a negative GPU index (apply would trap on it)")
    func canApplyRefusesNegativeGPU() {
        let n = NodeState(id: "n", topology: Self.sparseNUMA())
        #expect(!n.canApply(Assignment(node: "n", pus: CPUSet([1]), numaNodes: NUMASet([0]), gpus: [-1])))
    }

    @Test("canApply refuses a negative memory reservation")
    func canApplyRefusesNegativeMemory() {
        let n = NodeState(id: "n", topology: Self.sparseNUMA())
        #expect(!n.canApply(Assignment(node: "n", pus: CPUSet([1]), numaNodes: NUMASet([0]), memory: [NUMAMemory(numa: 0, bytes: -GiB)])))
    }

    @Test("canApply accepts an assignment that exactly fills what is left")
    func canApplyExactFill() {
        var n = NodeState(id: "n", topology: Self.sparseNUMA())
        n.apply(Assignment(node: "n", pus: CPUSet([0]), numaNodes: NUMASet([0]), gpus: [0],
                           memory: [NUMAMemory(numa: 0, bytes: 2 * GiB)]))
        let rest = Assignment(node: "n", pus: CPUSet([1, 2, 3, 4, 5, 6, 7]), numaNodes: NUMASet([0, 2]), gpus: [1],
                              memory: [NUMAMemory(numa: 0, bytes: 6 * GiB), NUMAMemory(numa: 2, bytes: 4 * GiB)])
        #expect(n.canApply(rest))
        n.apply(rest)
        #expect(n.freePUCount == 0)
        #expect(n.freeGPUCount == 0)
        #expect(n.freeMemoryBytes == 0)
        #expect(!n.canApply(Assignment(node: "n", pus: CPUSet(), numaNodes: NUMASet([0]), memory: [NUMAMemory(numa: 0, bytes: 1)])))
    }

    @Test("snapshot sorts nodes by id")
    func snapshotSortsById() {
        let t = TopologyFixture.make(numa: 1, coresPerNUMA: 1, threadsPerCore: 1)
        let s = ClusterSnapshot(nodes: ["c", "a", "b10", "b2"].map { TopologyFixture.node($0, t) })
        #expect(s.nodes.map(\.id.rawValue) == ["a", "b10", "b2", "c"])
    }
}
