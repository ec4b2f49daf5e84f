import SchedCore

/// The registered nodes by id. Every write through the subscript is remembered until
/// `takeChanged()`, so the scheduler updates its cached `ClusterSnapshot` node by node
/// instead of rebuilding it (and its capacity index) on every pass.
struct NodeTable: Sequence {
    private var entries: [NodeID: NodeEntry] = [:]
    /// Ids written since the last `takeChanged()` (a write may leave the node as it was).
    private var changed = Set<NodeID>()

    subscript(id: NodeID) -> NodeEntry? {
        get { entries[id] }
        set {
            entries[id] = newValue
            changed.insert(id)
        }
        _modify {
            changed.insert(id)
            yield &entries[id]
        }
    }

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }
    var keys: Dictionary<NodeID, NodeEntry>.Keys { entries.keys }
    var values: Dictionary<NodeID, NodeEntry>.Values { entries.values }
    func makeIterator() -> Dictionary<NodeID, NodeEntry>.Iterator { entries.makeIterator() }

    /// The ids written since the last call, and forgets them.
    mutating func takeChanged() -> Set<NodeID> {
        defer { changed.removeAll(keepingCapacity: true) }
        return changed
    }
}
