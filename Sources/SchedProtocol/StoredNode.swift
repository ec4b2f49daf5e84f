import SchedCore

/// A node as remembered across restarts.
public struct StoredNode: Sendable, Codable, Hashable {
    public var name: NodeID
    public var topology: NodeTopology
    public var emulated: Bool
    public var drained: Bool
    public var drainReason: String?
    public var labels: [String: String]?
    public init(name: NodeID, topology: NodeTopology, emulated: Bool, drained: Bool, drainReason: String?,
                labels: [String: String]? = nil) {
        self.name = name
        self.topology = topology
        self.emulated = emulated
        self.drained = drained
        self.drainReason = drainReason
        self.labels = labels
    }
}
