import SchedCore

/// The fleet's state, the jobs still running (oldest first, each with its tasks) and the PU fill level.
struct Fleet {
    var snapshot: ClusterSnapshot
    let index: [NodeID: Int]
    let totalPUs: Int
    let totalGPUs: Int
    private(set) var usedPUs = 0
    private(set) var live: [[(node: Int, assignment: Assignment)]] = []
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

    /// Applies one job's tasks (after checking, untimed, that nothing is handed out twice).
    mutating func apply(_ job: [Assignment]) {
        var tasks: [(node: Int, assignment: Assignment)] = []
        for a in job {
            let node = index[a.node]!
            precondition(snapshot.nodes[node].canApply(a), "assignment overlaps what \(a.node) already runs")
            snapshot.apply(a, toNodeAt: node)
            usedPUs += a.pus.count
            tasks.append((node, a))
        }
        live.append(tasks)
    }

    /// Steady state: once more than `threshold` of the fleet's PUs are in use, the oldest
    /// `fraction` of live jobs finish and give their resources back (a gang all at once).
    mutating func releaseIfFull(threshold: Double = 0.8, fraction: Double = 0.1) {
        guard fill > threshold else { return }
        let k = max(1, Int(Double(liveCount) * fraction))
        for i in head..<(head + k) {
            for (node, a) in live[i] {
                snapshot.release(a, fromNodeAt: node)
                usedPUs -= a.pus.count
            }
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
    /// Loads the fleet before the measured run, without the placer: round by round, every node
    /// that still has room takes one task from a second seeded stream, picked on that node by the
    /// real `CPUAllocator`. Graviton-class nodes take inference tasks; Vera Rubin trays take
    /// inference and GPU tasks, except the trays of every fourth rack, kept empty for training
    /// gangs. A node stops when `target` of its PUs are in use or after 8 tasks that did not fit.
    /// Round by round keeps the assignments interleaved across nodes, so "the oldest 10%" that
    /// the steady state releases are spread over the fleet.
    /// Returns the number of tasks placed.
    static func run(_ fleet: inout Fleet, target: Double, seed: UInt64) -> Int {
        guard target > 0 else { return 0 }
        var gen = Workload(seed: seed ^ 0x5EED_F111_0000_0001)
        let n = fleet.snapshot.nodes.count
        var misses = [UInt8](repeating: 0, count: n)
        // Every fourth rack (racks are named vr-<rack>-<tray>) is kept for training gangs.
        var active = (0..<n).filter { i in
            guard let rack = fleet.snapshot.nodes[i].labels[GangPlacer.domainLabel], let r = Int(rack.dropFirst(3)) else { return true }
            return r % 4 != 3
        }
        var placed = 0
        while !active.isEmpty {
            var still: [Int] = []
            still.reserveCapacity(active.count)
            for i in active {
                let node = fleet.snapshot.nodes[i]
                let request = node.topology.gpus.isEmpty || gen.coin() ? gen.inference() : gen.gpu()
                if let a = CPUAllocator.pick(request, on: node) {
                    fleet.apply([a])
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
    /// Jobs submitted and jobs whose every task was placed, by kind.
    var jobsByKind = [Int](repeating: 0, count: Workload.Kind.allCases.count)
    var jobsPlacedByKind = [Int](repeating: 0, count: Workload.Kind.allCases.count)
    /// Tasks placed, by kind.
    var tasksPlacedByKind = [Int](repeating: 0, count: Workload.Kind.allCases.count)
    /// Decisions that placed nothing.
    var unplaceable = 0
    /// Sum over decisions of the explanation's `nodesFeasible` (single-task decisions only).
    var feasibleNodes = 0
    var singleDecisions = 0
    /// Wall time of each decision (one `Placer.place`, or one `GangPlacer.place` for a whole
    /// gang), in nanoseconds, in call order.
    var latenciesNs: [Int64] = []
    var totalNs: Int64 { latenciesNs.reduce(0, +) }
    var decisions: Int { latenciesNs.count }
    var tasksPlaced: Int { tasksPlacedByKind.reduce(0, +) }
}

enum Replay {
    /// Replays `jobs` jobs through the real `Placer` and `GangPlacer`, timing each decision alone:
    /// a single task is one decision, every task of an array or every replica of a service is one
    /// decision (the array stops at its first task that does not fit), a gang is one decision for
    /// all its members. Placements are applied to the fleet, and the oldest jobs are released
    /// when the fleet is full.
    static func run(_ fleet: inout Fleet, jobs: Int, seed: UInt64, policy: SchedulingPolicy, progress: Bool) -> RunResult {
        let placer = Placer(policy: policy)
        let gangs = GangPlacer(placer: placer)
        var gen = Workload(seed: seed)
        var result = RunResult()
        result.latenciesNs.reserveCapacity(jobs * 4)
        let clock = ContinuousClock()
        let step = max(1, jobs / 10)
        for j in 0..<jobs {
            let job = gen.next()
            let kind = job.kind.rawValue
            result.jobsByKind[kind] += 1
            var placed: [Assignment] = []
            if job.isGang {
                let start = clock.now
                let decision = gangs.place(job.request, count: job.tasks, in: &fleet.snapshot, locality: job.locality)
                result.latenciesNs.append(nanoseconds(start.duration(to: clock.now)))
                if case .placed(let ds) = decision {
                    for d in ds { if case .placed(let a, _, _) = d { placed.append(a) } }
                } else {
                    result.unplaceable += 1
                }
                if !placed.isEmpty { fleet.apply(placed) }
            } else {
                for _ in 0..<job.tasks {
                    let start = clock.now
                    let decision = placer.place(job.request, in: fleet.snapshot)
                    result.latenciesNs.append(nanoseconds(start.duration(to: clock.now)))
                    result.feasibleNodes += decision.explanation.nodesFeasible
                    result.singleDecisions += 1
                    guard case .placed(let a, _, _) = decision else {
                        result.unplaceable += 1
                        break
                    }
                    // Each task is applied before the next is placed, as schedd does.
                    fleet.apply([a])
                    placed.append(a)
                }
            }
            result.tasksPlacedByKind[kind] += placed.count
            if placed.count == job.tasks { result.jobsPlacedByKind[kind] += 1 }
            fleet.releaseIfFull()
            if progress, (j + 1) % step == 0 {
                printErr("sched-bench: \(j + 1)/\(jobs) jobs, \(result.tasksPlaced) tasks placed, fill \(percent(fleet.fill))")
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

