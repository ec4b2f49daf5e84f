import SchedControlPlane
import SchedCore
import SchedProtocol

/// Simulated schedctl users: submits of single jobs, arrays, gangs and services, cancels,
/// drains and reads; and what they were told.
extension ChaosSimulator {
    mutating func clientActs() {
        defer { if !quietPhase { queue.push(.client, at: nowMs + Int64(random(20...250))) } }
        guard plane != nil else { return }
        let roll = random(0...99)
        switch roll {
        case 0..<55: request(.submit([randomSpec()], placeAtOnce: chance(0.5)), .submit)
        case 55..<70:
            guard !knownJobs.isEmpty else { return }
            let job = knownJobs[random(0...(knownJobs.count - 1))]
            request(.cancel(job, stored: nil), .cancel(job))
        case 70..<76:
            let node = agents[random(0...(agents.count - 1))].node
            let drain = chance(0.6)
            request(drain ? .drain(node, reason: "chaos") : .undrain(node), .drain(node, drain))
        case 76..<85:
            let job = knownJobs.isEmpty ? JobID(1) : knownJobs[random(0...(knownJobs.count - 1))]
            request(chance(0.5) ? .getJob(job, stored: nil) : .explain(job, stored: nil, latest: nil), .read)
        default:
            request(.status, .read)
        }
    }

    mutating func request(_ r: ClientRequest, _ kind: Pending) {
        let id = nextRequest
        nextRequest += 1
        pending[id] = kind
        if case .cancel(let job) = kind { cancelsNotRefused[job, default: 0] += 1 }
        // Every drain or undrain counts, the quiet phase's too: only the last one for a node
        // that may take effect decides what the store holds.
        if case .drain(let node, _) = kind { drainRequests[node, default: []].append(id) }
        remember(.request(id, r))
        toPlane(.request(id, r, from: .clusterAdmin))
    }

    /// A mix like the fleet's: Arm tasks, GPU tasks, arrays, NVLink gangs, services, and now and
    /// then a high-priority or a capped tenant's job, a preemptible one, a time limit.
    mutating func randomSpec() -> JobSpec {
        var s = JobSpec(command: ["true"], resources: ResourceRequest(cpus: random(1...8), memoryBytes: Int64(random(0...8)) << 30))
        switch random(0...99) {
        case 0..<40: s.resources.arch = "aarch64"
        case 40..<60:
            s.resources.gpus = 1
            if chance(0.3) { s.resources.gpuMilli = [250, 500][random(0...1)] }
        case 60..<75: s.array = random(2...6)
        case 75..<87:
            s.array = random(2...SimFleet.traysPerDomain)
            s.gang = true
            s.resources.gpus = random(1...4)
            s.resources.cpus = random(1...4)
            s.nvlink = chance(0.5) ? .required : .preferred
        case 87..<93:
            s.service = true
            s.array = random(1...3)
            s.command = ["service"]
        default:
            s.resources.cpus = random(8...16)
        }
        if chance(0.15) { s.priority = random(1...10) }
        if chance(0.25) { s.preemptible = true }
        if chance(0.1) { s.timeLimitSeconds = random(1...2) }
        // The capped tenant's jobs fit within its cap (a job that never can waits forever).
        if chance(0.15), s.array == nil, s.resources.gpus <= 4 { s.tenant = "capped" } else if chance(0.2) { s.tenant = "team-a" }
        if chance(0.1) { s.queue = "pack" }
        return s
    }

    mutating func clientReceives(_ id: RequestID, _ reply: ControlReply) {
        guard let kind = pending.removeValue(forKey: id) else { return }
        remember(.reply(id, reply))
        switch (kind, reply) {
        case (.submit, .submitted(let firsts, let counts)):
            for (first, count) in zip(firsts, counts) {
                for k in 0..<Int64(count) {
                    let job = JobID(first.id.rawValue + k)
                    acknowledged.insert(job)
                    knownJobs.append(job)
                    if first.spec.service == true { services.append(job) }
                    if store.jobs[job] == nil { violate("acknowledged job stored", "job \(job) acknowledged before it was stored") }
                }
            }
        case (.cancel(let job), .message(.error)):
            cancelsNotRefused[job, default: 0] -= 1
            cancelsRefused[job, default: 0] += 1
        case (.cancel(let job), .message(.jobInfo)):
            // Confirmed: the store holds the cancel (or the job's end).
            let s = store.jobs[job]
            if !(s?.state.isTerminal == true || s?.cancelRequested == true) {
                violate("a confirmed change is stored", "cancel of job \(job) confirmed while the store has it \(s?.state.rawValue ?? "missing")")
            }
        case (.drain(let node, let want), .message(.nodeInfo)):
            // Confirmed: the store holds this change, unless a later request for the node has
            // replaced it. A later one that was refused never takes effect; one still waiting,
            // accepted but not stored, or lost in a crash may have.
            if !(drainRequests[node] ?? []).contains(where: { $0 > id }), store.nodes[node]?.drained != want {
                violate("a confirmed change is stored", "\(want ? "drain" : "undrain") of \(node) confirmed while the store has drained=\(store.nodes[node]?.drained.description ?? "missing")")
            }
            drainRequests[node]?.removeAll { $0 == id }
        case (.drain(let node, _), .message(.error)):
            drainRequests[node]?.removeAll { $0 == id }
        default:
            break
        }
    }
}
