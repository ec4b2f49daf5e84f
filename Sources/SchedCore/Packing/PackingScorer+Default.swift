/// The product policy (`PackingPolicy.fragmentationPacking`, `default` in `schedctl simulate`).
///
/// FGD's idea with three changes, all workload-independent:
/// 1. the exact fragmentation growth Δ (no sigmoid, no truncation to an integer: FGD's integer
///    score ties most nodes whose Δ is within ±20 thousandths of a GPU, and breaks those ties at
///    random, which spreads work);
/// 2. the GPU choice inside the node minimises Δ for every task kind, not only sharing ones;
/// 3. ties on Δ (to 10⁻⁶ of a GPU) go to the node left with the least free GPU share, then the
///    least free CPU (best fit), then the lowest index: deterministic, no random draw.
extension PackingScorer {
    func defaultScore(_ pod: ShareRequest, _ node: ShareNode, _ model: Int) -> PackingCandidate {
        let before = memo.amount(gpuFree: node.gpuFree, cpuMilliFree: node.cpuMilliFree, model: model)
        let cpuAfter = node.cpuMilliFree - pod.cpuMilli
        var free = node.gpuFree
        var bestDelta = Double.infinity
        var gpus: [Int] = []
        if pod.sharesGPU {
            var seen: [Int] = []
            for g in free.indices where node.gpuFree[g] >= pod.gpuMilli && !seen.contains(node.gpuFree[g]) {
                seen.append(node.gpuFree[g])
                free[g] -= pod.gpuMilli
                let d = memo.amount(gpuFree: free, cpuMilliFree: cpuAfter, model: model) - before
                free[g] += pod.gpuMilli
                if d < bestDelta - 1e-9 { bestDelta = d; gpus = [g] }
            }
        } else {
            gpus = Self.firstFreeGPUs(pod.gpus, node)
            for g in gpus { free[g] -= pod.gpuMilli }
            bestDelta = memo.amount(gpuFree: free, cpuMilliFree: cpuAfter, model: model) - before
        }
        let gpuLeft = Double(node.gpuFreeTotal - pod.gpuDemandMilli) / Double(max(1, node.gpuCount * 1000))
        let cpuLeft = Double(cpuAfter) / Double(max(1, node.cpuMilliCapacity))
        let score = -(bestDelta * 1e6).rounded() / 1e6
        return PackingCandidate(score: score, tieBreak: -(gpuLeft * 1000).rounded() - cpuLeft, gpus: gpus)
    }
}
