/// Why a node was ruled out. Cases are listed in the order filters run.
public enum RejectionReason: String, Sendable, Codable, Hashable, CaseIterable, Error {
    case notReady = "not ready"
    case draining = "draining"
    case reserved = "reserved for an earlier job"
    case wrongArch = "wrong arch"
    case labelMismatch = "node labels do not match"
    case noGPUModel = "no GPU of the requested model"
    case tooFewCPUs = "too few free CPUs"
    case tooLittleMemory = "too little free memory"
    case tooFewGPUs = "too few free GPUs"
    case noTopologyFit = "no fit within NUMA topology"

    /// The reason's place in `allCases` (filter order), without a search.
    var position: Int {
        switch self {
        case .notReady: 0
        case .draining: 1
        case .reserved: 2
        case .wrongArch: 3
        case .labelMismatch: 4
        case .noGPUModel: 5
        case .tooFewCPUs: 6
        case .tooLittleMemory: 7
        case .tooFewGPUs: 8
        case .noTopologyFit: 9
        }
    }

    /// Resource dimension whose numbers go with this reason, if any.
    var dimension: ResourceDimension? {
        switch self {
        case .tooFewCPUs: .cpus
        case .tooLittleMemory: .memory
        case .tooFewGPUs, .noGPUModel: .gpus
        default: nil
        }
    }
}

/// A resource dimension named in explanations.
public enum ResourceDimension: String, Sendable, Codable, Hashable {
    case cpus, memory, gpus
}

/// How many nodes one reason ruled out, with the numbers of the closest node:
/// what was requested, the most any such node had free, and the largest capacity among them.
public struct RejectionCount: Sendable, Codable, Hashable {
    public var reason: RejectionReason
    public var nodes: Int
    public var requested: Int64?
    public var bestFree: Int64?
    public var bestCapacity: Int64?
    public init(reason: RejectionReason, nodes: Int, requested: Int64? = nil, bestFree: Int64? = nil, bestCapacity: Int64? = nil) {
        self.reason = reason
        self.nodes = nodes
        self.requested = requested
        self.bestFree = bestFree
        self.bestCapacity = bestCapacity
    }
}

/// A feasible node and its score.
public struct CandidateScore: Sendable, Codable, Hashable {
    public var node: NodeID
    public var score: Int
    public init(node: NodeID, score: Int) {
        self.node = node
        self.score = score
    }
}

/// Why the chosen node scored what it did: each dimension's use after placement, in percent, and
/// the preference tier (1 = preferred: a node without GPUs for a task that needs none, or any node
/// for a GPU task).
public struct ScoreBreakdown: Sendable, Codable, Hashable {
    public var tier: Int
    public var cpuPercentAfter: Int?
    public var memoryPercentAfter: Int?
    public var gpuPercentAfter: Int?
    public init(tier: Int, cpuPercentAfter: Int?, memoryPercentAfter: Int?, gpuPercentAfter: Int?) {
        self.tier = tier
        self.cpuPercentAfter = cpuPercentAfter
        self.memoryPercentAfter = memoryPercentAfter
        self.gpuPercentAfter = gpuPercentAfter
    }
}

/// What the core looked at for one decision; serialised as the placement-log record's body.
public struct PlacementExplanation: Sendable, Codable, Hashable {
    public var policy: String
    public var nodesEvaluated: Int
    public var nodesFeasible: Int
    /// Rejections per reason, in filter order; reasons that ruled out nothing are omitted.
    public var rejections: [RejectionCount]
    /// The best feasible nodes, best first (at most 3).
    public var topCandidates: [CandidateScore]
    /// The chosen node's score breakdown (absent when nothing was placed).
    public var chosen: ScoreBreakdown?
    /// Nodes large enough that the core did not look at, because enough candidates were found
    /// first (absent when every node was looked at or ruled out).
    public var nodesNotExamined: Int?

    public init(policy: String, nodesEvaluated: Int, nodesFeasible: Int, rejections: [RejectionCount], topCandidates: [CandidateScore]) {
        self.policy = policy
        self.nodesEvaluated = nodesEvaluated
        self.nodesFeasible = nodesFeasible
        self.rejections = rejections
        self.topCandidates = topCandidates
    }

    /// One line in the style of `0/3 nodes available: 1 wrong arch, 2 too few free GPUs` (reasons in filter order).
    public var summary: String {
        var s = "\(nodesFeasible)/\(nodesEvaluated) nodes available"
        if !rejections.isEmpty {
            s += ": " + rejections.map { "\($0.nodes) \($0.reason.rawValue)" }.joined(separator: ", ")
        }
        if let n = nodesNotExamined, n > 0 { s += "; \(n) not examined (enough candidates found first)" }
        return s
    }
}
