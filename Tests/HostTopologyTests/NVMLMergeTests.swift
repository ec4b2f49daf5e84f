import HostTopology
import SchedCore
import Testing

/// NVML cannot run here (no GPU), so its merge into hwloc's GPUs is tested with synthetic devices.
@Suite struct NVMLMergeTests {
    @Test func mergeMatchesByNormalisedBusID() throws {
        let hw = try Fixture.dgx2.discover().gpus
        let nvml = [
            NVMLDevice(index: 3, name: "Tesla V100-SXM3-32GB", memoryBytes: 34_359_738_368,
                       uuid: "GPU-NVML-3", pciBusID: "00000000:3B:00.0"),
            NVMLDevice(index: 16, name: "NVIDIA A100", memoryBytes: 42_949_672_960,
                       uuid: "GPU-NEW", pciBusID: "00000000:DB:00.0"),
        ]
        let merged = NVMLProbe.merge(nvml, into: hw)
        #expect(merged.count == 17)
        #expect(merged[3].pciBusID == "0000:3b:00.0")
        #expect(merged[3].model == "Tesla V100-SXM3-32GB")
        #expect(merged[3].memoryBytes == 34_359_738_368)
        #expect(merged[3].uuid == "GPU-NVML-3")
        #expect(merged[3].name == "nvml3" && merged[3].numaNodes == NUMASet([0]))  // hwloc locality kept
        #expect(merged[2] == hw[2])
        let added = merged[16]
        #expect(added.index == 16 && added.name == "nvml16" && added.pciBusID == "0000:db:00.0")
        #expect(added.model == "NVIDIA A100" && added.uuid == "GPU-NEW" && added.numaNodes.isEmpty)
    }

    @Test func emptyNVMLChangesNothing() throws {
        let hw = try Fixture.g4dn.discover().gpus
        #expect(NVMLProbe.merge([], into: hw) == hw)
    }

    @Test func emptyNVMLFieldsKeepHwlocValues() throws {
        let hw = try Fixture.power8.discover().gpus
        let merged = NVMLProbe.merge([NVMLDevice(index: 0, name: "", memoryBytes: 0, uuid: "",
                                                 pciBusID: "00000002:01:00.0")], into: hw)
        #expect(merged == hw)
    }
}
