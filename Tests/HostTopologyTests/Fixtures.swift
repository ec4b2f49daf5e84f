import Foundation
import HostTopology
import SchedCore
import Testing

/// The hwloc XML fixtures copied from /work/shared/data/topologies/hwloc (see Fixtures/SOURCES.md).
enum Fixture: String, CaseIterable {
    case kunpeng = "128arm-2pa2n8cluster4co"
    case dgx2 = "nvidiaDGX2"
    case g4dn = "g4dnmetal"
    case power8 = "power8gpudistances"
    case gpuNUMANodes = "nvidiagpunumanodes"
    case epycHwloc1 = "epyc-dual-sock-hwloc1"
    case wholeIO = "32em64t-2n8c2t-pci-wholeio"
    case sapphireRapids = "Intel-SapphireRapids-2xXeonMax9460"

    /// Path of the XML: from the test bundle's copied resources, else next to this source file.
    var path: String {
        if let p = Bundle.module.path(forResource: rawValue, ofType: "xml", inDirectory: "Fixtures") { return p }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/\(rawValue).xml").path
    }

    func discover() throws -> NodeTopology { try TopologyDiscovery.discover(.xml(path: path)) }
}

extension NodeTopology {
    /// PU count per NUMA node OS index.
    var pusPerNUMA: [Int: Int] { Dictionary(uniqueKeysWithValues: numaNodes.map { ($0.id, $0.cpus.count) }) }
    func numa(_ id: Int) -> NUMANodeInfo? { numaNodes.first { $0.id == id } }
}
