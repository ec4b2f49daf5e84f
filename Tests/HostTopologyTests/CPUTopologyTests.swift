import HostTopology
import SchedCore
import Testing

/// Packages, NUMA nodes, cores, PUs and caches, checked against `lstopo-no-graphics --input`.
@Suite struct CPUTopologyTests {
    @Test func kunpeng920() throws {
        let t = try Fixture.kunpeng.discover()
        #expect(t.arch == "aarch64")
        #expect(t.cpuModel == nil)  // hwloc 2.9 export carries no CPUModel/CPUImplementer infos
        #expect(t.packages == 2)
        #expect(t.numaNodes.map(\.id) == [0, 1, 2, 3])
        #expect(t.cores.count == 128)
        #expect(t.puCount == 128)
        #expect(t.numa(0)?.memoryBytes == 134_894_530_560)
        #expect(t.numa(3)?.memoryBytes == 134_207_905_792)
        #expect(t.numa(1)?.cpus == CPUSet(listFormat: "32-63"))
        #expect(t.gpus.isEmpty)
        #expect(t.nvlinkBandwidth == nil)
    }

    /// One 32 MB L3 per NUMA node (32 cores); the 4-core clusters are Group objects, not caches.
    @Test func kunpengL3Grouping() throws {
        let t = try Fixture.kunpeng.discover()
        let byL3 = Dictionary(grouping: t.cores, by: \.l3)
        #expect(byL3.keys.sorted() == [0, 1, 2, 3])
        for (l3, cores) in byL3 {
            #expect(cores.count == 32)
            #expect(Set(cores.map(\.numa)) == [l3])
            #expect(Set(cores.map(\.package)) == [l3 / 2])
        }
        let core5 = try #require(t.cores.first { $0.id == 5 })
        #expect(core5.pus == CPUSet([5]))
        #expect(core5.numa == 0)
        let last = try #require(t.cores.last)
        #expect(last.id == 127 && last.pus == CPUSet([127]) && last.numa == 3 && last.l3 == 3 && last.package == 1)
    }

    /// hwloc 1.x XML (no version attribute) loads and yields EPYC 7551's 8 NUMA nodes / 16 CCX L3s.
    @Test func epycHwloc1Format() throws {
        let t = try Fixture.epycHwloc1.discover()
        #expect(t.arch == "x86_64")
        #expect(t.cpuModel == "AMD EPYC 7551 32-Core Processor")
        #expect(t.packages == 2)
        #expect(t.numaNodes.count == 8)
        #expect(t.cores.count == 64)
        #expect(t.puCount == 128)
        #expect(t.numa(0)?.memoryBytes == 34_258_255_872)
        #expect(t.numa(0)?.cpus == CPUSet(listFormat: "0-7,64-71"))
        #expect(t.cores[0].pus == CPUSet([0, 64]))
        let byL3 = Dictionary(grouping: t.cores, by: \.l3)
        #expect(byL3.count == 16)
        #expect(byL3.values.allSatisfy { $0.count == 4 })
        #expect(t.cores.last?.numa == 7)
        // The ASPEED BMC VGA (card0 on PCI 1a03:2000) is not a GPU.
        #expect(t.gpus.isEmpty)
    }

    @Test func power8SMT() throws {
        let t = try Fixture.power8.discover()
        #expect(t.arch == "ppc64le")
        #expect(t.cpuModel == "POWER8NVL, altivec supported")
        #expect(t.packages == 2)
        #expect(t.cores.count == 8)
        #expect(t.puCount == 16)
        #expect(t.numa(1)?.cpus == CPUSet(listFormat: "80-81,88-89,96-97,104-105"))
        #expect(t.numa(1)?.memoryBytes == 68_450_713_600)
        #expect(t.cores.map(\.l3) == Array(0..<8))  // one L3 per core
    }

    /// NUMA OS indices need not be contiguous (POWER9: nodes 0 and 8), 4 threads per core.
    @Test func power9NonContiguousNUMA() throws {
        let t = try Fixture.gpuNUMANodes.discover()
        #expect(t.arch == "ppc64le")
        #expect(t.numaNodes.map(\.id) == [0, 8])
        #expect(t.numa(8)?.memoryBytes == 137_166_848_000)
        #expect(t.numa(8)?.cpus == CPUSet(listFormat: "88-103"))
        #expect(t.cores.count == 8)
        #expect(t.puCount == 32)
        #expect(t.cores.allSatisfy { $0.pus.count == 4 })
        #expect(t.cores.filter { $0.numa == 8 }.count == 4)
        #expect(t.numaPosition(ofOS: 8) == 1)
    }

    /// No `Architecture` info in a CPUID-only export: inferred from CPUVendor GenuineIntel.
    @Test func archInferredFromCPUVendor() throws {
        let t = try Fixture.sapphireRapids.discover()
        #expect(t.arch == "x86_64")
        #expect(t.cpuModel == "Intel (R) Xeon (R) CPU Max 9460")
        #expect(t.packages == 2)
        #expect(t.cores.count == 80)
        #expect(t.puCount == 160)
        #expect(t.numaNodes.count == 1)
    }

    @Test func xeonSandyBridge() throws {
        let t = try Fixture.wholeIO.discover()
        #expect(t.arch == "x86_64")
        #expect(t.cpuModel == "Intel(R) Xeon(R) CPU E5-2650 0 @ 2.00GHz")
        #expect(t.packages == 2)
        #expect(t.cores.count == 16)
        #expect(t.puCount == 32)
        #expect(t.numa(1)?.memoryBytes == 34_359_738_368)
        #expect(t.numa(0)?.cpus == CPUSet(listFormat: "0-7,16-23"))
        #expect(t.cpuMemoryBytes == 34_330_173_440 + 34_359_738_368)
    }
}
