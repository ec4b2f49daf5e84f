import SchedCore

/// The fleet's state, the assignments still running (oldest first) and the PU fill level.
struct Fleet {
    var snapshot: ClusterSnapshot
    let index: [NodeID: Int]
    let totalPUs: Int
    let totalGPUs: Int
    private(set) var usedPUs = 0
    private(set) var live: [(node: Int, assignment: Assignment)] = []
    private var head = 0
    private(set) var releases = 0
    private(set) var released = 0

    init(snapshot: ClusterSnapshot) {
        self.snapshot = snapshot
        var index: [NodeID: Int] = [:]
        index.reserveCapacity(snapshot.nodes.count)
        for (i, n) in snapshot.nodes.enumerated() { index[n.id] = i }
        self.index = index
        totalPUs = snapshot.nodes.reduce(0) { $0 + $1.puCount }
        totalGPUs = snapshot.nodes.reduce(0) { $0 + $1.topology.gpus.count }
    }

    var liveCount: Int { live.count - head }
    var fill: Double { totalPUs == 0 ? 0 : Double(usedPUs) / Double(totalPUs) }

    mutating func apply(_ a: Assignment, on node: Int) {
        // A check that the core's answer is sound (not timed): nothing handed out twice.
        precondition(snapshot.nodes[node].canApply(a), "assignment overlaps what \(a.node) already runs")
        snapshot.apply(a, toNodeAt: node)
        usedPUs += a.pus.count
        live.append((node, a))
    }

    /// Steady state: once more than `threshold` of the fleet's PUs are in use, the oldest
    /// `fraction` of live assignments finish and give their resources back.
    mutating func releaseIfFull(threshold: Double = 0.8, fraction: Double = 0.1) {
        guard fill > threshold else { return }
        let k = max(1, Int(Double(liveCount) * fraction))
        for i in head..<(head + k) {
            let (node, a) = live[i]
            snapshot.release(a, fromNodeAt: node)
            usedPUs -= a.pus.count
        }
        head += k
        releases += 1
        released += k
        if head > live.count / 2 {
            live.removeFirst(head)
            head = 0
        }
    }
}

enum Prefill {
    /// Loads the fleet before the measured run, without the placer (a full-fleet walk per task
    /// would take hours at 100,000 nodes): round by round, every node that still has room takes
    /// one task from a second seeded stream, picked on that node by the real `CPUAllocator`.
    /// Graviton-class nodes take inference tasks; Vera Rubin trays take the whole mix. A node
    /// stops when `target` of its PUs are in use or after 8 tasks that did not fit.
    /// Round by round keeps the assignments interleaved across nodes, so "the oldest 10%" that
    /// the steady state releases are spread over the fleet.
    /// Returns the number of tasks placed.
    static func run(_ fleet: inout Fleet, target: Double, seed: UInt64) -> Int {
        guard target > 0 else { return 0 }
        var gen = Workload(seed: seed ^ 0x5EED_F111_0000_0001)
        let n = fleet.snapshot.nodes.count
        var misses = [UInt8](repeating: 0, count: n)
        var active = Array(0..<n)
        var placed = 0
        while !active.isEmpty {
            var still: [Int] = []
            still.reserveCapacity(active.count)
            for i in active {
                let node = fleet.snapshot.nodes[i]
                let request = node.topology.gpus.isEmpty ? gen.inference() : gen.next().request
                if let a = CPUAllocator.pick(request, on: node) {
                    fleet.apply(a, on: i)
                    placed += 1
                } else {
                    misses[i] += 1
                }
                let after = fleet.snapshot.nodes[i]
                if misses[i] < 8, Double(after.usedPUCount) < target * Double(after.puCount) {
                    still.append(i)
                }
            }
            active = still
        }
        return placed
    }
}

/// What the measured run saw.
struct RunResult {
    var attempts = 0
    var placed = 0
    var unplaceable = 0
    var placedByKind = [Int](repeating: 0, count: Workload.Kind.allCases.count)
    var attemptsByKind = [Int](repeating: 0, count: Workload.Kind.allCases.count)
    /// Sum over decisions of the explanation's `nodesFeasible` (nodes that passed every filter).
    var feasibleNodes = 0
    /// Wall time of each `Placer.place` call, in nanoseconds, in call order.
    var latenciesNs: [Int64] = []
    var totalNs: Int64 { latenciesNs.reduce(0, +) }
}

enum Replay {
    /// Replays `jobs` requests through the real `Placer`, timing each `place` call alone; applies
    /// each placement to its node and releases the oldest assignments when the fleet is full.
    static func run(_ fleet: inout Fleet, jobs: Int, seed: UInt64, policy: SchedulingPolicy, progress: Bool) -> RunResult {
        let placer = Placer(policy: policy)
        var gen = Workload(seed: seed)
        var result = RunResult()
        result.latenciesNs.reserveCapacity(jobs)
        let clock = ContinuousClock()
        let step = max(1, jobs / 10)
        for j in 0..<jobs {
            let (kind, request) = gen.next()
            let start = clock.now
            let decision = placer.place(request, in: fleet.snapshot)
            let elapsed = start.duration(to: clock.now)
            result.latenciesNs.append(nanoseconds(elapsed))
            result.attempts += 1
            result.feasibleNodes += decision.explanation.nodesFeasible
            result.attemptsByKind[kind.rawValue] += 1
            if case .placed(let a, _, _) = decision, let i = fleet.index[a.node] {
                fleet.apply(a, on: i)
                result.placed += 1
                result.placedByKind[kind.rawValue] += 1
                fleet.releaseIfFull()
            } else {
                result.unplaceable += 1
            }
            if progress, (j + 1) % step == 0 {
                printErr("sched-bench: \(j + 1)/\(jobs) decisions, \(result.placed) placed, fill \(percent(fleet.fill))")
            }
        }
        return result
    }

    static func nanoseconds(_ d: Duration) -> Int64 {
        let c = d.components
        return c.seconds * 1_000_000_000 + c.attoseconds / 1_000_000_000
    }
}

/// Nearest-rank percentile of sorted values.
func percentile(_ sorted: [Int64], _ p: Double) -> Int64 {
    guard !sorted.isEmpty else { return 0 }
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
    return sorted[min(sorted.count - 1, max(0, rank - 1))]
}

