import Testing
import SchedCore
import SchedTestSupport

/// Picks on one node and applies the result, so a sequence of calls models successive tasks.
private func pickAndApply(_ request: ResourceRequest, _ node: inout NodeState,
                          sourceLocation: SourceLocation = #_sourceLocation) throws -> Assignment {
    let a = try #require(CPUAllocator.pick(request, on: node), sourceLocation: sourceLocation)
    #expect(node.canApply(a), sourceLocation: sourceLocation)
    node.apply(a)
    return a
}

private func use(_ node: inout NodeState, pus: [Int] = [], gpus: [Int] = [], memory: [NUMAMemory] = []) {
    node.apply(Assignment(node: node.id, pus: CPUSet(pus), numaNodes: NUMASet(), gpus: gpus, memory: memory))
}

@Suite("CPUAllocator.pick")
struct CPUAllocatorTests {
    // MARK: GPUs and their NUMA node

    @Test("GPUs and CPUs come from the NUMA node the GPUs hang off, not the best-fit NUMA node")
    func gpuLocality() throws {
        // NUMA 0: PUs 0-3,8-11, GPU 0.  NUMA 1: PUs 4-7,12-15, GPU 1.
        var n = TopologyFixture.node("n", TopologyFixture.make(numa: 2, coresPerNUMA: 4, threadsPerCore: 2, gpusPerNUMA: 1))
        use(&n, pus: [0, 8, 1, 9], gpus: [0])   // NUMA 0: 4 PUs free, its GPU busy
        // A CPU-only task goes to the fuller NUMA node (best fit)...
        let cpuOnly = try #require(CPUAllocator.pick(ResourceRequest(cpus: 2), on: n))
        #expect(cpuOnly.numaNodes == NUMASet([0]))
        #expect(cpuOnly.pus == CPUSet([2, 10]))
        // ...a GPU task follows its GPU to NUMA 1.
        let withGPU = try #require(CPUAllocator.pick(ResourceRequest(cpus: 2, gpus: 1), on: n))
        #expect(withGPU.gpus == [1])
        #expect(withGPU.numaNodes == NUMASet([1]))
        #expect(withGPU.pus == CPUSet([4, 12]))
        #expect(withGPU.node == "n")
    }

    @Test("GPU best fit: the NUMA node with the fewest free GPUs that still suffices")
    func gpuBestFit() throws {
        var n = TopologyFixture.node("n", TopologyFixture.make(numa: 2, coresPerNUMA: 4, threadsPerCore: 1, gpusPerNUMA: 2))
        use(&n, gpus: [0])
        let one = try pickAndApply(ResourceRequest(cpus: 1, gpus: 1), &n)
        #expect(one.gpus == [1])
        #expect(one.numaNodes == NUMASet([0]))
        let two = try pickAndApply(ResourceRequest(cpus: 1, gpus: 2), &n)
        #expect(two.gpus == [2, 3])
        #expect(two.numaNodes == NUMASet([1]))
        #expect(CPUAllocator.pick(ResourceRequest(cpus: 1, gpus: 1), on: n) == nil)
    }

    @Test("a GPU NUMA node without enough free PUs is skipped for one that has them")
    func gpuNodeNeedsOwnPUs() throws {
        var n = TopologyFixture.node("n", TopologyFixture.make(numa: 2, coresPerNUMA: 4, threadsPerCore: 1, gpusPerNUMA: 1))
        use(&n, pus: [0, 1, 2])   // NUMA 0 has 1 free PU
        let a = try #require(CPUAllocator.pick(ResourceRequest(cpus: 2, gpus: 1), on: n))
        #expect(a.gpus == [1])
        #expect(a.pus == CPUSet([4, 5]))
        #expect(a.numaNodes == NUMASet([1]))
    }

