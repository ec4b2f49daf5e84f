/// Picks the exact GPUs, NUMA nodes, PUs and memory for one task on one node.
///
/// Rules, in order:
/// 1. GPUs: prefer a NUMA node that has enough free GPUs of the model *and* enough free PUs and
///    memory of its own (best fit: the one with the fewest free GPUs that still suffices).
///    Otherwise take free GPUs grouped by NUMA node, largest groups first.
/// 2. PUs: if one NUMA node can hold the task (PUs and memory), use it, preferring the GPUs'
///    NUMA nodes, then the node with the fewest free PUs that suffice (best fit).
///    Within it, prefer one L3 group that holds the whole task (best fit), taking PUs core by core.
///    Otherwise spread over NUMA nodes, preferred ones first, then those with most free PUs.
/// 3. Memory comes from the NUMA nodes of the chosen PUs, in the same order, then from others.
public enum CPUAllocator {
    public static func pick(_ request: ResourceRequest, on node: NodeState) -> Assignment? {
        let topo = node.topology
        let free = node.freePUs
        // Free PUs and free memory per CPU-bearing NUMA node (by position).
        let cpuNUMA = node.nodeClass.cpuNUMAPositions
        func freePUs(_ pos: Int) -> CPUSet { topo.numaNodes[pos].cpus.intersection(free) }
        func freeCount(_ pos: Int) -> Int { topo.numaNodes[pos].cpus.intersectionCount(free) }

        // 1. GPUs.
        var gpus: [Int] = []
        var preferredNUMA: [Int] = []   // positions
        if request.gpus > 0 {
            let want = request.gpuModel.flatMap { $0.isEmpty ? nil : Array($0.lowercased().utf8) }
            var candidates = topo.gpus.filter {
                node.gpuModelMatches($0.index, want)
                    && (request.sharesGPU ? node.gpuMilliUsed[$0.index] + request.gpuMilli <= 1000 : node.gpuMilliUsed[$0.index] == 0)
            }
            guard candidates.count >= request.gpus else { return nil }
            if request.sharesGPU {
                // Best fit among GPUs: the one with the least free share that still fits, so
                // partly used GPUs fill up and whole GPUs stay whole.
                candidates.sort { (node.freeMilli(gpu: $0.index), $0.index) < (node.freeMilli(gpu: $1.index), $1.index) }
            }
            // Group by the first local NUMA node (OS index); -1 = unknown locality.
            var groups: [Int: [Int]] = [:]
            for g in candidates { groups[g.numaNodes.members.first ?? -1, default: []].append(g.index) }
            let local = groups.keys.sorted().compactMap { os -> (pos: Int, gpus: [Int])? in
                guard os >= 0, let pos = node.nodeClass.numaPosition(ofOS: os), let gs = groups[os], gs.count >= request.gpus,
                      freeCount(pos) >= request.cpus, node.freeMemory(numaPosition: pos) >= request.memoryBytes else { return nil }
                return (pos, gs)
            }
            let bestLocal: (pos: Int, gpus: [Int])?
            if request.sharesGPU {
                // Keep the best-fit GPU order: the first candidate's NUMA node, if it can hold the task.
                bestLocal = candidates.lazy.compactMap { g in local.first { $0.gpus.contains(g.index) }.map { (pos: $0.pos, gpus: [g.index]) } }.first
            } else {
                bestLocal = local.min(by: { $0.gpus.count != $1.gpus.count ? $0.gpus.count < $1.gpus.count : $0.pos < $1.pos })
            }
            if let best = bestLocal {
                gpus = Array(best.gpus.prefix(request.gpus))
                preferredNUMA = [best.pos]
            } else if request.sharesGPU, let g = candidates.first {
                gpus = [g.index]
                if let os = g.numaNodes.members.first, let pos = node.nodeClass.numaPosition(ofOS: os) { preferredNUMA = [pos] }
            } else {
                let ordered = groups.sorted { $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.key < $1.key }
                for (os, gs) in ordered where gpus.count < request.gpus {
                    gpus += gs.prefix(request.gpus - gpus.count)
                    if os >= 0, let pos = node.nodeClass.numaPosition(ofOS: os) { preferredNUMA.append(pos) }
                }
            }
        }

        // 2. PUs.
        var chosenNUMA: [Int] = []
        let fitsOne = cpuNUMA.filter { freeCount($0) >= request.cpus && node.freeMemory(numaPosition: $0) >= request.memoryBytes }
        if let pos = preferredNUMA.first(where: { fitsOne.contains($0) })
            ?? fitsOne.min(by: { (freeCount($0), $0) < (freeCount($1), $1) }) {
            chosenNUMA = [pos]
        } else {
            let rest = cpuNUMA.filter { !preferredNUMA.contains($0) }
                .sorted { (-freeCount($0), $0) < (-freeCount($1), $1) }
            var have = 0
            for pos in preferredNUMA.filter({ cpuNUMA.contains($0) }) + rest where have < request.cpus {
                let n = freeCount(pos)
                if n == 0 { continue }
                chosenNUMA.append(pos)
                have += n
            }
            guard have >= request.cpus else { return nil }
        }
        var pus = CPUSet()
        var remaining = request.cpus
        for pos in chosenNUMA where remaining > 0 {
            let taken = takePUs(remaining, within: freePUs(pos), numaPosition: pos, node: node)
            pus.formUnion(taken)
            remaining -= taken.count
        }
        guard remaining == 0 else { return nil }

        // 3. Memory.
        var memory: [NUMAMemory] = []
        var need = request.memoryBytes
        let memOrder = chosenNUMA + cpuNUMA.filter { !chosenNUMA.contains($0) }
        for pos in memOrder where need > 0 {
            let take = min(need, node.freeMemory(numaPosition: pos))
            if take > 0 {
                memory.append(NUMAMemory(numa: topo.numaNodes[pos].id, bytes: take))
                need -= take
            }
        }
        guard need == 0 else { return nil }
        var numa = NUMASet(chosenNUMA.map { topo.numaNodes[$0].id })
        for m in memory { numa.insert(m.numa) }
        return Assignment(node: node.id, pus: pus, numaNodes: numa, gpus: gpus.sorted(), memory: memory,
                          gpuMilli: request.sharesGPU ? request.gpuMilli : nil)
    }

