import Testing
import SchedCore
import SchedTestSupport

/// Node label selectors (`ResourceRequest.labels`): every selected label must be on the node with
/// exactly that value. The filter runs after the architecture filter and before the resource filters.
@Suite("Label selectors")
struct LabelSelectorTests {
    static func node(_ id: String, arch: String = "x86_64", labels: [String: String] = [:],
                     gpusPerNUMA: Int = 0) -> NodeState {
        NodeState(id: NodeID(id), topology: TopologyFixture.make(arch: arch, numa: 1, coresPerNUMA: 2, threadsPerCore: 1,
                                                                  gpusPerNUMA: gpusPerNUMA),
                  labels: labels)
    }

    static func rejection(_ r: ResourceRequest, _ n: NodeState) -> RejectionReason? {
        switch Placer().check(r, on: n) {
        case .success: nil
        case .failure(let reason): reason
        }
    }

    @Test("labelsMatch: exact key and value, every selected label", arguments: [
        ([:], [:], true),
        ([:], ["rack": "r1"], true),
        (["rack": "r1"], ["rack": "r1"], true),
        (["rack": "r1"], ["rack": "r1", "zone": "a"], true),
        (["rack": "r1", "zone": "a"], ["rack": "r1", "zone": "a"], true),
        (["rack": "r1"], [:], false),
        (["rack": "r1"], ["rack": "r2"], false),
        (["rack": "r1"], ["rack": "R1"], false),
        (["rack": "r1"], ["Rack": "r1"], false),
        (["rack": "r1"], ["rack": "r1 "], false),
        (["rack": "r1", "zone": "a"], ["rack": "r1", "zone": "b"], false),
        (["rack": "r1", "zone": "a"], ["rack": "r1"], false),
        (["rack": ""], [:], false),
        (["rack": ""], ["rack": ""], true),
    ] as [([String: String], [String: String], Bool)])
    func labelsMatch(selector: [String: String], nodeLabels: [String: String], matches: Bool) {
        #expect(ResourceRequest(labels: selector).labelsMatch(nodeLabels) == matches)
        #expect(Self.rejection(ResourceRequest(labels: selector), Self.node("n", labels: nodeLabels)) == (matches ? nil : .labelMismatch))
    }

    @Test("mismatches are counted in filter order, after wrong arch")
    func explanationInFilterOrder() {
        let fleet = ClusterSnapshot(nodes: [
            Self.node("n1", arch: "aarch64", labels: ["rack": "r1"]),   // wrong arch although the label matches
            Self.node("n2", labels: ["rack": "r2"]),
            Self.node("n3"),
        ])
        let d = Placer().place(ResourceRequest(arch: "x86_64", labels: ["rack": "r1"]), in: fleet)
        guard case .unplaceable(let e) = d else { Issue.record("placed: \(d)"); return }
        #expect(e.summary == "0/3 nodes available: 1 wrong arch, 2 node labels do not match")
        #expect(e.rejections == [
            RejectionCount(reason: .wrongArch, nodes: 1),
            RejectionCount(reason: .labelMismatch, nodes: 2),
        ])
        #expect(e.topCandidates.isEmpty)
    }

    @Test func filterOrderAroundLabels() {
        let r = ResourceRequest(cpus: 100, gpus: 1, gpuModel: "T4", arch: "x86_64", labels: ["rack": "r1"])
        // Wrong arch wins over labels.
        #expect(Self.rejection(r, Self.node("n", arch: "aarch64")) == .wrongArch)
        // Labels win over the GPU model and every resource filter.
        #expect(Self.rejection(r, Self.node("n", gpusPerNUMA: 1)) == .labelMismatch)
        // Not ready wins over labels.
        var down = Self.node("n")
        down.schedulable = false
        #expect(Self.rejection(r, down) == .notReady)
        // Once labels match, the later filters speak.
        #expect(Self.rejection(r, Self.node("n", labels: ["rack": "r1"], gpusPerNUMA: 1)) == .noGPUModel)
        #expect(Self.rejection(ResourceRequest(cpus: 100, labels: ["rack": "r1"]), Self.node("n", labels: ["rack": "r1"])) == .tooFewCPUs)
    }

    @Test func matchingLabelsPlace() throws {
        let fleet = ClusterSnapshot(nodes: [
            Self.node("a", labels: ["rack": "r2", "zone": "a"]),
            Self.node("b", labels: ["rack": "r1", "zone": "a", "nvlink.domain": "d7"]),
            Self.node("c", labels: ["rack": "r1", "zone": "b"]),
        ])
        let d = Placer().place(ResourceRequest(cpus: 1, labels: ["rack": "r1", "zone": "a"]), in: fleet)
        guard case .placed(let a, _, let e) = d else { Issue.record("not placed: \(d)"); return }
        #expect(a.node == "b")
        #expect(e.summary == "1/3 nodes available: 2 node labels do not match")
        #expect(e.topCandidates.map(\.node) == ["b"])
    }

    @Test func emptySelectorMatchesAnyNode() {
        let fleet = ClusterSnapshot(nodes: [
            Self.node("a", labels: ["rack": "r1"]),
            Self.node("b"),
            Self.node("c", labels: ["zone": "z"]),
        ])
        let d = Placer().place(ResourceRequest(cpus: 1), in: fleet)
        #expect(d.explanation.nodesFeasible == 3)
        #expect(d.explanation.rejections.isEmpty)
        #expect(d.explanation.summary == "3/3 nodes available")
    }

    @Test("a GPU-sharing request honours labels too")
    func gpuRequestWithLabels() throws {
        let fleet = ClusterSnapshot(nodes: [
            Self.node("g1", labels: ["pool": "train"], gpusPerNUMA: 1),
            Self.node("g2", labels: ["pool": "infer"], gpusPerNUMA: 1),
        ])
        let d = Placer().place(ResourceRequest(gpus: 1, gpuMilli: 500, labels: ["pool": "infer"]), in: fleet)
        guard case .placed(let a, _, let e) = d else { Issue.record("not placed: \(d)"); return }
        #expect(a.node == "g2")
        #expect(a.gpuMilli == 500)
        #expect(e.summary == "1/2 nodes available: 1 node labels do not match")
    }
}
