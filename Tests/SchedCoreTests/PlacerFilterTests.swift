import Testing
import SchedCore
import SchedTestSupport

/// One node on its own, for filter tests.
private func decide(_ request: ResourceRequest, _ node: NodeState) -> PlacementDecision {
    Placer().place(request, in: ClusterSnapshot(nodes: [node]))
}

private func rejection(_ request: ResourceRequest, _ node: NodeState) -> RejectionReason? {
    switch Placer().check(request, on: node) {
    case .success: nil
    case .failure(let r): r
    }
}

/// A node whose NUMA node lists only PUs 0-1 although its cores hold PUs 0-7 (an inconsistent
/// topology): the totals pass every filter but no NUMA-aware pick can find the PUs.
private func inconsistentNode(_ id: String, gpuModel: String = "Tesla V100-SXM2-32GB") -> NodeState {
    let cores = (0..<8).map { CoreInfo(id: $0, pus: CPUSet([$0]), numa: 0, l3: 0) }
    let numa = [NUMANodeInfo(id: 0, memoryBytes: 64 * GiB, cpus: CPUSet([0, 1]))]
    let gpus = [GPUInfo(index: 0, name: "cuda0", model: gpuModel, numaNodes: NUMASet([0]))]
    return NodeState(id: NodeID(id), topology: NodeTopology(arch: "x86_64", packages: 1, numaNodes: numa, cores: cores, gpus: gpus))
}

@Suite("Placer filters")
struct PlacerFilterTests {
    static let gpuTopo = TopologyFixture.make(numa: 2, coresPerNUMA: 4, threadsPerCore: 2, l3PerNUMA: 2,
                                              gpusPerNUMA: 2, gpuModel: "Tesla V100-SXM2-32GB", memoryPerNUMA: 64 * GiB)

    @Test func feasibleNodeIsPlaced() throws {
        let d = decide(ResourceRequest(cpus: 2), TopologyFixture.node("n1", Self.gpuTopo))
        guard case .placed(let a, _, let e) = d else { Issue.record("not placed: \(d)"); return }
        #expect(a.node == "n1")
        #expect(a.pus.count == 2)
        #expect(e.nodesEvaluated == 1)
        #expect(e.nodesFeasible == 1)
        #expect(e.rejections.isEmpty)
        #expect(e.summary == "1/1 nodes available")
    }

    @Test func notReady() {
        let n = NodeState(id: "n1", topology: Self.gpuTopo, schedulable: false)
        #expect(rejection(ResourceRequest(), n) == .notReady)
    }

    @Test func draining() {
        let n = NodeState(id: "n1", topology: Self.gpuTopo, schedulable: false, unschedulableReason: .draining)
        #expect(rejection(ResourceRequest(), n) == .draining)
        // Not schedulable wins over every later filter.
        #expect(rejection(ResourceRequest(cpus: 1000, arch: "ppc64le"), n) == .draining)
    }

    @Test("architecture filter with aliases", arguments: [
        (String?.none, "x86_64", true),
        ("x86_64", "x86_64", true),
        ("amd64", "x86_64", true),
        ("AMD64", "x86_64", true),
        ("x86-64", "x86_64", true),
        ("x64", "x86_64", true),
        ("x86_64", "amd64", true),
        ("aarch64", "aarch64", true),
        ("arm64", "aarch64", true),
        ("ARM64", "aarch64", true),
        ("aarch64", "arm64", true),
        ("ppc64le", "ppc64le", true),
        ("arm64", "x86_64", false),
        ("amd64", "aarch64", false),
        ("x86_64", "aarch64", false),
        ("aarch64", "x86_64", false),
        ("ppc64le", "x86_64", false),
        ("ppc64", "ppc64le", false),
        ("riscv64", "x86_64", false),
    ])
    func arch(requested: String?, nodeArch: String, fits: Bool) {
        let n = TopologyFixture.node("n1", TopologyFixture.make(arch: nodeArch, numa: 1, coresPerNUMA: 2))
        #expect(rejection(ResourceRequest(arch: requested), n) == (fits ? nil : .wrongArch))
    }

