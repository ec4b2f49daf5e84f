import SchedCore
import SchedProtocol

extension ControlPlane {
    /// Handles REGISTER: records the node and reconciles its tasks with the jobs placed on it,
    /// so that nothing is lost and nothing runs twice:
    /// - a job this node should run that the agent reports running stays running;
    /// - one the agent reports finished is finished with its exit status;
    /// - one the agent does not know is re-queued if it was only `starting`, failed if it was `running`;
    /// - a task the agent runs that is not (or no longer) placed here is killed.
    /// REGISTERED is the first line to the agent, followed by any KILL_TASK / ACK_EXIT once stored.
    mutating func register(_ r: Register, link linkID: LinkID) {
        guard links.isOpen(linkID) else {
            actions.append(.refuse(linkID, ErrorReply(.internalError, "unknown link")))
            return
        }
        // A connection serves one node for its whole life: re-registering (or claiming a second
        // node) means opening a new connection, which replaces the old one.
        if let served = links.node(of: linkID) {
            actions.append(.refuse(linkID, ErrorReply(.conflict,
                "REGISTER: this connection already serves node \(served); connect again to register\(served == r.node ? " again" : " \(r.node)")")))
            return
        }
        if let refusal = registerRefusal(r.node, link: linkID) {
            forbid(linkID, refusal)
            return
        }
        if let problem = Self.validate(r.topology) {
            actions.append(.refuse(linkID, ErrorReply(.malformed, "REGISTER: topology: \(problem)")))
            return
        }
        if let problem = Self.validate(labels: r.labels) {
            actions.append(.refuse(linkID, ErrorReply(.malformed, "REGISTER: labels: \(problem)")))
            return
        }
        let now = monoNow
        var entry = nodes[r.node] ?? NodeEntry(stored: StoredNode(name: r.node, topology: r.topology, emulated: r.emulated,
                                                                  drained: false, drainReason: nil), nowMs: now,
                                                classes: &nodeClasses)
        if entry.stored.topology != r.topology || entry.stored.emulated != r.emulated || nodes[r.node] == nil
            || (entry.stored.labels ?? [:]) != (r.labels ?? [:]) {
            entry.stored.topology = r.topology
            entry.stored.emulated = r.emulated
            entry.stored.labels = r.labels
            var state = nodeClasses.node(id: r.node, topology: r.topology, labels: r.labels ?? [:])
            // The stored copy shares the class's arrays too (one copy per node kind, not per node).
            entry.stored.topology = state.topology
            jobs.forEachActive { j in if j.node == r.node, let a = j.assignment, state.canApply(a) { state.apply(a) } }
            entry.state = state
        }
        persist(entry.stored)
        if let old = links.attach(r.node, linkID) { actions.append(.closeLink(old)) }
        entry.linkID = linkID
        entry.down = false
        entry.lastSeenMs = now
        nodes[r.node] = entry
        // REGISTERED goes at once, even while the node's record waits for the store: it promises
        // nothing durable, and the agent sends no heartbeat before it, so holding it would let
        // a store outage mark live nodes down (found by `sched-bench chaos`). Every line after
        // it waits for the commit as usual.
        actions.append(.send(linkID, .registered(Registered(node: r.node, heartbeatIntervalMs: heartbeatIntervalMs))))

        let reported = Dictionary(r.tasks.map { ($0.ref, $0) }, uniquingKeysWith: { a, _ in a })
        var notStored = Set<TaskRef>()
        for var job in jobs.values.filter({ $0.state.isActive && $0.node == r.node }).sorted(by: { $0.id < $1.id }) {
            let ref = TaskRef(job: job.id)
            if let t = reported[ref] {
                if let exit = t.exit {
                    if !finish(&job, exit: exit) { notStored.insert(ref) }
                } else {
                    if job.state == .starting { job.startedAtMs = wallNow }
                    job.state = .running
                    job.pid = t.pid ?? job.pid
                    job.hostBinding = t.binding ?? job.hostBinding
                    save(job)
                    if job.cancelRequested == true {
                        send(.killTask(KillTask(ref: ref, graceSeconds: job.spec.killGraceSeconds ?? 10, reason: "cancelled by user")), to: r.node)
                    } else if job.replacing == true || job.gangStoppedBy != nil {
                        // A stop asked for before a restart or reconnect may have been lost: ask again.
                        let why = job.replacing == true ? "replaced by a rolling update" : "gang member job \(job.gangStoppedBy!) failed"
                        send(.killTask(KillTask(ref: ref, graceSeconds: job.spec.killGraceSeconds ?? 10, reason: why)), to: r.node)
                    }
                }
            } else if job.state == .starting && job.cancelRequested != true && job.spec.isGang {
                // A gang runs whole or not at all: its other members may already run, so this
                // member cannot simply start again alone. It fails, which stops its gang.
                finish(&job, exit: TaskExit(error: "lost: agent on \(r.node) never started it (a gang member cannot start alone)"))
            } else if job.state == .starting && job.cancelRequested != true {
                // Never reached the agent: run it again, once, wherever it fits.
                if let a = job.assignment { nodes[r.node]?.state.release(a) }
                job.state = .pending
                job.assignment = nil
                job.reason = "requeued: agent on \(r.node) never started it"
                save(job)
            } else if job.state == .starting {
                finish(&job, exit: TaskExit(error: "cancelled before it started"))
            } else {
                finish(&job, exit: TaskExit(error: "lost: agent on \(r.node) no longer runs it"))
            }
        }
        for t in r.tasks.sorted(by: { $0.ref < $1.ref }) {
            let job = jobs[t.ref.job]
            let placedHere = job.map { $0.node == r.node && ($0.state.isActive || $0.exit == t.exit) } ?? false
            if t.exit != nil {
                // Acknowledge only exits that are stored (the agent re-reports the others).
                if !notStored.contains(t.ref) { send(.ackExit(AckExit(ref: t.ref)), to: r.node) }
            } else if !placedHere || job?.state.isTerminal == true {
                send(.killTask(KillTask(ref: t.ref, graceSeconds: 5, reason: "not placed on this node")), to: r.node)
            }
        }
        nodes[r.node]?.registered = true
        log(.info, "node registered", ["node.id": "\(r.node)", "pus": "\(r.topology.puCount)",
                                                  "gpus": "\(r.topology.gpus.count)", "tasks": "\(r.tasks.count)"])
        adjustHeartbeatInterval()
        requestPass()
    }

