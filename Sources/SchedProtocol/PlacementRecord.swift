import SchedCore

/// One entry of the placement log: a decision about one job and its reasons.
/// Format and compatibility rules: docs/placement-log.md.
public struct PlacementRecord: Sendable, Codable, Hashable {
    public enum Outcome: String, Sendable, Codable, Hashable {
        /// The job was given a node.
        case placed
        /// No node could take the job now; `explanation` says why.
        case pending
        /// The job was stopped with its gang because another member failed; `summary` says which.
        case stopped
    }
    /// Record format version.
    public var v: Int
    /// Position in the log, assigned by the store (1, 2, ...).
    public var seq: Int64
    /// RFC 3339 UTC time of the decision.
    public var time: String
    public var job: JobID
    public var jobName: String
    public var outcome: Outcome
    public var request: ResourceRequest
    public var node: NodeID?
    public var pus: CPUSet?
    public var numaNodes: NUMASet?
    public var gpus: [Int]?
    /// Share of each GPU in thousandths when the task shares a GPU; absent for whole GPUs.
    public var gpuMilli: Int?
    public var memory: [NUMAMemory]?
    public var policy: String
    public var score: Int?
    /// One-line summary, e.g. `0/3 nodes available: 1 wrong arch, 2 too few free GPUs` (reasons in filter order).
    public var summary: String
    public var explanation: PlacementExplanation
    /// For a job with alternative shapes: the shape chosen (0 = its `resources`) and why.
    public var shape: Int?
    /// The job's tenant: who may read the record (absent in records written before tenants were
    /// authenticated, which only a cluster admin sees).
    public var tenant: String?

    public static let currentVersion = 1

    /// A `stopped` record: the job was stopped because of `why` (a gang member failed).
    public static func stopped(time: String, job: JobID, jobName: String, request: ResourceRequest, why: String) -> PlacementRecord {
        let e = PlacementExplanation(policy: "none", nodesEvaluated: 0, nodesFeasible: 0, rejections: [], topCandidates: [])
        var r = PlacementRecord(time: time, job: job, jobName: jobName, request: request, decision: .unplaceable(e))
        r.outcome = .stopped
        r.summary = why
        return r
    }

    public init(seq: Int64 = 0, time: String, job: JobID, jobName: String, request: ResourceRequest,
                decision: PlacementDecision) {
        self.v = Self.currentVersion
        self.seq = seq
        self.time = time
        self.job = job
        self.jobName = jobName
        self.request = request
        let e = decision.explanation
        self.policy = e.policy
        self.explanation = e
        switch decision {
        case .placed(let a, let score, _):
            outcome = .placed
            node = a.node
            pus = a.pus
            numaNodes = a.numaNodes
            gpus = a.gpus
            gpuMilli = a.gpuMilli
            memory = a.memory
            self.score = score
            summary = "placed on \(a.node) (score \(score)); " + e.summary
        case .unplaceable:
            outcome = .pending
            summary = e.summary
        }
    }
}