    @Test("GPU model: case-insensitive substring", arguments: [
        ("V100", true), ("v100", true), ("SXM2", true), ("tesla v100-sxm2-32gb", true), ("", true),
        ("A100", false), ("T4", false), ("V100-PCIE", false),
    ])
    func gpuModel(model: String, fits: Bool) {
        let n = TopologyFixture.node("n1", Self.gpuTopo)
        #expect(rejection(ResourceRequest(gpus: 1, gpuModel: model), n) == (fits ? nil : .noGPUModel))
    }

    @Test("a GPU model only filters when GPUs are requested")
    func gpuModelWithoutGPUs() {
        let cpuOnly = TopologyFixture.node("n1", TopologyFixture.make(numa: 1, coresPerNUMA: 2))
        #expect(rejection(ResourceRequest(gpus: 0, gpuModel: "A100"), cpuOnly) == nil)
        #expect(rejection(ResourceRequest(gpus: 1, gpuModel: "A100"), cpuOnly) == .noGPUModel)
        #expect(rejection(ResourceRequest(gpus: 1), cpuOnly) == .tooFewGPUs)
    }

    @Test func tooFewCPUs() {
        var n = TopologyFixture.node("n1", Self.gpuTopo)   // 16 PUs
        #expect(rejection(ResourceRequest(cpus: 16), n) == nil)
        #expect(rejection(ResourceRequest(cpus: 17), n) == .tooFewCPUs)
        n.apply(Assignment(node: "n1", pus: CPUSet([0]), numaNodes: NUMASet([0])))
        #expect(rejection(ResourceRequest(cpus: 16), n) == .tooFewCPUs)
        #expect(rejection(ResourceRequest(cpus: 15), n) == nil)
    }

    @Test func tooLittleMemory() {
        var n = TopologyFixture.node("n1", Self.gpuTopo)   // 2 × 64 GiB
        #expect(rejection(ResourceRequest(memoryBytes: 128 * GiB), n) == nil)
        #expect(rejection(ResourceRequest(memoryBytes: 128 * GiB + 1), n) == .tooLittleMemory)
        n.apply(Assignment(node: "n1", pus: CPUSet([0]), numaNodes: NUMASet([1]), memory: [NUMAMemory(numa: 1, bytes: GiB)]))
        #expect(rejection(ResourceRequest(memoryBytes: 127 * GiB), n) == nil)
        #expect(rejection(ResourceRequest(memoryBytes: 127 * GiB + 1), n) == .tooLittleMemory)
    }

    @Test func tooFewGPUs() {
        var n = TopologyFixture.node("n1", Self.gpuTopo)   // 4 GPUs
        #expect(rejection(ResourceRequest(gpus: 4), n) == nil)
        #expect(rejection(ResourceRequest(gpus: 5), n) == .tooFewGPUs)
        n.apply(Assignment(node: "n1", pus: CPUSet([0]), numaNodes: NUMASet([0]), gpus: [0, 3]))
        #expect(rejection(ResourceRequest(gpus: 2), n) == nil)
        #expect(rejection(ResourceRequest(gpus: 3, gpuModel: "V100"), n) == .tooFewGPUs)
    }