    @Test("DGX-2: four 4-GPU tasks fill socket 0's GPUs first, then socket 1's, each with local CPUs")
    func dgx2FourByFour() throws {
        var n = TopologyFixture.node("dgx2", TopologyFixture.dgx2())
        let expected: [([Int], [Int], Int)] = [
            ([0, 1, 2, 3], [0, 1, 48, 49], 0),
            ([4, 5, 6, 7], [2, 3, 50, 51], 0),
            ([8, 9, 10, 11], [24, 25, 72, 73], 1),
            ([12, 13, 14, 15], [26, 27, 74, 75], 1),
        ]
        for (gpus, pus, numa) in expected {
            let a = try pickAndApply(ResourceRequest(cpus: 4, gpus: 4), &n)
            #expect(a.gpus == gpus)
            #expect(a.pus == CPUSet(pus))
            #expect(a.numaNodes == NUMASet([numa]))
        }
        #expect(CPUAllocator.pick(ResourceRequest(cpus: 1, gpus: 1), on: n) == nil)
        #expect(Placer().check(ResourceRequest(cpus: 1, gpus: 1), on: n) == .failure(.tooFewGPUs))
    }

    @Test("DGX-2: all 16 GPUs span both sockets; the CPUs stay on the first GPU NUMA node")
    func dgx2AllGPUs() throws {
        let n = TopologyFixture.node("dgx2", TopologyFixture.dgx2())
        let a = try #require(CPUAllocator.pick(ResourceRequest(cpus: 4, memoryBytes: 100 * GiB, gpus: 16), on: n))
        #expect(a.gpus == Array(0..<16))
        #expect(a.pus == CPUSet([0, 1, 48, 49]))
        #expect(a.numaNodes == NUMASet([0]))
        #expect(a.memory == [NUMAMemory(numa: 0, bytes: 100 * GiB)])
    }

    @Test("DGX-2: a task larger than a socket spreads, the GPU's socket first")
    func dgx2Spread() throws {
        var n = TopologyFixture.node("dgx2", TopologyFixture.dgx2())
        use(&n, gpus: Array(0..<8))
        let a = try #require(CPUAllocator.pick(ResourceRequest(cpus: 50, gpus: 1), on: n))
        #expect(a.gpus == [8])
        #expect(a.numaNodes == NUMASet([0, 1]))
        let socket1 = n.pus(ofNUMA: 1)
        #expect(socket1.isSubset(of: a.pus))               // all 48 PUs of socket 1
        #expect(a.pus.subtracting(socket1) == CPUSet([0, 48]))   // + one whole core of socket 0
    }

    // MARK: PUs within one NUMA node and one L3 group

    @Test("one L3 group holds the task when it can (best fit); otherwise the groups with most free")
    func l3BestFit() throws {
        // One NUMA node, 8 cores × 1 thread; L3 group 0 = PUs 0-3, group 1 = PUs 4-7.
        var n = TopologyFixture.node("n", TopologyFixture.make(numa: 1, coresPerNUMA: 8, threadsPerCore: 1, l3PerNUMA: 2))
        #expect(try pickAndApply(ResourceRequest(cpus: 3), &n).pus == CPUSet([0, 1, 2]))
        #expect(try pickAndApply(ResourceRequest(cpus: 2), &n).pus == CPUSet([4, 5]))   // group 0 has 1 left
        #expect(try pickAndApply(ResourceRequest(cpus: 1), &n).pus == CPUSet([3]))      // best fit: group 0's last
        #expect(try pickAndApply(ResourceRequest(cpus: 2), &n).pus == CPUSet([6, 7]))
        #expect(CPUAllocator.pick(ResourceRequest(cpus: 1), on: n) == nil)
    }