    /// Takes up to `count` PUs from `available` on one NUMA node, keeping them together:
    /// the L3 group with the fewest free PUs that still holds them all, else L3 groups by most free;
    /// within a group, core by core in hwloc's order.
    static func takePUs(_ count: Int, within available: CPUSet, numaPosition pos: Int, node: NodeState) -> CPUSet {
        let cores = node.topology.cores
        let groups = node.nodeClass.coreGroups[pos]
        // Free PUs per L3 group of this NUMA node.
        var best: (group: Int, free: Int)?
        var free = [Int](repeating: 0, count: groups.count)
        for (gi, g) in groups.enumerated() {
            for c in g.cores { free[gi] += cores[c].pus.intersectionCount(available) }
            // The group with the fewest free PUs that still holds them all (then the lowest L3).
            if free[gi] >= count, best == nil || (free[gi], g.l3) < (best!.free, groups[best!.group].l3) { best = (gi, free[gi]) }
        }
        let order: [Int]
        if let best {
            order = [best.group]
        } else {
            // Else the groups with the most free PUs first.
            order = groups.indices.filter { free[$0] > 0 }.sorted { (free[$1], groups[$0].l3) < (free[$0], groups[$1].l3) }
        }
        var out = CPUSet()
        var left = count
        for gi in order {
            // Fully free cores first so two tasks share a core only when they must; cores in id order.
            for fullyFreePass in [true, false] {
                for c in groups[gi].cores {
                    let pus = cores[c].pus
                    let full = pus.isSubset(of: available)
                    if full != fullyFreePass || (!full && pus.isDisjoint(with: available)) { continue }
                    for p in pus where left > 0 && available.contains(p) {
                        out.insert(p)
                        left -= 1
                    }
                    if left == 0 { return out }
                }
            }
        }
        // PUs not under any core (should not happen) as a last resort.
        for p in available where left > 0 && !out.contains(p) {
            out.insert(p)
            left -= 1
        }
        return out
    }
}
