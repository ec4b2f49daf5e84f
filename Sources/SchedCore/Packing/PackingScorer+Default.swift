/// The product policy (`PackingPolicy.fragmentationPacking`; `default` in `schedctl simulate`,
/// `fgd-pack` for schedd's queues).
///
/// FGD (Weng et al., ATC '23) with two workload-independent changes:
/// 1. Inside the node, the task takes the GPU whose choice grows fragmentation least, measured
///    exactly (FGD compares its truncated integer scores and keeps the first GPU among equals).
///    The node's score is FGD's integer ⌊sigmoid(−Δ/1000) × 100⌋ of that smallest growth Δ.
/// 2. A CPU-only task, among nodes with the same score, goes to the node with the least free GPU
///    share: CPUs used there strand the fewest GPUs. Other ties go to the first node (lowest id),
///    which consolidates work on few nodes and keeps the rest whole.
/// Deterministic (no random draw); O(GPUs × shapes) per node, mostly memo lookups.
extension PackingScorer {
    func defaultScore(_ pod: ShareRequest, _ node: ShareNode, _ model: Int) -> PackingCandidate {
        let before = memo.amount(gpuFree: node.gpuFree, cpuMilliFree: node.cpuMilliFree, model: model)
        let cpuAfter = node.cpuMilliFree - pod.cpuMilli
        var delta = Double.infinity
        var gpus: [Int] = []
        if pod.sharesGPU {
            // GPUs with the same free share are interchangeable: try the first of each.
            var seen = 0
            var tried = (0, 0, 0, 0, 0, 0, 0, 0)
            for (g, f) in node.gpuFree.enumerated() where f >= pod.gpuMilli {
                var dup = false
                withUnsafeBytes(of: &tried) { raw in
                    let t = raw.bindMemory(to: Int.self)
                    for k in 0..<min(seen, 8) where t[k] == f { dup = true }
                }
                if dup { continue }
                if seen < 8 { withUnsafeMutableBytes(of: &tried) { $0.bindMemory(to: Int.self)[seen] = f } }
                seen += 1
                let d = memo.amount(gpuFree: node.gpuFree, replacing: g, with: f - pod.gpuMilli, take: 0, count: 0,
                                    cpuMilliFree: cpuAfter, model: model) - before
                if d < delta - 1e-9 { delta = d; gpus = [g] }
            }
        } else {
            delta = memo.amount(gpuFree: node.gpuFree, replacing: -1, with: 0, take: pod.gpuMilli, count: pod.gpus,
                                cpuMilliFree: cpuAfter, model: model) - before
            gpus = Self.firstFreeGPUs(pod.gpus, node)
        }
        let score = Double(Int64(Self.sigmoid(-delta / 1000) * 100))
        return PackingCandidate(score: score, tieBreak: pod.gpus == 0 ? -Double(node.gpuFreeTotal) : 0, gpus: gpus)
    }
}
