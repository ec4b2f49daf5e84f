import Foundation
import HostTopology
import SchedCore
import Testing

/// GPUs, their locality and NVLink matrices, checked against `lstopo-no-graphics --input` and
/// the XML's OS-device infos and `distances2hetero` blocks.
@Suite struct GPUDiscoveryTests {
    /// DGX-2: 16 V100 seen only through nvml OS devices; 12 NVSwitch PCI devices are not GPUs.
    @Test func dgx2GPUs() throws {
        let t = try Fixture.dgx2.discover()
        #expect(t.gpus.count == 16)
        #expect(t.gpus.map(\.name) == (0..<16).map { "nvml\($0)" })
        #expect(t.gpus.map(\.index) == Array(0..<16))
        #expect(t.gpus.allSatisfy { $0.model == "Tesla V100-SXM3-32GB-H" && $0.vendor == "NVIDIA" })
        #expect(t.gpus.allSatisfy { $0.memoryBytes == 0 })  // NVML osdevs carry no memory size
        #expect(t.gpus[0].uuid == "GPU-d3977428-7a30-086b-2e20-5c1eeed647c6")
        #expect(t.gpus[0].pciBusID == "0000:34:00.0")
        #expect(t.gpus[15].pciBusID == "0000:e7:00.0")
        // Eight GPUs on each socket.
        #expect(t.gpus[0..<8].allSatisfy { $0.numaNodes == NUMASet([0]) && $0.cpus == CPUSet([0, 1]) })
        #expect(t.gpus[8..<16].allSatisfy { $0.numaNodes == NUMASet([1]) && $0.cpus == CPUSet([24, 25]) })
    }

