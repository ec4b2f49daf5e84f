import HostTopology
import SchedCore
import Testing

/// Emulated PU/NUMA rank r → host entry r mod host count.
@Suite struct HostPUMappingTests {
    @Test func kunpengOnTwoPUHost() throws {
        let m = HostPUMapping(emulated: try Fixture.kunpeng.discover(), hostPUs: CPUSet([0, 1]), hostNUMA: NUMASet([0]))
        #expect(m.hostCPUs(for: CPUSet([0])) == CPUSet([0]))
        #expect(m.hostCPUs(for: CPUSet([1])) == CPUSet([1]))
        #expect(m.hostCPUs(for: CPUSet([2])) == CPUSet([0]))
        #expect(m.hostCPUs(for: CPUSet([127])) == CPUSet([1]))
        #expect(m.hostCPUs(for: CPUSet([4, 6, 8])) == CPUSet([0]))
        #expect(m.hostCPUs(for: CPUSet(listFormat: "32-35")!) == CPUSet([0, 1]))
        #expect(m.hostNUMA(for: NUMASet([0, 1, 2, 3])) == NUMASet([0]))
    }

    @Test func rankNotNumber() throws {
        // POWER9: PUs 0-15 and 88-103, NUMA nodes 0 and 8. PU 88 has rank 16, PU 91 rank 19.
        let m = HostPUMapping(emulated: try Fixture.gpuNUMANodes.discover(),
                              hostPUs: CPUSet(0..<8), hostNUMA: NUMASet([0, 1]))
        #expect(m.hostCPUs(for: CPUSet([88])) == CPUSet([0]))
        #expect(m.hostCPUs(for: CPUSet([91])) == CPUSet([3]))
        #expect(m.hostCPUs(for: CPUSet([15])) == CPUSet([7]))
        #expect(m.hostNUMA(for: NUMASet([8])) == NUMASet([1]))
        #expect(m.hostNUMA(for: NUMASet([0, 8])) == NUMASet([0, 1]))
    }

    @Test func sparseHostSets() throws {
        // EPYC PU 64 (rank 64) on host PUs {2,5,7}: 64 mod 3 = 1 → PU 5. NUMA node 6 on host {1,3}: 6 mod 2 = 0 → 1.
        let m = HostPUMapping(emulated: try Fixture.epycHwloc1.discover(), hostPUs: CPUSet([2, 5, 7]),
                              hostNUMA: NUMASet([1, 3]))
        #expect(m.hostCPUs(for: CPUSet([64])) == CPUSet([5]))
        #expect(m.hostCPUs(for: CPUSet([0, 1, 2])) == CPUSet([2, 5, 7]))
        #expect(m.hostNUMA(for: NUMASet([6])) == NUMASet([1]))
        #expect(m.hostNUMA(for: NUMASet([7])) == NUMASet([3]))
    }

    @Test func unknownNumbersAreDropped() throws {
        let m = HostPUMapping(emulated: try Fixture.dgx2.discover(), hostPUs: CPUSet([0, 1]), hostNUMA: NUMASet([0]))
        #expect(m.hostCPUs(for: CPUSet([2, 24])) == CPUSet([0]))  // 2 is not a DGX-2 fixture PU; 24 has rank 2
        #expect(m.hostNUMA(for: NUMASet([5])).isEmpty)
    }

    @Test func identityOnTheHost() throws {
        let host = try TopologyDiscovery.discover(.host)
        let m = HostPUMapping(emulated: host, hostPUs: host.allPUs,
                              hostNUMA: NUMASet(host.numaNodes.map(\.id)))
        #expect(m.hostCPUs(for: host.allPUs) == host.allPUs)
        for core in host.cores { #expect(m.hostCPUs(for: core.pus) == core.pus) }
        #expect(m.hostNUMA(for: NUMASet(host.numaNodes.map(\.id))) == NUMASet(host.numaNodes.map(\.id)))
        #expect(!HostPUMapping.currentHostNUMA().isEmpty)
    }
}