    /// Ends a task's job from an exit report (or a loss), writes it, then frees its resources.
    /// Always true: a write cannot be refused here; what reports it waits for the commit.
    @discardableResult
    mutating func finish(_ job: inout JobInfo, exit: TaskExit) -> Bool {
        let wasActive = job.state.isActive
        job.exit = exit
        job.finishedAtMs = wallNow
        if job.cancelRequested == true {
            job.state = .cancelled
            job.reason = "cancelled by user"
        } else if let by = job.gangStoppedBy {
            job.state = .failed
            job.reason = "stopped with its gang: member job \(by) failed"
        } else if job.replacing == true, let target = job.rollout {
            // Replaced by a rolling update: back to the queue with the new template, at once.
            job.state = .pending
            job.spec = target.spec
            job.revision = target.revision
            job.replacing = nil
            job.notBeforeMs = nil
            job.preemptedBy = nil
            job.finishedAtMs = nil
            job.reason = "rolling update: starting revision \(target.revision)"
        } else if job.timedOut == true {
            job.state = .failed
            job.reason = "time limit of \(job.spec.timeLimitSeconds ?? 0) s reached"
        } else if job.spec.service == true {
            // A service replica is kept running: back to the queue to start again.
            job.state = .pending
            job.restarts = (job.restarts ?? 0) + 1
            // Back-off: 1 s, 2 s, 4 s, ... up to 60 s between restarts, so a crash loop costs little.
            job.notBeforeMs = wallNow + min(60_000, 1000 << min(6, (job.restarts ?? 1) - 1))
            job.reason = "restarting after " + (exit.error ?? (exit.signal.map { "signal \($0)" } ?? "exit code \(exit.exitCode ?? -1)"))
            job.preemptedBy = nil
            job.finishedAtMs = nil
        } else if let by = job.preemptedBy {
            // Preempted (whatever its exit status, e.g. 0 after a clean checkpoint): back to the
            // queue, to run again later, from its checkpoint if it took one.
            job.state = .pending
            job.reason = "preempted by job \(by); requeued"
            job.preemptions = (job.preemptions ?? 0) + 1
            job.preemptedBy = nil
            job.finishedAtMs = nil
        } else if exit.succeeded {
            job.state = .completed
            job.reason = nil
        } else {
            job.state = .failed
            job.reason = exit.error ?? (exit.signal.map { "killed by signal \($0)" } ?? "exit code \(exit.exitCode ?? -1)")
        }
        // A failed gang member brings its gang down (stopped after the caller's loop, see `stopFailedGangs`).
        var stopsGang = false
        if job.state == .failed, job.spec.isGang, job.gangStoppedBy == nil, let g = job.arrayJob, failedGangs[g] == nil {
            let id = job.id
            stopsGang = jobs.values.contains { $0.arrayJob == g && $0.id != id && !$0.state.isTerminal && $0.gangStoppedBy == nil }
            if stopsGang { job.reason = (job.reason ?? "failed") + "; its gang of \(job.spec.array ?? 1) was stopped" }
        }
        save(job)
        if stopsGang, let g = job.arrayJob { failedGangs[g] = job.id }
        if wasActive, let a = job.assignment { nodes[a.node]?.state.release(a) }
        if job.state == .pending {
            // Re-queued after preemption: it keeps its record but gives up its placement.
            job.assignment = nil
            job.hostBinding = nil
            job.pid = nil
            save(job)
        }
        return true
    }