    @Test("a task too big for one L3 group fills the freest group first")
    func l3Spread() throws {
        var n = TopologyFixture.node("n", TopologyFixture.make(numa: 1, coresPerNUMA: 8, threadsPerCore: 1, l3PerNUMA: 2))
        #expect(CPUAllocator.pick(ResourceRequest(cpus: 6), on: n)?.pus == CPUSet([0, 1, 2, 3, 4, 5]))
        use(&n, pus: [0])
        // group 0: 3 free, group 1: 4 free
        #expect(CPUAllocator.pick(ResourceRequest(cpus: 4), on: n)?.pus == CPUSet([4, 5, 6, 7]))
        #expect(CPUAllocator.pick(ResourceRequest(cpus: 3), on: n)?.pus == CPUSet([1, 2, 3]))
        #expect(CPUAllocator.pick(ResourceRequest(cpus: 6), on: n)?.pus == CPUSet([4, 5, 6, 7, 1, 2]))
    }

    @Test("NUMA best fit: the NUMA node with the fewest free PUs that suffice")
    func numaBestFit() throws {
        // NUMA 0: PUs 0-3, NUMA 1: PUs 4-7.
        var n = TopologyFixture.node("n", TopologyFixture.make(numa: 2, coresPerNUMA: 4, threadsPerCore: 1))
        use(&n, pus: [4])
        let three = try #require(CPUAllocator.pick(ResourceRequest(cpus: 3), on: n))
        #expect(three.pus == CPUSet([5, 6, 7]))
        #expect(three.numaNodes == NUMASet([1]))
        let four = try #require(CPUAllocator.pick(ResourceRequest(cpus: 4), on: n))
        #expect(four.pus == CPUSet([0, 1, 2, 3]))
        #expect(four.numaNodes == NUMASet([0]))
    }

    @Test("a task bigger than any NUMA node spreads, most free NUMA node first")
    func numaSpread() throws {
        var n = TopologyFixture.node("n", TopologyFixture.make(numa: 2, coresPerNUMA: 4, threadsPerCore: 1))
        let fresh = try #require(CPUAllocator.pick(ResourceRequest(cpus: 6), on: n))
        #expect(fresh.pus == CPUSet([0, 1, 2, 3, 4, 5]))
        #expect(fresh.numaNodes == NUMASet([0, 1]))
        use(&n, pus: [0])
        let a = try #require(CPUAllocator.pick(ResourceRequest(cpus: 6), on: n))
        #expect(a.pus == CPUSet([4, 5, 6, 7, 1, 2]))
        #expect(a.numaNodes == NUMASet([0, 1]))
    }

    @Test("when spreading, the GPUs' NUMA node comes first even if it has fewer free PUs")
    func spreadPrefersGPUNode() throws {
        var n = TopologyFixture.node("n", TopologyFixture.make(numa: 2, coresPerNUMA: 4, threadsPerCore: 1, gpusPerNUMA: 1))
        use(&n, pus: [0])
        let a = try #require(CPUAllocator.pick(ResourceRequest(cpus: 6, gpus: 1), on: n))
        #expect(a.gpus == [0])
        #expect(a.pus == CPUSet([1, 2, 3, 4, 5, 6]))
        #expect(a.numaNodes == NUMASet([0, 1]))
    }

    // MARK: cores

    @Test("PUs are taken core by core")
    func coreByCore() throws {
        // One NUMA node, 4 cores × 2 threads: core c = PUs {c, c+4}.
        let n = TopologyFixture.node("n", TopologyFixture.make(numa: 1, coresPerNUMA: 4, threadsPerCore: 2))
        #expect(CPUAllocator.pick(ResourceRequest(cpus: 2), on: n)?.pus == CPUSet([0, 4]))
        #expect(CPUAllocator.pick(ResourceRequest(cpus: 3), on: n)?.pus == CPUSet([0, 4, 1]))
        #expect(CPUAllocator.pick(ResourceRequest(cpus: 4), on: n)?.pus == CPUSet([0, 4, 1, 5]))
    }

