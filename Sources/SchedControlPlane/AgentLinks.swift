import SchedProtocol
import SchedCore

/// Which agent connection serves which node, and the connections that have not registered yet.
struct AgentLinks {
    /// The connection currently serving each registered node.
    private(set) var byNode: [NodeID: LinkID] = [:]
    /// The node each registered connection serves.
    private(set) var nodeOf: [LinkID: NodeID] = [:]
    /// Connections open but not registered.
    var pending = Set<LinkID>()
    /// The node each connection authenticated by a node certificate may act for (the node
    /// authorizer's rule); a connection not in here (the cluster-admin token) may act for any.
    private(set) var certifiedNode: [LinkID: NodeID] = [:]

    subscript(node: NodeID) -> LinkID? { byNode[node] }

    /// The node a registered connection serves.
    func node(of link: LinkID) -> NodeID? { nodeOf[link] }

    /// Whether `link` is open (registered or not).
    func isOpen(_ link: LinkID) -> Bool { pending.contains(link) || nodeOf[link] != nil }

    /// A new connection, not registered yet; `certifiedNode` is the node its certificate names.
    mutating func open(_ link: LinkID, certifiedNode node: NodeID?) {
        pending.insert(link)
        certifiedNode[link] = node
    }

    /// A connection closed: forgets what it was allowed (its node, if any, is `removeValue`'s).
    mutating func close(_ link: LinkID) {
        pending.remove(link)
        certifiedNode[link] = nil
    }

    /// The open connections whose certificate names `node`, registered or not.
    func certified(for node: NodeID) -> [LinkID] { certifiedNode.filter { $0.value == node }.map(\.key).sorted() }

    /// `link` now serves `node`; returns the connection it replaces, if any.
    mutating func attach(_ node: NodeID, _ link: LinkID) -> LinkID? {
        pending.remove(link)
        let old = byNode.updateValue(link, forKey: node)
        if let old, old != link { nodeOf[old] = nil }
        nodeOf[link] = node
        return old == link ? nil : old
    }

    /// Forgets a node's connection and returns it.
    @discardableResult
    mutating func removeValue(forKey node: NodeID) -> LinkID? {
        guard let link = byNode.removeValue(forKey: node) else { return nil }
        nodeOf[link] = nil
        return link
    }

    var nodes: Dictionary<NodeID, LinkID>.Keys { byNode.keys }
}
