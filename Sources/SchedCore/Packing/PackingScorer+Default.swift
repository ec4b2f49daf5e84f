/// The product policy (`PackingPolicy.fragmentationPacking`; `default` in `schedctl simulate`,
/// `fgd-pack` for schedd's queues).
///
/// FGD (Weng et al., ATC '23: the score ⌊sigmoid(−Δ/1000) × 100⌋ of the fragmentation growth Δ,
/// and its GPU choice) with one workload-independent change to how equal scores are broken:
/// a CPU-only task goes to the node with the least free GPU share among the best-scored ones,
/// because CPUs used there strand the fewest GPUs (FGD takes the first node, which is often one
/// whose free GPUs then lack CPUs). Other ties go to the first node (lowest id), as in FGD,
/// which consolidates work on few nodes and keeps the rest whole.
/// Deterministic (no random draw); O(GPUs × shapes) per node, mostly memo lookups.
extension PackingScorer {
    func defaultScore(_ pod: ShareRequest, _ node: ShareNode, _ model: Int) -> PackingCandidate {
        let c = fgd(pod, node, model)
        return PackingCandidate(score: c.score, tieBreak: pod.gpus == 0 ? -Double(node.gpuFreeTotal) : 0, gpus: c.gpus)
    }
}
