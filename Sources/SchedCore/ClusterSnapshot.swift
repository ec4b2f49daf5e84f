/// The fleet as the core sees it: nodes sorted by id, plus an index of their free capacity.
///
/// Change nodes only through the mutating methods here, so the index stays exact.
public struct ClusterSnapshot: Sendable {
    public private(set) var nodes: [NodeState]
    private(set) var index: CapacityIndex
    /// Counts the changes made through this value's methods (a copy carries the count on), so a
    /// caller can tell whether a snapshot changed since it last looked.
    public private(set) var version = 0

    public init(nodes: [NodeState]) {
        // Sorting is skipped when the caller already keeps its nodes in id order.
        var sorted = true
        for i in nodes.indices.dropFirst() where !(nodes[i - 1].id < nodes[i].id) { sorted = false; break }
        self.nodes = sorted ? nodes : nodes.sorted { $0.id < $1.id }
        self.index = CapacityIndex(nodes: self.nodes)
    }

    /// The position of node `id` (binary search over the sorted ids).
    public func position(of id: NodeID) -> Int? {
        var lo = 0, hi = nodes.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if nodes[mid].id < id { lo = mid + 1 } else { hi = mid }
        }
        return lo < nodes.count && nodes[lo].id == id ? lo : nil
    }

    /// Marks an assignment's resources as used on node `i`.
    public mutating func apply(_ a: Assignment, toNodeAt i: Int) {
        modifyResources(at: i) { $0.apply(a) }
    }

    /// Marks an assignment's resources as used on its node; false when the node is not here.
    @discardableResult
    public mutating func apply(_ a: Assignment) -> Bool {
        guard let i = position(of: a.node) else { return false }
        apply(a, toNodeAt: i)
        return true
    }

    /// Returns an assignment's resources on node `i`.
    public mutating func release(_ a: Assignment, fromNodeAt i: Int) {
        modifyResources(at: i) { $0.release(a) }
    }

    /// Takes node `i` out of scheduling (or back in) with the reason explanations give.
    public mutating func setSchedulable(_ on: Bool, reason: RejectionReason = .notReady, at i: Int) {
        modifyResources(at: i) {
            $0.schedulable = on
            $0.unschedulableReason = reason
        }
    }

    /// Changes node `i` in place and re-files it in the index. The node's id must not change.
    public mutating func modifyNode(at i: Int, _ body: (inout NodeState) -> Void) {
        let old = nodes[i]
        body(&nodes[i])
        version += 1
        precondition(nodes[i].id == old.id, "a snapshot node's id cannot change")
        if nodes[i].topology != old.topology || nodes[i].labels != old.labels {
            index = CapacityIndex(nodes: nodes)
        } else {
            index.update(i, to: nodes[i])
        }
    }

    /// Changes what node `i` holds or whether it is schedulable (not its topology or labels).
    private mutating func modifyResources(at i: Int, _ body: (inout NodeState) -> Void) {
        body(&nodes[i])
        version += 1
        index.update(i, to: nodes[i])
    }
}
