import Foundation

/// Node kinds we target, checked in as hwloc XML descriptions (Sources/AgentKit/Topologies,
/// written by Deploy/topologies/generate.py) and loaded through the same hwloc path as any
/// `--topology-xml`. They describe, they do not discover: a real node is always discovered.
/// See docs/fleet-emulation.md.
public enum BuiltinTopology: String, Sendable, CaseIterable {
    /// Vera Rubin NVL72 compute tray: 2 Vera CPUs (88 Arm cores, 176 threads each), 4 Rubin GPUs of 288 GB.
    case veraRubinTray = "vera-rubin-tray"
    /// Graviton-class node: 192 Arm cores, no SMT, as four 48-core NUMA nodes (assumed layout).
    case graviton192 = "graviton-192"

    /// Where a topology comes from: a built-in description or an hwloc XML file.
    public enum Source: Sendable, Hashable {
        case builtin(BuiltinTopology)
        case xml(String)
    }

    /// Path of the checked-in XML (a resource of AgentKit).
    public var xmlPath: String? {
        Bundle.module.path(forResource: rawValue, ofType: "xml", inDirectory: "Topologies")
            ?? Bundle.module.path(forResource: rawValue, ofType: "xml")
    }
}
