import SchedControlPlane
import SchedCore
import SchedProtocol

/// The simulated agents: connect, register with their tasks, heartbeat, run and stop tasks.
extension ChaosSimulator {
    /// Sends a line to schedd on the agent's current link, in order, late while partitioned;
    /// with network faults on, some lines arrive twice or late (out of order).
    mutating func agentSends(_ i: Int, _ m: Message) {
        guard let link = agents[i].link, !agents[i].down else { return }
        var at = nowMs + Int64(random(0...2))
        if agents[i].partitionedUntil > nowMs { at = max(at, agents[i].partitionedUntil + 1) }
        let chaos = networkChaosUntil > nowMs
        if chaos, chance(0.2) {
            // Delayed past later lines: reordered.
            at += Int64(random(5...400))
        } else {
            at = max(at, agents[i].lastToSchedd)
            agents[i].lastToSchedd = at
        }
        queue.push(.toSchedd(i, link, m, epoch: epoch), at: at)
        // Only reports an agent may send again are duplicated: TCP never repeats a line, and
        // an agent sends REGISTER once per connection (a late copy would carry stale tasks).
        var repeatable = true
        if case .register = m { repeatable = false }
        if chaos, repeatable, chance(0.1) {
            // The same report again (an agent re-sending after a timeout).
            queue.push(.toSchedd(i, link, m, epoch: epoch), at: at + Int64(random(0...50)))
        }
    }

    mutating func agentConnects(_ i: Int) {
        guard !agents[i].down, agents[i].link == nil else { return }
        guard plane != nil else {
            // schedd is down: try again with jittered backoff.
            queue.push(.agentConnect(i), at: nowMs + Int64(random(100...1000)))
            return
        }
        let link = nextLink
        nextLink += 1
        agents[i].link = link
        agents[i].registered = false
        agents[i].lastToSchedd = nowMs
        agents[i].lastToAgent = nowMs
        linkOwner[link] = i
        scheddLinks.insert(link)
        toPlane(.linkOpened(link))
        agentSends(i, .register(Register(node: agents[i].node, topology: agents[i].topology, emulated: true,
                                         tasks: agents[i].reports, labels: agents[i].labels)))
    }

    /// The connection is gone (schedd closed it, or it was reset): reconnect after a backoff.
    mutating func agentLosesLink(_ i: Int, _ link: LinkID) {
        if scheddLinks.remove(link) != nil { toPlane(.linkClosed(link, node: agents[i].node)) }
        guard agents[i].link == link else { return }
        agents[i].link = nil
        agents[i].registered = false
        if !agents[i].down { queue.push(.agentConnect(i), at: nowMs + Int64(random(50...1000))) }
    }

    mutating func agentReceives(_ i: Int, _ link: LinkID, _ m: Message) {
        guard agents[i].link == link, !agents[i].down else { return }
        switch m {
        case .registered(let r):
            agents[i].registered = true
            // Exits since REGISTER (which reported those tasks running) are reported now.
            for id in agents[i].tasks.keys.sorted() {
                if let t = agents[i].tasks[id], let exit = t.exit { agentSends(i, .taskExited(TaskExited(ref: t.start.ref, exit: exit))) }
            }
            agents[i].heartbeatMs = r.heartbeatIntervalMs
            queue.push(.heartbeatDue(i, link), at: nowMs + Int64(r.heartbeatIntervalMs))
        case .heartbeatInterval(let h):
            agents[i].heartbeatMs = h.heartbeatIntervalMs
        case .startTask(let s):
            startTask(i, s)
        case .killTask(let k):
            guard var t = agents[i].tasks[k.ref.job], t.exit == nil else { return }
            // Stops within its grace period: at once or after a little while.
            let end = nowMs + Int64(random(0...min(2000, k.graceSeconds * 1000)))
            if t.endsAt == nil || end < t.endsAt! {
                t.endsAt = end
                agents[i].tasks[k.ref.job] = t
                queue.push(.taskEnds(i, k.ref.job, TaskExit(signal: Int32(k.signal ?? 15))), at: end)
            }
        case .ackExit(let a):
            if agents[i].tasks[a.ref.job]?.exit != nil { agents[i].tasks[a.ref.job] = nil }
        default:
            break
        }
    }

