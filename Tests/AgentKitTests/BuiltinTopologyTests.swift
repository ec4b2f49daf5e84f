import AgentKit
import HostTopology
import SchedCore
import Testing

/// The built-in descriptions load through the same hwloc path as any `--topology-xml`.
@Suite("Built-in node kinds")
struct BuiltinTopologyTests {
    @Test("Vera Rubin compute tray: 2 Vera CPUs of 88 cores / 176 threads, 4 Rubin GPUs of 288 GB")
    func veraRubin() throws {
        let path = try #require(BuiltinTopology.veraRubinTray.xmlPath)
        let t = try TopologyDiscovery.discover(.xml(path: path))
        #expect(t.arch == "aarch64")
        #expect(t.packages == 2)
        #expect(t.numaNodes.count == 2)
        #expect(t.cores.count == 176)
        #expect(t.puCount == 352)
        // Linux SMT numbering: core 0 is PUs 0 and 176.
        #expect(t.cores[0].pus == CPUSet([0, 176]))
        #expect(t.numaNodes[0].cpus == CPUSet(Array(0..<88) + Array(176..<264)))
        #expect(t.gpus.count == 4)
        #expect(t.gpus.allSatisfy { $0.model == "NVIDIA Rubin" && $0.memoryBytes == 288_000_000_000 / 1024 * 1024 })
        #expect(t.gpus.map(\.numaNodes) == [NUMASet([0]), NUMASet([0]), NUMASet([1]), NUMASet([1])])
        #expect(Set(t.gpus.compactMap(\.uuid)).count == 4)
    }

    @Test("Graviton-class node: 192 cores, no SMT, four 48-core NUMA nodes")
    func graviton() throws {
        let path = try #require(BuiltinTopology.graviton192.xmlPath)
        let t = try TopologyDiscovery.discover(.xml(path: path))
        #expect(t.arch == "aarch64")
        #expect(t.packages == 1)
        #expect(t.cores.count == 192)
        #expect(t.puCount == 192)
        #expect(t.numaNodes.map(\.id) == [0, 1, 2, 3])
        #expect(t.numaNodes.allSatisfy { $0.cpus.count == 48 && $0.memoryBytes == 192 << 30 })
        #expect(t.gpus.isEmpty)
    }
}