    @Test("GPUs of another model do not count as free")
    func mixedModels() throws {
        var topo = TopologyFixture.make(numa: 2, coresPerNUMA: 2, threadsPerCore: 1, gpusPerNUMA: 2, gpuModel: "Tesla V100-SXM2-32GB")
        topo.gpus[2].model = "Tesla T4"
        topo.gpus[3].model = "Tesla T4"
        let n = TopologyFixture.node("n1", topo)
        #expect(rejection(ResourceRequest(gpus: 3, gpuModel: "V100"), n) == .tooFewGPUs)
        #expect(rejection(ResourceRequest(gpus: 3), n) == nil)
        guard case .placed(let a, _, _) = decide(ResourceRequest(gpus: 2, gpuModel: "t4"), n) else {
            Issue.record("not placed"); return
        }
        #expect(a.gpus == [2, 3])
        let e = decide(ResourceRequest(gpus: 3, gpuModel: "V100"), n).explanation
        #expect(e.rejections == [RejectionCount(reason: .tooFewGPUs, nodes: 1, requested: 3, bestFree: 2, bestCapacity: 2)])
    }

    @Test("no topology fit: totals suffice but no NUMA node holds the PUs")
    func noTopologyFit() {
        let n = inconsistentNode("n1")
        #expect(rejection(ResourceRequest(cpus: 2), n) == nil)
        #expect(rejection(ResourceRequest(cpus: 3), n) == .noTopologyFit)
        #expect(rejection(ResourceRequest(cpus: 3, gpus: 1), n) == .noTopologyFit)
    }

    @Test("filters run in order: the first failing one is reported")
    func filterOrder() {
        let arm = TopologyFixture.node("arm", TopologyFixture.make(arch: "aarch64", numa: 1, coresPerNUMA: 1, threadsPerCore: 1,
                                                                    memoryPerNUMA: GiB))
        // wrong arch beats too few CPUs / memory / GPUs
        #expect(rejection(ResourceRequest(cpus: 4, memoryBytes: 4 * GiB, gpus: 1, gpuModel: "V100", arch: "x86_64"), arm) == .wrongArch)
        // no GPU model beats too few CPUs
        #expect(rejection(ResourceRequest(cpus: 4, memoryBytes: 4 * GiB, gpus: 1, gpuModel: "V100"), arm) == .noGPUModel)
        // too few CPUs beats too little memory
        #expect(rejection(ResourceRequest(cpus: 4, memoryBytes: 4 * GiB, gpus: 1), arm) == .tooFewCPUs)
        // too little memory beats too few GPUs
        #expect(rejection(ResourceRequest(cpus: 1, memoryBytes: 4 * GiB, gpus: 1), arm) == .tooLittleMemory)
        #expect(rejection(ResourceRequest(cpus: 1, memoryBytes: GiB, gpus: 1), arm) == .tooFewGPUs)
        #expect(rejection(ResourceRequest(cpus: 1, memoryBytes: GiB), arm) == nil)
    }

    // MARK: explanations