    @Test("fully free cores are preferred over half-used ones")
    func fullyFreeCoresFirst() throws {
        var n = TopologyFixture.node("n", TopologyFixture.make(numa: 1, coresPerNUMA: 4, threadsPerCore: 2))
        use(&n, pus: [0])   // core 0 half used
        #expect(CPUAllocator.pick(ResourceRequest(cpus: 1), on: n)?.pus == CPUSet([1]))
        #expect(CPUAllocator.pick(ResourceRequest(cpus: 2), on: n)?.pus == CPUSet([1, 5]))
        // Only when all fully free cores are taken does a task share core 0.
        #expect(CPUAllocator.pick(ResourceRequest(cpus: 7), on: n)?.pus == CPUSet([1, 2, 3, 4, 5, 6, 7]))
    }

    // MARK: memory

    @Test("memory comes from the chosen NUMA node")
    func memoryFromChosenNode() throws {
        let n = TopologyFixture.node("n", TopologyFixture.make(numa: 2, coresPerNUMA: 4, threadsPerCore: 1, memoryPerNUMA: 64 * GiB))
        let a = try #require(CPUAllocator.pick(ResourceRequest(cpus: 2, memoryBytes: 10 * GiB), on: n))
        #expect(a.pus == CPUSet([0, 1]))
        #expect(a.memory == [NUMAMemory(numa: 0, bytes: 10 * GiB)])
        #expect(a.numaNodes == NUMASet([0]))
        #expect(a.memoryBytes == 10 * GiB)
    }

    @Test("a NUMA node without the memory is passed over even if it is the PU best fit")
    func memoryDecidesNUMANode() throws {
        var n = TopologyFixture.node("n", TopologyFixture.make(numa: 2, coresPerNUMA: 4, threadsPerCore: 1, memoryPerNUMA: 64 * GiB))
        use(&n, pus: [0], memory: [NUMAMemory(numa: 0, bytes: 60 * GiB)])
        #expect(CPUAllocator.pick(ResourceRequest(cpus: 2), on: n)?.numaNodes == NUMASet([0]))
        let a = try #require(CPUAllocator.pick(ResourceRequest(cpus: 2, memoryBytes: 10 * GiB), on: n))
        #expect(a.pus == CPUSet([4, 5]))
        #expect(a.numaNodes == NUMASet([1]))
        #expect(a.memory == [NUMAMemory(numa: 1, bytes: 10 * GiB)])
    }

    @Test("memory bigger than one NUMA node spills over, the PUs' node first, and lists both nodes")
    func memorySpills() throws {
        let n = TopologyFixture.node("n", TopologyFixture.make(numa: 2, coresPerNUMA: 4, threadsPerCore: 1, memoryPerNUMA: 64 * GiB))
        let a = try #require(CPUAllocator.pick(ResourceRequest(cpus: 2, memoryBytes: 100 * GiB), on: n))
        #expect(a.pus == CPUSet([0, 1]))
        #expect(a.memory == [NUMAMemory(numa: 0, bytes: 64 * GiB), NUMAMemory(numa: 1, bytes: 36 * GiB)])
        #expect(a.numaNodes == NUMASet([0, 1]))
    }

    @Test("no memory requested: none reserved, still bound to the PUs' NUMA node")
    func noMemory() throws {
        let n = TopologyFixture.node("n", TopologyFixture.make(numa: 2, coresPerNUMA: 4, threadsPerCore: 1))
        let a = try #require(CPUAllocator.pick(ResourceRequest(cpus: 1), on: n))
        #expect(a.memory.isEmpty)
        #expect(a.numaNodes == NUMASet([0]))
    }

    // MARK: CPU-less NUMA nodes