    mutating func heartbeat(_ h: Heartbeat, link linkID: LinkID) {
        if let refusal = heartbeatRefusal(h.node, link: linkID) {
            forbid(linkID, refusal)
            return
        }
        guard var n = nodes[h.node], n.linkID == linkID else {
            actions.append(.refuse(linkID, ErrorReply(.notFound, "node '\(h.node)' is not registered on this connection")))
            return
        }
        n.lastSeenMs = monoNow
        n.lastHeartbeatWallMs = wallNow
        // Free memory is sent only when it changed; a heartbeat without it keeps the last value.
        if let free = h.freeMemory { n.freeMemory = free }
        let wasDown = n.down
        n.down = false
        nodes[h.node] = n
        if wasDown { requestPass() }
    }

    mutating func taskStarted(_ s: TaskStarted, node: NodeID) {
        // Any line from the agent is a sign of life, not only HEARTBEAT (a busy fleet may be late with those).
        let seen = monoNow
        nodes[node]?.lastSeenMs = seen
        guard var job = jobs[s.ref.job], job.state.isActive, job.node == node else {
            send(.killTask(KillTask(ref: s.ref, graceSeconds: 5, reason: "not placed on this node")), to: node)
            return
        }
        let wasStarting = job.state == .starting
        job.state = .running
        job.pid = s.pid
        job.hostBinding = s.binding
        job.stdoutPath = s.stdoutPath
        job.stderrPath = s.stderrPath
        // A run that starts again (requeued, restarted, replaced) is timed from this start.
        job.startedAtMs = wasStarting ? wallNow : (job.startedAtMs ?? wallNow)
        save(job)
        // A new replica running lets a rolling update replace the next one.
        if job.rollout != nil { advanceRollouts() }
    }

    mutating func taskExited(_ e: TaskExited, node: NodeID) {
        let seen = monoNow
        nodes[node]?.lastSeenMs = seen
        if var job = jobs[e.ref.job], job.state.isActive, job.node == node {
            // Not stored: no ACK, so the agent keeps the exit and reports it again on re-register.
            guard finish(&job, exit: e.exit) else { return }
            log(.info, "task ended", ["job.id": "\(job.id)", "job.state": "\(job.state.rawValue)"])
        }
        // Acknowledge only after the exit is durable (or was already known): with group commit
        // the ACK waits in the batch's outbox until the commit.
        send(.ackExit(AckExit(ref: e.ref)), to: node)
        requestPass()
    }