    @Test("explanation counts per reason, in filter order, with the closest node's numbers")
    func explanationAllReasons() {
        let req = ResourceRequest(cpus: 4, memoryBytes: 16 * GiB, gpus: 1, gpuModel: "V100", arch: "x86_64")
        var allGPUsUsed = TopologyFixture.node("g-tooFewGPUs", TopologyFixture.make(numa: 1, coresPerNUMA: 8, gpusPerNUMA: 2))
        allGPUsUsed.apply(Assignment(node: allGPUsUsed.id, pus: CPUSet([0]), numaNodes: NUMASet([0]), gpus: [0, 1]))
        let nodes = [
            NodeState(id: "a-notReady", topology: Self.gpuTopo, schedulable: false),
            NodeState(id: "b-draining", topology: Self.gpuTopo, schedulable: false, unschedulableReason: .draining),
            TopologyFixture.node("c-arm", TopologyFixture.make(arch: "aarch64", gpusPerNUMA: 1)),
            TopologyFixture.node("d-t4", TopologyFixture.make(gpusPerNUMA: 1, gpuModel: "Tesla T4")),
            TopologyFixture.node("e-small", TopologyFixture.make(numa: 1, coresPerNUMA: 2, threadsPerCore: 1, gpusPerNUMA: 1)),
            TopologyFixture.node("f-lowmem", TopologyFixture.make(numa: 1, coresPerNUMA: 8, gpusPerNUMA: 1, memoryPerNUMA: 8 * GiB)),
            allGPUsUsed,
            inconsistentNode("h-inconsistent"),
            TopologyFixture.node("z-good", Self.gpuTopo),
        ]
        let d = Placer().place(req, in: ClusterSnapshot(nodes: nodes.reversed()))
        guard case .placed(let a, _, let e) = d else { Issue.record("not placed: \(d)"); return }
        #expect(a.node == "z-good")
        #expect(e.policy == "best-fit")
        #expect(e.nodesEvaluated == 9)
        #expect(e.nodesFeasible == 1)
        #expect(e.rejections == [
            RejectionCount(reason: .notReady, nodes: 1),
            RejectionCount(reason: .draining, nodes: 1),
            RejectionCount(reason: .wrongArch, nodes: 1),
            RejectionCount(reason: .noGPUModel, nodes: 1, requested: 1, bestFree: 0, bestCapacity: 0),
            RejectionCount(reason: .tooFewCPUs, nodes: 1, requested: 4, bestFree: 2, bestCapacity: 2),
            RejectionCount(reason: .tooLittleMemory, nodes: 1, requested: 16 * GiB, bestFree: 8 * GiB, bestCapacity: 8 * GiB),
            RejectionCount(reason: .tooFewGPUs, nodes: 1, requested: 1, bestFree: 0, bestCapacity: 2),
            RejectionCount(reason: .noTopologyFit, nodes: 1),
        ])
        #expect(e.summary == "1/9 nodes available: 1 not ready, 1 draining, 1 wrong arch, 1 no GPU of the requested model, "
                + "1 too few free CPUs, 1 too little free memory, 1 too few free GPUs, 1 no fit within NUMA topology")
    }

    @Test("summary: 0/3 nodes, two short of GPUs and one of the wrong arch")
    func summaryGPUsAndArch() {
        var busy = TopologyFixture.node("gpu-b", TopologyFixture.make(numa: 1, coresPerNUMA: 4, gpusPerNUMA: 2))
        busy.apply(Assignment(node: "gpu-b", pus: CPUSet([0]), numaNodes: NUMASet([0]), gpus: [1]))
        let nodes = [
            TopologyFixture.node("gpu-a", TopologyFixture.make(numa: 2, coresPerNUMA: 4, gpusPerNUMA: 1)),
            busy,
            TopologyFixture.node("arm", TopologyFixture.make(arch: "aarch64", numa: 1, coresPerNUMA: 4, gpusPerNUMA: 4)),
        ]
        let d = Placer().place(ResourceRequest(cpus: 1, gpus: 4, arch: "amd64"), in: ClusterSnapshot(nodes: nodes))
        guard case .unplaceable(let e) = d else { Issue.record("placed: \(d)"); return }
        #expect(e.nodesEvaluated == 3)
        #expect(e.nodesFeasible == 0)
        #expect(e.topCandidates.isEmpty)
        // gpu-a has 2 free of 2, gpu-b 1 free of 2: the closest node's numbers are 2 free, 2 capacity.
        #expect(e.rejections == [
            RejectionCount(reason: .wrongArch, nodes: 1),
            RejectionCount(reason: .tooFewGPUs, nodes: 2, requested: 4, bestFree: 2, bestCapacity: 2),
        ])
        // Reasons are listed in filter order (`rejections` is documented as "in filter order").
        #expect(e.summary == "0/3 nodes available: 1 wrong arch, 2 too few free GPUs")
    }

    @Test("empty fleet")
    func emptyFleet() {
        let d = Placer().place(ResourceRequest(), in: ClusterSnapshot(nodes: []))
        #expect(d == .unplaceable(PlacementExplanation(policy: "best-fit", nodesEvaluated: 0, nodesFeasible: 0,
                                                       rejections: [], topCandidates: [])))
        #expect(d.explanation.summary == "0/0 nodes available")
    }
}
