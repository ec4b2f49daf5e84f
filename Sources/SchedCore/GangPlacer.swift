/// Where a gang's tasks must sit relative to NVLink domains (racks; node label `nvlink.domain`).
public enum NVLinkLocality: String, Sendable, Codable, Hashable, CaseIterable {
    /// All tasks inside one NVLink domain, or none placed.
    case required
    /// One domain when some domain can hold the whole gang, else anywhere.
    case preferred
}

/// The outcome of placing a gang: every task's assignment, or why the first one that failed could not go.
public enum GangDecision: Sendable, Hashable {
    /// One `.placed` decision per task, in task order.
    case placed([PlacementDecision])
    case unplaceable(PlacementExplanation)
}

/// Places all tasks of a gang or none (all-or-nothing), as one decision in the pure core.
///
/// Tasks are placed one after the other on a scratch copy of the snapshot, each with the normal
/// `Placer` (filters, tier, policy, in-node pick), so the gang sees every earlier member's
/// resources as taken. With a locality, each NVLink domain is tried on its own and the domain
/// left with the fewest free GPUs (then PUs) after placement wins — a best fit that keeps the
/// other domains whole for the next gang; ties go to the domain name that sorts first. Because the
/// whole gang is decided at once, two gangs can never each hold part of what the other needs.
public struct GangPlacer: Sendable {
    public static let domainLabel = "nvlink.domain"
    public var placer: Placer

    public init(placer: Placer) { self.placer = placer }

    /// The assignments for `count` tasks of `request`, or nil with the explanation of the first
    /// task that did not fit (over the whole fleet).
    public func place(_ request: ResourceRequest, count: Int, in snapshot: ClusterSnapshot,
                      locality: NVLinkLocality?) -> GangDecision {
        guard let locality else { return placeAll(request, count: count, in: snapshot) }
        var domains: [String: [NodeState]] = [:]
        for n in snapshot.nodes { if let d = n.labels[Self.domainLabel] { domains[d, default: []].append(n) } }
        var best: (key: (Int, Int, String), decisions: [PlacementDecision])?
        for (d, nodes) in domains {
            guard case .placed(let decisions) = placeAll(request, count: count, in: ClusterSnapshot(nodes: nodes)) else { continue }
            let assignments = decisions.compactMap { d -> Assignment? in if case .placed(let a, _, _) = d { a } else { nil } }
            // What the domain has left after the gang (fewer is a tighter fit).
            var left = ClusterSnapshot(nodes: nodes)
            for a in assignments { left.apply(a) }
            let freeGPUs = left.nodes.reduce(0) { $0 + $1.freeGPUCount }
            let freePUs = left.nodes.reduce(0) { $0 + $1.freePUCount }
            let key = (freeGPUs, freePUs, d)
            if best == nil || key < best!.key { best = (key, decisions) }
        }
        if let best { return .placed(best.decisions) }
        if locality == .preferred { return placeAll(request, count: count, in: snapshot) }
        // Required and no domain fits: explain against the whole fleet, or say no domain exists.
        switch placeAll(request, count: count, in: snapshot) {
        case .unplaceable(let e): return .unplaceable(e)
        case .placed:
            let e = PlacementExplanation(policy: placer.policy.rawValue, nodesEvaluated: snapshot.nodes.count, nodesFeasible: 0,
                                         rejections: [RejectionCount(reason: .noTopologyFit, nodes: snapshot.nodes.count)],
                                         topCandidates: [])
            return .unplaceable(e)
        }
    }

    func placeAll(_ request: ResourceRequest, count: Int, in snapshot: ClusterSnapshot) -> GangDecision {
        var scratch = snapshot
        var out: [PlacementDecision] = []
        for _ in 0..<count {
            let d = placer.place(request, in: scratch)
            switch d {
            case .placed(let a, _, _):
                out.append(d)
                scratch.apply(a)
            case .unplaceable(let e):
                return .unplaceable(e)
            }
        }
        return .placed(out)
    }
}
