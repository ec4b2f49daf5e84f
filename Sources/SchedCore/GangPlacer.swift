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
        var scratch = snapshot
        return place(request, count: count, in: &scratch, locality: locality)
    }

    /// As `place(_:count:in:locality:)`, trying members on `snapshot` itself and taking them off
    /// again before returning, so a caller that owns its snapshot pays no copy of the fleet.
    /// Every node's state is as before on return; nodes tried may sit elsewhere in their index
    /// buckets, which can change which equally good candidates a later decision looks at first.
    public func place(_ request: ResourceRequest, count: Int, in snapshot: inout ClusterSnapshot,
                      locality: NVLinkLocality?) -> GangDecision {
        guard let locality else { return placeAll(request, count: count, in: &snapshot) }
        // Domains that could hold the whole gang, from the capacity index: only nodes whose free
        // capacity reaches one task count, and a domain needs room for `count` tasks over them.
        let prepared = Placer.Prepared(request)
        let index = snapshot.index
        var room = [Int](repeating: 0, count: index.domainNames.count)
        for i in index.positionsReaching(request, arch: prepared.arch, model: prepared.model) {
            let d = Int(index.domainOf[i])
            if d >= 0 { room[d] += index.tasksFitting(request, at: i) }
        }
        // Tightest domain first: the fewest free GPUs, then PUs, then the name (schedulable
        // nodes' free capacity as the index files it). A gang of whole GPUs takes the same GPUs
        // and PUs from whichever domain it lands in, so this is also the order of what each domain
        // has left afterwards; the first domain that takes the gang wins.
        var candidates: [(key: (Int, Int, String), domain: Int)] = []
        for (d, r) in room.enumerated() where r >= count {
            var gpus = 0, pus = 0
            for m in index.domainMembers[d] {
                gpus += Int(index.keys[Int(m)].gpus)
                pus += Int(index.keys[Int(m)].pus)
            }
            candidates.append(((gpus, pus, index.domainNames[d]), d))
        }
        candidates.sort { $0.key < $1.key }
        var best: (key: (Int, Int, String), decisions: [PlacementDecision])?
        for c in candidates {
            var domain = ClusterSnapshot(nodes: index.domainMembers[c.domain].map { snapshot.nodes[Int($0)] })
            if case .placed(let decisions) = placeAll(request, count: count, in: &domain) {
                best = (c.key, decisions)
                break
            }
        }
        if let best { return .placed(best.decisions) }
        if locality == .preferred { return placeAll(request, count: count, in: &snapshot) }
        // Required and no domain fits: explain against the whole fleet, or say no domain exists.
        switch placeAll(request, count: count, in: &snapshot) {
        case .unplaceable(let e): return .unplaceable(e)
        case .placed:
            let e = PlacementExplanation(policy: placer.policy.rawValue, nodesEvaluated: snapshot.nodes.count, nodesFeasible: 0,
                                         rejections: [RejectionCount(reason: .noTopologyFit, nodes: snapshot.nodes.count)],
                                         topCandidates: [])
            return .unplaceable(e)
        }
    }

    /// Places the members one by one on `snapshot`, then takes them off again.
    func placeAll(_ request: ResourceRequest, count: Int, in snapshot: inout ClusterSnapshot) -> GangDecision {
        var out: [PlacementDecision] = []
        var applied: [(node: Int, assignment: Assignment)] = []
        defer { for (i, a) in applied.reversed() { snapshot.release(a, fromNodeAt: i) } }
        for _ in 0..<count {
            let d = placer.place(request, in: snapshot)
            switch d {
            case .placed(let a, _, _):
                out.append(d)
                guard let i = snapshot.position(of: a.node) else { return .unplaceable(d.explanation) }
                snapshot.apply(a, toNodeAt: i)
                applied.append((i, a))
            case .unplaceable(let e):
                return .unplaceable(e)
            }
        }
        return .placed(out)
    }
}
