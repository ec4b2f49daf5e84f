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
/// resources as taken. With a locality, the NVLink domains that could hold the gang (from the
/// capacity index) are tried on their own, tightest first (fewest free GPUs, then PUs, then
/// name), and the first that takes the whole gang wins — a best fit that keeps the other domains
/// whole for the next gang. Because the
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
        // Domains that could hold the whole gang, from the capacity index: only nodes whose free
        // capacity reaches one task count, and a domain needs room for `count` tasks over them.
        let prepared = Placer.Prepared(request)
        var room: [String: Int] = [:]
        for i in snapshot.index.positionsReaching(request, arch: prepared.arch, model: prepared.model) {
            if let d = snapshot.nodes[i].labels[Self.domainLabel] { room[d, default: 0] += snapshot.index.tasksFitting(request, at: i) }
        }
        // Tightest domain first: the fewest free GPUs, then PUs, then the name. A gang of whole
        // GPUs takes the same GPUs and PUs from whichever domain it lands in, so this is also the
        // order of what each domain has left afterwards; the first domain that takes the gang wins.
        var candidates: [(key: (Int, Int, String), nodes: [Int32])] = []
        for (d, r) in room where r >= count {
            guard let members = snapshot.index.domains[d] else { continue }
            var gpus = 0, pus = 0
            for m in members {
                gpus += snapshot.nodes[Int(m)].freeGPUCount
                pus += snapshot.nodes[Int(m)].freePUCount
            }
            candidates.append(((gpus, pus, d), members))
        }
        candidates.sort { $0.key < $1.key }
        var best: (key: (Int, Int, String), decisions: [PlacementDecision])?
        for c in candidates {
            let domain = ClusterSnapshot(nodes: c.nodes.map { snapshot.nodes[Int($0)] })
            if case .placed(let decisions) = placeAll(request, count: count, in: domain) {
                best = (c.key, decisions)
                break
            }
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
