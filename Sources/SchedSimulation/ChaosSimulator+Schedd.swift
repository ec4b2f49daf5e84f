import SchedControlPlane
import SchedCore
import SchedProtocol

/// schedd's shell in the simulation: the store's writer, timers, connections and replies.
extension ChaosSimulator {
    /// Starts a schedd incarnation from what the store holds.
    mutating func startSchedd() {
        epoch += 1
        var p = ControlPlane(config: Self.planeConfig(bugs: config.bugs), loaded: store.loaded(), at: instant)
        p.plantedBugs = config.bugs
        _ = p.takeActions()
        plane = p
        storeOps = []
        queue.push(.periodic(epoch: epoch), at: nowMs + 1000)
        // Every acknowledged job is in the store and in the new schedd.
        for id in acknowledged.sorted() where store.jobs[id] == nil || plane!.heldJob(id) == nil {
            violate("acknowledged job lost", "job \(id) was acknowledged but is missing after the restart")
            return
        }
    }

    /// schedd dies: what was not committed is lost; a store operation under way is either
    /// whole or not there, and so are the ones after it.
    mutating func crashSchedd() {
        guard plane != nil else { return }
        result.scheddCrashes += 1
        let cut = storeOps.isEmpty ? 0 : random(0...storeOps.count)
        for (i, o) in storeOps.enumerated() where i < cut { apply(o.op, succeeded: true) }
        note("schedd crashes; \(cut) of \(storeOps.count) store operations in progress made it")
        storeOps = []
        plane = nil
        pending.removeAll()
        for link in scheddLinks.sorted() {
            if let i = linkOwner[link] { queue.push(.linkClosedBySchedd(i, link), at: nowMs + Int64(random(1...20))) }
        }
        scheddLinks.removeAll()
        queue.push(.scheddRestart, at: nowMs + Int64(random(200...3000)))
    }

    mutating func perform(_ action: ControlAction) {
        switch action {
        case .send(let link, let message):
            guard let i = linkOwner[link], scheddLinks.contains(link) else { return }
            var at = nowMs + Int64(random(0...2))
            if agents[i].partitionedUntil > nowMs { at = max(at, agents[i].partitionedUntil + 1) }
            at = max(at, agents[i].lastToAgent)
            agents[i].lastToAgent = at
            queue.push(.toAgent(i, link, message), at: at)
        case .closeLink(let link):
            guard let i = linkOwner[link], scheddLinks.contains(link) else { return }
            queue.push(.linkClosedBySchedd(i, link), at: max(nowMs + 1, agents[i].partitionedUntil + 1))
        case .reply(let id, let reply):
            clientReceives(id, reply)
        case .refuse:
            break
        case .insertJobs(let id, let insert):
            enqueueStore(.insert(id, insert))
        case .commit(let batch):
            enqueueStore(.commit(batch))
        case .arm(let timer, let ms):
            var at = nowMs + Int64(ms)
            if slowTimersUntil > nowMs { at += Int64(random(0...400)) }
            queue.push(.plane(.timer(timer), epoch: epoch), at: at)
        case .log:
            break
        }
    }

    mutating func enqueueStore(_ op: StoreOp) {
        let latency = Int64(storeStallUntil > nowMs ? random(200...1500) : random(0...3))
        let doneAt = max(nowMs, storeOps.last?.doneAt ?? 0) + latency
        storeOps.append((op, doneAt))
        queue.push(.storeDone(epoch: epoch), at: doneAt)
    }

    /// The oldest store operation of the live schedd completes.
    mutating func storeDone(_ ep: Int) {
        guard ep == epoch, !storeOps.isEmpty else { return }
        let (op, _) = storeOps.removeFirst()
        let fails = storeFailuresLeft > 0
        if fails {
            storeFailuresLeft -= 1
            result.commitsFailed += 1
        }
        apply(op, succeeded: !fails)
    }

    /// Applies a store operation (or its failure) and tells the live schedd, if any.
    mutating func apply(_ op: StoreOp, succeeded: Bool) {
        switch op {
        case .insert(let id, let insert):
            let outcome: Result<[JobInfo], StoreFailure> = succeeded ? .success(store.insert(insert)) : .failure(StoreFailure("disk full (simulated)"))
            if plane != nil { toPlane(.jobsInserted(id, outcome)) }
        case .commit(let batch):
            if succeeded {
                for j in batch.jobs where j.id == debugJob {
                    print("DEBUG t=\(nowMs) epoch \(epoch) store: job \(j.id) \(j.state.rawValue) on \(j.node?.rawValue ?? "-") reason \(j.reason ?? "")")
                }
                for j in batch.jobs {
                    if terminalInStore.contains(j.id), !j.state.isTerminal {
                        violate("terminal is final", "job \(j.id) was stored \(store.jobs[j.id]?.state.rawValue ?? "?") and is now stored \(j.state.rawValue)")
                    }
                    if j.state.isTerminal {
                        terminalInStore.insert(j.id)
                        if j.state == .cancelled, cancelsNotRefused[j.id, default: 0] == 0, cancelsRefused[j.id, default: 0] > 0 {
                            violate("an ERR never takes effect", "job \(j.id) was cancelled although every cancel of it was refused")
                        }
                    }
                }
                store.apply(batch)
            }
            if plane != nil { toPlane(.commitFinished(succeeded ? .success(()) : .failure(StoreFailure("disk full (simulated)")))) }
        }
    }

    /// A line from an agent reaches schedd.
    mutating func scheddReceives(_ i: Int, _ link: LinkID, _ m: Message) {
        switch m {
        case .register(let r): toPlane(.register(r, link: link))
        case .heartbeat(let h): toPlane(.heartbeat(h, link: link))
        case .taskStarted(let s): toPlane(.taskStarted(s, node: agents[i].node))
        case .taskExited(let e): toPlane(.taskExited(e, node: agents[i].node))
        default: break
        }
    }
}