    /// The agent's connection closed. The node stays as it is until its heartbeat times out.
    mutating func linkClosed(_ linkID: LinkID, node: NodeID?) {
        links.close(linkID)
        guard let node, var n = nodes[node], n.linkID == linkID else { return }
        links.removeValue(forKey: node)
        n.linkID = nil
        n.registered = false
        nodes[node] = n
        log(.warning, "agent disconnected", ["node.id": "\(node)"])
    }

    /// Stops running tasks that passed their time limit (SIGTERM, SIGKILL after the grace period);
    /// they end as `failed` with the reason `time limit ... reached`. Call periodically.
    mutating func enforceTimeLimits() {
        let now = wallNow
        for id in jobs.timeLimitedActive {
            guard var job = jobs[id], job.state == .running, job.timedOut != true, job.cancelRequested != true,
                  let limit = job.spec.timeLimitSeconds, let started = job.startedAtMs, let a = job.assignment,
                  now - started >= Int64(limit) * 1000 else { continue }
            job.timedOut = true
            job.reason = "time limit reached, stopping"
            save(job)
            send(.killTask(KillTask(ref: TaskRef(job: job.id), graceSeconds: job.spec.killGraceSeconds ?? 10,
                                    reason: "time limit of \(limit) s reached")), to: a.node)
        }
    }

    /// Marks nodes silent for longer than the timeout as down and fails the jobs they held
    /// (their agents kill such tasks if they come back). Call periodically.
    mutating func checkLiveness() {
        let now = monoNow
        let timeout = Int64(nodeTimeoutMs)
        for (name, n) in nodes where !n.down && now - n.lastSeenMs > timeout {
            nodes[name]?.down = true
            // Forget the silent connection: its heartbeats are refused from now on and closing the
            // link's stream closes our side, so a live agent reconnects and registers afresh.
            if let link = links.removeValue(forKey: name) { actions.append(.closeLink(link)) }
            nodes[name]?.linkID = nil
            nodes[name]?.registered = false
            log(.warning, "node down", ["node.id": "\(name)", "silent.ms": "\(now - n.lastSeenMs)"])
            for var job in jobs.values.filter({ $0.state.isActive && $0.node == name }).sorted(by: { $0.id < $1.id }) {
                if plantedBugs.forgetLostNodeTasks, let a = job.assignment {
                    nodes[a.node]?.state.release(a)
                    job.state = .pending
                    job.assignment = nil
                    save(job)
                    continue
                }
                finish(&job, exit: TaskExit(error: "node \(name) down: no heartbeat for \(now - n.lastSeenMs) ms"))
            }
        }
        stopFailedGangs()
        evictFinishedJobs()
    }

    /// Rejects topologies too large to be real, so a peer cannot make schedd allocate without bound.
    static func validate(_ t: NodeTopology) -> String? {
        if t.puCount == 0 { return "no PUs" }
        if t.puCount > 65_536 { return "more than 65536 PUs" }
        if t.numaNodes.count > 4096 || t.gpus.count > 4096 { return "too many NUMA nodes or GPUs" }
        for g in t.gpus.enumerated() where g.element.index != g.offset { return "GPU indices must be 0..n-1 in order" }
        // The core looks NUMA nodes up in a table indexed by OS index (`NodeClass`).
        for n in t.numaNodes where n.id > 65_535 { return "NUMA node OS index \(n.id) above 65535" }
        return nil
    }

    /// Rejects label sets a peer could use to make schedd store without bound.
    static func validate(labels: [String: String]?) -> String? {
        guard let labels else { return nil }
        if labels.count > 64 { return "more than 64 labels" }
        for (k, v) in labels where k.isEmpty || k.count > 253 || v.count > 253 { return "label '\(k.prefix(40))' must be 1-253 characters, its value at most 253" }
        return nil
    }
}