    @Test("CPU-less (GPU memory) NUMA nodes never give CPUs or job memory")
    func cpuLessNodes() throws {
        let n = TopologyFixture.node("gh", TopologyFixture.withGPUMemoryNodes())
        let all = try #require(CPUAllocator.pick(ResourceRequest(cpus: 4, memoryBytes: 16 * GiB, gpus: 2), on: n))
        #expect(all.pus == CPUSet([0, 1, 2, 3]))
        #expect(all.gpus == [0, 1])
        #expect(all.memory == [NUMAMemory(numa: 0, bytes: 16 * GiB)])
        #expect(all.numaNodes == NUMASet([0]))

        let one = try #require(CPUAllocator.pick(ResourceRequest(cpus: 1, memoryBytes: GiB, gpus: 1), on: n))
        #expect(one.gpus == [0])
        #expect(one.numaNodes == NUMASet([0]))
        #expect(one.memory == [NUMAMemory(numa: 0, bytes: GiB)])

        // 160 GiB of GPU memory is free, but only 16 GiB is job memory.
        #expect(CPUAllocator.pick(ResourceRequest(cpus: 1, memoryBytes: 16 * GiB + 1), on: n) == nil)
        #expect(Placer().check(ResourceRequest(cpus: 1, memoryBytes: 16 * GiB + 1), on: n) == .failure(.tooLittleMemory))
    }

    @Test("CPU-less nodes are skipped when memory spills")
    func cpuLessNodesSkippedOnSpill() throws {
        var n = TopologyFixture.node("gh", TopologyFixture.withGPUMemoryNodes())
        use(&n, memory: [NUMAMemory(numa: 0, bytes: 10 * GiB)])
        #expect(CPUAllocator.pick(ResourceRequest(cpus: 1, memoryBytes: 6 * GiB), on: n)?.memory == [NUMAMemory(numa: 0, bytes: 6 * GiB)])
        #expect(CPUAllocator.pick(ResourceRequest(cpus: 1, memoryBytes: 6 * GiB + 1), on: n) == nil)
    }

    // MARK: Kunpeng-like (4 NUMA nodes, clusters of 4 cores sharing an L3 tag)

    @Test("Kunpeng: tasks pack into one cluster, then one NUMA node, then spread")
    func kunpeng() throws {
        var n = TopologyFixture.node("kp", TopologyFixture.kunpeng())
        let steps: [(cpus: Int, pus: [Int], numa: [Int])] = [
            (4, [0, 1, 2, 3], [0]),                            // one cluster
            (4, [4, 5, 6, 7], [0]),                            // NUMA 0 is the best fit, its other cluster
            (6, [8, 9, 10, 11, 12, 13], [1]),                  // fits NUMA 1, not one cluster
            (2, [14, 15], [1]),                                // best fit: NUMA 1's last two
            (9, [16, 17, 18, 19, 20, 21, 22, 23, 24], [2, 3]), // bigger than a NUMA node
        ]
        for s in steps {
            let a = try pickAndApply(ResourceRequest(cpus: s.cpus, arch: "arm64"), &n)
            #expect(a.pus == CPUSet(s.pus), "cpus \(s.cpus)")
            #expect(a.numaNodes == NUMASet(s.numa), "cpus \(s.cpus)")
        }
        #expect(n.freePUs == CPUSet(25..<32))
    }

    @Test("Kunpeng: the placer accepts arm64/aarch64 and refuses x86_64")
    func kunpengArch() {
        let n = TopologyFixture.node("kp", TopologyFixture.kunpeng())
        #expect(Placer().check(ResourceRequest(arch: "arm64"), on: n).isSuccess)
        #expect(Placer().check(ResourceRequest(arch: "aarch64"), on: n).isSuccess)
        #expect(Placer().check(ResourceRequest(arch: "amd64"), on: n) == .failure(.wrongArch))
        #expect(Placer().check(ResourceRequest(cpus: 33), on: n) == .failure(.tooFewCPUs))
    }

    @Test("not enough free PUs: nil")
    func notEnough() {
        var n = TopologyFixture.node("n", TopologyFixture.make(numa: 2, coresPerNUMA: 2, threadsPerCore: 1))
        #expect(CPUAllocator.pick(ResourceRequest(cpus: 5), on: n) == nil)
        use(&n, pus: [0])
        #expect(CPUAllocator.pick(ResourceRequest(cpus: 4), on: n) == nil)
        #expect(CPUAllocator.pick(ResourceRequest(cpus: 3), on: n)?.pus == CPUSet([1, 2, 3]))
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
