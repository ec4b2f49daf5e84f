/// Counts the nodes each reason ruled out during one decision, with the numbers of the closest
/// node (most free, largest capacity), for the explanation.
struct RejectionTally {
    private var nodes = [Int](repeating: 0, count: RejectionReason.allCases.count)
    private var bestFree = [Int64](repeating: -1, count: RejectionReason.allCases.count)
    private var bestCapacity = [Int64](repeating: -1, count: RejectionReason.allCases.count)

    /// `count` nodes ruled out for the reason at position `k`, without numbers.
    mutating func add(_ k: Int, count: Int) { nodes[k] += count }

    /// `count` nodes ruled out for `reason`; `free`/`capacity` are the best among them.
    mutating func add(_ reason: RejectionReason, count: Int, free: Int64 = 0, capacity: Int64 = 0) {
        let k = CapacityIndex.position(reason)
        nodes[k] += count
        if free > bestFree[k] { bestFree[k] = free }
        if capacity > bestCapacity[k] { bestCapacity[k] = capacity }
    }

    /// One node ruled out for `reason`, with its own numbers.
    mutating func reject(_ reason: RejectionReason, request: ResourceRequest, node: NodeState) {
        let (free, cap) = Placer.numbers(for: reason, request: request, node: node)
        add(reason, count: 1, free: free, capacity: cap)
    }

    /// The explanation's rejection list, in filter order; reasons that ruled out nothing omitted.
    func counts(for request: ResourceRequest) -> [RejectionCount] {
        var out: [RejectionCount] = []
        for (k, r) in RejectionReason.allCases.enumerated() where nodes[k] > 0 {
            let req: Int64? = switch r.dimension {
            case .cpus: Int64(request.cpus)
            case .memory: request.memoryBytes
            case .gpus: Int64(request.gpus)
            case nil: nil
            }
            out.append(RejectionCount(reason: r, nodes: nodes[k], requested: req,
                                      bestFree: req == nil ? nil : max(0, bestFree[k]),
                                      bestCapacity: req == nil ? nil : max(0, bestCapacity[k])))
        }
        return out
    }
}
