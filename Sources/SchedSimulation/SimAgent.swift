import SchedControlPlane
import SchedCore
import SchedProtocol

/// One simulated sched-agent: its node, its connection, and the tasks it runs (which survive
/// the agent's crash only when the fault says so, as tasks under the shim do).
struct SimAgent {
    struct Task {
        var start: StartTask
        /// nil while running.
        var exit: TaskExit?
        /// The process's end is scheduled (it runs until then).
        var endsAt: Int64?
    }

    let node: NodeID
    let topology: NodeTopology
    let labels: [String: String]?
    /// The open connection, nil while disconnected (or crashed).
    var link: LinkID?
    /// REGISTERED received on `link`.
    var registered = false
    /// Crashed: not running until it restarts.
    var down = false
    /// Partitioned from schedd until this time: nothing crosses either way meanwhile.
    var partitionedUntil: Int64 = 0
    var heartbeatMs = 1000
    var tasks: [JobID: Task] = [:]
    /// Delivery times of the last line each way, to keep each direction in order (TCP).
    var lastToSchedd: Int64 = 0
    var lastToAgent: Int64 = 0

    init(node: NodeID, topology: NodeTopology, labels: [String: String]?) {
        self.node = node
        self.topology = topology
        self.labels = labels
    }

    /// What REGISTER reports: every task it knows, running or ended and not yet acknowledged.
    var reports: [TaskReport] {
        tasks.keys.sorted().map { id in
            let t = tasks[id]!
            return TaskReport(ref: t.start.ref, pid: 1, binding: nil, exit: t.exit)
        }
    }

    /// Live tasks' assignments sharing a PU or over-committing a GPU with `a`.
    func clashes(_ a: Assignment) -> Bool {
        var milli: [Int: Int] = [:]
        for g in a.gpus { milli[g, default: 0] += a.milliPerGPU }
        for t in tasks.values where t.exit == nil {
            let o = t.start.assignment
            if !o.pus.isDisjoint(with: a.pus) { return true }
            for g in o.gpus where milli[g] != nil { milli[g]! += o.milliPerGPU }
        }
        return milli.values.contains { $0 > 1000 }
    }
}
