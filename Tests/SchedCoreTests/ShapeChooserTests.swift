import SchedCore
import Testing
import SchedTestSupport

@Suite("Alternative shapes")
struct ShapeChooserTests {
    static let gpuNode = TopologyFixture.node("gpu", TopologyFixture.make(numa: 1, coresPerNUMA: 4, threadsPerCore: 1, gpusPerNUMA: 1))
    static let armNode = TopologyFixture.node("arm", TopologyFixture.make(arch: "aarch64", numa: 1, coresPerNUMA: 16, threadsPerCore: 1))
    static let shapes = [TaskShape(resources: ResourceRequest(cpus: 1, gpus: 1), speedMilli: 1000),
                         TaskShape(resources: ResourceRequest(cpus: 16, arch: "aarch64"), speedMilli: 400)]

    @Test("the fastest shape that fits wins")
    func fastestThatFits() throws {
        let both = ClusterSnapshot(nodes: [Self.gpuNode, Self.armNode])
        let pick = try #require(ShapeChooser.choose(Self.shapes, placer: Placer(), in: both))
        #expect(pick.index == 0)
        // The GPU is taken: the slower Arm shape runs rather than waiting.
        var busy = Self.gpuNode
        busy.apply(Assignment(node: "gpu", pus: CPUSet([0]), numaNodes: NUMASet([0]), gpus: [0]))
        let fallback = try #require(ShapeChooser.choose(Self.shapes, placer: Placer(), in: ClusterSnapshot(nodes: [busy, Self.armNode])))
        #expect(fallback.index == 1)
        guard case .placed(let a, _, _) = fallback.decision else { Issue.record("placed"); return }
        #expect(a.node == "arm" && a.pus.count == 16)
    }

    @Test("equal speeds go to the shape listed first; nothing fits gives nil")
    func tiesAndNothing() throws {
        let same = [TaskShape(resources: ResourceRequest(cpus: 2), speedMilli: 500), TaskShape(resources: ResourceRequest(cpus: 1), speedMilli: 500)]
        #expect(try #require(ShapeChooser.choose(same, placer: Placer(), in: ClusterSnapshot(nodes: [Self.armNode]))).index == 0)
        let none = [TaskShape(resources: ResourceRequest(cpus: 64), speedMilli: 1000)]
        #expect(ShapeChooser.choose(none, placer: Placer(), in: ClusterSnapshot(nodes: [Self.armNode])) == nil)
    }
}
