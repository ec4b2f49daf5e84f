/// Where `TopologyDiscovery` reads the node's hardware from.
public enum TopologySource: Sendable, Hashable {
    /// The machine this process runs on (hwloc's native backends, plus NVML when present).
    case host
    /// An hwloc XML export (format 1.x or 2.x), for emulating another machine.
    /// NVML is never consulted for an XML source.
    case xml(path: String)
}