    /// Each V100 has 6 NVLinks of 25000 MB/s to the NVSwitches and none to another GPU; through
    /// the switches every pair gets 6 × 25000 = 150000 MB/s (hwloc's transitive closure).
    @Test func dgx2NVLinkThroughNVSwitch() throws {
        let m = try #require(try Fixture.dgx2.discover().nvlinkBandwidth)
        #expect(m.count == 16)
        #expect(m.allSatisfy { $0.count == 16 })
        for i in 0..<16 {
            for j in 0..<16 { #expect(m[i][j] == (i == j ? 0 : 150_000)) }
        }
    }

    /// g4dn.metal: cuda/opencl/nvml OS devices of one T4 (24 in all) collapse into 8 GPUs.
    @Test func g4dnDedupe() throws {
        let t = try Fixture.g4dn.discover()
        #expect(t.arch == "x86_64")
        #expect(t.packages == 2 && t.cores.count == 48 && t.puCount == 96)
        #expect(t.numa(0)?.memoryBytes == 202_438_238_208)
        #expect(t.gpus.count == 8)
        #expect(t.gpus.map(\.name) == (0..<8).map { "cuda\($0)" })
        #expect(t.gpus.allSatisfy { $0.model == "Tesla T4" })
        #expect(t.gpus.allSatisfy { $0.memoryBytes == 15_472_384 * 1024 })  // CUDAGlobalMemorySize KiB
        #expect(t.gpus[1].uuid == "GPU-e5f1ef2b-71b8-2963-d316-108ad8712874")  // from nvml1
        #expect(t.gpus.map(\.pciBusID) == ["0000:18:00.0", "0000:19:00.0", "0000:35:00.0", "0000:36:00.0",
                                           "0000:e7:00.0", "0000:e8:00.0", "0000:f4:00.0", "0000:f5:00.0"])
        #expect(t.gpus[0..<4].allSatisfy { $0.numaNodes == NUMASet([0]) })
        #expect(t.gpus[4..<8].allSatisfy { $0.numaNodes == NUMASet([1]) })
        #expect(t.gpus[4].cpus == CPUSet(listFormat: "24-47,72-95"))
        #expect(t.nvlinkBandwidth == nil)  // PCIe only
    }

    /// Minsky: GPU pairs 0-1 and 2-3 have 40000 MB/s; the GPU↔CPU links in the matrix are dropped.
    @Test func power8NVLinkWithCPULinks() throws {
        let t = try Fixture.power8.discover()
        #expect(t.gpus.count == 4)
        #expect(t.gpus.map(\.name) == ["cuda0", "cuda1", "cuda2", "cuda3"])
        #expect(t.gpus.allSatisfy { $0.model == "Tesla P100-SXM2-16GB" && $0.memoryBytes == 16_671_616 * 1024 })
        #expect(t.gpus.map(\.pciBusID) == ["0002:01:00.0", "0003:01:00.0", "000a:01:00.0", "000b:01:00.0"])
        #expect(t.gpus.map(\.numaNodes) == [NUMASet([0]), NUMASet([0]), NUMASet([1]), NUMASet([1])])
        #expect(t.gpus[2].uuid == "GPU-ea919830-8251-6a30-e379-daeb01448779")
        #expect(t.nvlinkBandwidth == [[0, 40000, 0, 0], [40000, 0, 0, 0], [0, 0, 0, 40000], [0, 0, 40000, 0]])
    }

    /// AC922 sysfs dump: six display-class PCI devices (vendor id missing from the dump) and no
    /// OS devices become `pci:<busid>` GPUs.
    @Test func barePCIGPUs() throws {
        let t = try Fixture.gpuNUMANodes.discover()
        #expect(t.gpus.count == 6)
        #expect(t.gpus.map(\.name) == ["pci:0004:05:00.0", "pci:0004:06:00.0", "pci:0006:00:00.0",
                                       "pci:0007:00:00.0", "pci:0035:04:00.0", "pci:0035:05:00.0"])
        #expect(t.gpus.map(\.numaNodes) == [0, 0, 0, 8, 8, 8].map { NUMASet([$0]) })
        #expect(t.gpus[3].cpus == CPUSet(listFormat: "88-103"))
        #expect(t.gpus.allSatisfy { $0.model.isEmpty && $0.uuid == nil && $0.memoryBytes == 0 })
        #expect(t.nvlinkBandwidth == nil)
    }

    /// Sandy Bridge box: two bare Tesla M2075 PCI devices, a K40m seen as cuda0 + card0 (one GPU)
    /// and an AMD Radeon seen as opencl0d1; the Matrox BMC VGA is not a GPU.
    @Test func mixedVendorsAndBarePCI() throws {
        let t = try Fixture.wholeIO.discover()
        #expect(t.gpus.count == 4)
        #expect(t.gpus.map(\.name) == ["pci:0000:03:00.0", "pci:0000:83:00.0", "cuda0", "opencl0d1"])
        #expect(t.gpus.map(\.vendor) == ["NVIDIA", "NVIDIA", "NVIDIA", "AMD"])
        #expect(t.gpus[0].model == "Tesla M2075 Dual-Slot Computing Processor Module")  // PCIDevice info
        #expect(t.gpus[2].model == "Tesla K40m")
        #expect(t.gpus[2].memoryBytes == 11_796_032 * 1024)
        #expect(t.gpus[3].model == "AMD Radeon R9 200 / HD 7900 Series")
        #expect(t.gpus[3].memoryBytes == 3_087_360 * 1024)  // OpenCLGlobalMemorySize KiB
        #expect(t.gpus.map(\.numaNodes) == [NUMASet([0]), NUMASet([1]), NUMASet([1]), NUMASet([1])])
        #expect(!t.gpus.contains { $0.pciBusID == "0000:05:03.0" })
    }

    /// What the agent sends in its registration survives JSON unchanged.
    @Test func discoveredTopologyRoundTripsThroughJSON() throws {
        let t = try Fixture.power8.discover()
        let back = try JSONDecoder().decode(NodeTopology.self, from: JSONEncoder().encode(t))
        #expect(back == t)
    }
}
