import SchedControlPlane
import SchedCore
import SchedProtocol

/// The rules checked after every step (besides those checked where they happen: a task on two
/// nodes, an acknowledged job missing after a restart, a confirmed change not stored, an ERR
/// that took effect, a terminal job made active again).
extension ChaosSimulator {
    mutating func checkInvariants() {
        guard plane != nil else { return }
        // No PU, GPU share or memory byte given twice, and no tenant past its cap.
        var byNode: [NodeID: [Assignment]] = [:]
        var cappedCPUs = 0, cappedGPUMilli = 0
        var gangs: [(JobID, Int)] = []
        plane!.forEachActiveJob { j in
            guard let a = j.assignment else { return }
            byNode[a.node, default: []].append(a)
            if j.spec.tenant == "capped" {
                cappedCPUs += a.pus.count
                cappedGPUMilli += a.gpus.count * a.milliPerGPU
            }
            if j.spec.gang == true, let g = j.arrayJob, let size = j.spec.array { gangs.append((g, size)) }
        }
        for (node, list) in byNode where list.count > 1 {
            var pus = CPUSet()
            var milli: [Int: Int] = [:]
            var memory: [Int: Int64] = [:]
            for a in list {
                if !pus.isDisjoint(with: a.pus) {
                    return violate("no PU given twice", "\(node): PUs \(pus.intersection(a.pus)) held by two active jobs")
                }
                pus.formUnion(a.pus)
                for g in a.gpus { milli[g, default: 0] += a.milliPerGPU }
                for m in a.memory { memory[m.numa, default: 0] += m.bytes }
            }
            if let (g, m) = milli.first(where: { $0.value > 1000 }) {
                return violate("no GPU share given twice", "\(node): GPU \(g) holds \(m)/1000")
            }
            if let i = agentIndex[node] {
                for n in agents[i].topology.numaNodes where (memory[n.id] ?? 0) > n.memoryBytes {
                    return violate("no memory byte given twice", "\(node): NUMA \(n.id) holds \(memory[n.id]!) of \(n.memoryBytes) bytes")
                }
            }
        }
        if let c = cappedCap.cpus, cappedCPUs > c { return violate("quota", "tenant capped holds \(cappedCPUs) PUs, cap \(c)") }
        if let g = cappedCap.gpuMilli, cappedGPUMilli > g { return violate("quota", "tenant capped holds \(cappedGPUMilli)/1000 GPUs, cap \(g)") }
        // A gang runs all its members or none: no member placed while another waits, unless the
        // gang is being stopped (a member ended, failed, was cancelled or preempted).
        var seen = Set<JobID>()
        for (g, size) in gangs where seen.insert(g).inserted {
            var placed = 0, waiting = 0, stopping = false
            for k in 0..<Int64(size) {
                plane!.withHeldJob(JobID(g.rawValue + k)) { m in
                    guard let m else { return }
                    if m.state.isTerminal || m.gangStoppedBy != nil || m.preemptedBy != nil || m.cancelRequested == true { stopping = true }
                    if m.state.isActive { placed += 1 } else if m.state == .pending { waiting += 1 }
                }
            }
            if !stopping, placed > 0, waiting > 0 {
                return violate("gang all or none", "gang \(g): \(placed) members placed while \(waiting) wait")
            }
        }
    }
}
