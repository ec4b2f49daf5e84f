import Foundation
import HostTopology
import SchedCore
import Testing

/// The live machine: discovery, libnuma, NVML (absent here) and binding.
@Suite struct HostTests {
    @Test func hostDiscovery() throws {
        let t = try TopologyDiscovery.discover(.host)
        #expect(!t.arch.isEmpty && t.arch != "unknown")
        #expect(t.puCount >= 1)
        #expect(t.packages >= 1)
        #expect(!t.numaNodes.isEmpty)
        let allowed = HostPUMapping.currentAllowedPUs()
        #expect(!allowed.isEmpty)
        #expect(allowed.isSubset(of: t.allPUs))
        #expect(t.cores.allSatisfy { t.numaPosition(ofOS: $0.numa) != nil })
    }

    @Test func nvmlIsAbsentAndQuiet() {
        #expect(NVMLProbe.devices().isEmpty)
    }

    @Test func freeMemoryPerNUMANode() throws {
        let free = NUMAMemoryProbe.freeBytes()
        let t = try TopologyDiscovery.discover(.host)
        for (node, bytes) in free {
            #expect(t.numaPosition(ofOS: node) != nil)
            #expect(bytes > 0)
        }
    }

    /// Binding to what this thread may already use changes nothing and must succeed.
    @Test func bindToCurrentAllowedSets() throws {
        try ProcessBinding.bindCurrentProcess(cpus: HostPUMapping.currentAllowedPUs(),
                                              memory: HostPUMapping.currentHostNUMA())
        try ProcessBinding.bindCurrentProcess(cpus: CPUSet(), memory: NUMASet())
    }

    @Test func bindToMissingPUFails() {
        #expect {
            try ProcessBinding.bindCurrentProcess(cpus: CPUSet([100_000]), memory: NUMASet())
        } throws: { error in
            guard let e = error as? TopologyError else { return false }
            return e.code == .bindFailed && e.function == "sched_setaffinity" && e.errno == EINVAL
        }
    }

    @Test func bindToMissingNUMANodeFails() throws {
        try #require(NUMAMemoryProbe.freeBytes().isEmpty == false, "libnuma unavailable: memory binding is skipped")
        #expect {
            try ProcessBinding.bindCurrentProcess(cpus: CPUSet(), memory: NUMASet([1000]))
        } throws: { error in
            (error as? TopologyError)?.code == .bindFailed
        }
    }
}

@Suite struct TopologyErrorTests {
    @Test func missingXML() {
        let path = "/nonexistent/dir/topo.xml"
        #expect {
            try TopologyDiscovery.discover(.xml(path: path))
        } throws: { error in
            guard let e = error as? TopologyError else { return false }
            return e.code == .xmlLoadFailed && e.errno == ENOENT
                && e.description.hasPrefix("cannot load hwloc XML \(path): ")
                && e.description.contains("No such file or directory")
        }
    }

    @Test func garbageXML() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("garbage-\(UUID().uuidString).xml")
        try Data("<topology version=\"2.0\"><object type=".utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect {
            try TopologyDiscovery.discover(.xml(path: url.path))
        } throws: { error in
            guard let e = error as? TopologyError else { return false }
            return e.code == .xmlLoadFailed && e.function == "hwloc_topology_load"
                && e.description.hasPrefix("cannot load hwloc XML \(url.path): hwloc_topology_load failed")
        }
    }

    @Test func messageWithoutErrno() {
        let e = TopologyError(.loadFailed, function: "hwloc_topology_load", errno: 0, context: "cannot discover the host topology")
        #expect(e.description == "cannot discover the host topology: hwloc_topology_load failed")
    }
}