    mutating func startTask(_ i: Int, _ s: StartTask) {
        let job = s.ref.job
        if agents[i].tasks[job] != nil { return }  // already known: a repeated START_TASK
        if agents[i].clashes(s.assignment) {
            result.refusedOverlap += 1
            let exit = TaskExit(error: "refused: PUs or GPU already held (simulated agent)")
            agents[i].tasks[job] = SimAgent.Task(start: s, exit: exit)
            agentSends(i, .taskExited(TaskExited(ref: s.ref, exit: exit)))
            return
        }
        // A service replica whose node was lost is restarted elsewhere at once (availability
        // first, as a Kubernetes Deployment); its old copy is killed when that node is back.
        if let other = runningOn[job], other != i, s.command.first != "service" {
            violate("no task runs on two nodes", "job \(job) starts on \(agents[i].node) while its task still runs on \(agents[other].node)")
            return
        }
        runningOn[job] = i
        // A run of 0.1-3 s; one in ten fails.
        let end = nowMs + Int64(random(100...3000))
        let exit = chance(0.1) ? TaskExit(exitCode: 1) : TaskExit(exitCode: 0)
        let service = s.command.first == "service"
        agents[i].tasks[job] = SimAgent.Task(start: s, exit: nil, endsAt: service ? nil : end)
        agentSends(i, .taskStarted(TaskStarted(ref: s.ref, pid: 1, binding: HostBinding(cpus: s.assignment.pus, numaNodes: s.assignment.numaNodes),
                                               stdoutPath: "", stderrPath: "")))
        if !service { queue.push(.taskEnds(i, job, exit), at: end) }
    }

    mutating func taskEnds(_ i: Int, _ job: JobID, _ exit: TaskExit) {
        guard var t = agents[i].tasks[job], t.exit == nil else { return }
        // A crashed agent's surviving task still ends; its exit waits for the restarted agent.
        t.exit = exit
        agents[i].tasks[job] = t
        if runningOn[job] == i { runningOn[job] = nil }
        if agents[i].registered { agentSends(i, .taskExited(TaskExited(ref: t.start.ref, exit: exit))) }
    }

    mutating func heartbeat(_ i: Int, _ link: LinkID) {
        guard agents[i].link == link, agents[i].registered, !agents[i].down else { return }
        agentSends(i, .heartbeat(Heartbeat(node: agents[i].node, running: agents[i].tasks.count)))
        queue.push(.heartbeatDue(i, link), at: nowMs + Int64(agents[i].heartbeatMs))
    }

    /// The agent process dies; its tasks survive (under their shims) or die with it.
    mutating func crashAgent(_ i: Int, tasksSurvive: Bool) {
        guard !agents[i].down else { return }
        result.agentCrashes += 1
        agents[i].down = true
        if let link = agents[i].link {
            agents[i].link = nil
            agents[i].registered = false
            if scheddLinks.contains(link) { queue.push(.linkClosedBySchedd(i, link), at: nowMs + Int64(random(1...10))) }
        }
        if !tasksSurvive {
            for (job, t) in agents[i].tasks where t.exit == nil && runningOn[job] == i { runningOn[job] = nil }
            agents[i].tasks.removeAll()
        }
        note("\(agents[i].node): agent crashes, tasks \(tasksSurvive ? "survive" : "die")")
        queue.push(.agentRestart(i), at: nowMs + Int64(random(200...5000)))
    }

    mutating func agentRestarts(_ i: Int) {
        agents[i].down = false
        agentConnects(i)
    }
}
