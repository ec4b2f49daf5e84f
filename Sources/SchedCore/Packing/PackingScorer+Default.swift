/// The product policy (`PackingPolicy.fragmentationPacking`; `default` in `schedctl simulate`,
/// `fgd-pack` for schedd's queues).
///
/// FGD (Weng et al., ATC '23: the score ⌊sigmoid(−Δ/1000) × 100⌋ of the fragmentation growth Δ,
/// and its GPU choice) with two workload-independent changes:
/// - **Memory strands GPUs too.** FGD's fragmentation counts a node's free GPU share as unusable
///   by a shape that lacks CPU there, but ignores memory (its shapes carry none), so it happily
///   fills a node's memory next to free GPUs. Here the CPU a shape sees on a node is
///   `min(free CPU, free memory × the node's CPU per MiB)`: a node whose memory is exhausted looks
///   as CPU-exhausted as it is in fact (the target workload's shapes are assumed to need memory in
///   the node's own memory-to-CPU proportion). Everything else (shapes, sigmoid, integer
///   truncation, GPU choice) is FGD's.
/// - **Ties of CPU-only tasks**: a CPU-only task goes to the node with the least free GPU share
///   among the best-scored ones, because CPUs used there strand the fewest GPUs (FGD takes the
///   first node, which is often one whose free GPUs then lack CPUs). Other ties go to the first
///   node (lowest id), as in FGD, which consolidates work on few nodes and keeps the rest whole.
/// Deterministic (no random draw); O(GPUs × shapes) per node, mostly memo lookups.
extension PackingScorer {
    func defaultScore(_ pod: ShareRequest, _ node: ShareNode, _ model: Int) -> PackingCandidate {
        fragmentationScore(pod, node, model,
                           cpuBefore: Self.usableCPU(node, cpuMilliFree: node.cpuMilliFree, memoryMiBFree: node.memoryMiBFree),
                           cpuAfter: Self.usableCPU(node, cpuMilliFree: node.cpuMilliFree - pod.cpuMilli,
                                                    memoryMiBFree: node.memoryMiBFree - pod.memoryMiB),
                           tieBreak: pod.gpus == 0 ? -Double(node.gpuFreeTotal) : 0)
    }

    /// The CPU (millicores) a target shape can use on `node` with `cpuMilliFree` and `memoryMiBFree`
    /// free: the free CPU, or less when the free memory, at the node's own memory-to-CPU ratio,
    /// covers less. A node without memory capacity counts CPU only.
    static func usableCPU(_ node: ShareNode, cpuMilliFree: Int, memoryMiBFree: Int) -> Int {
        guard node.memoryMiBCapacity > 0 else { return cpuMilliFree }
        let byMemory = Double(max(0, memoryMiBFree)) * Double(node.cpuMilliCapacity) / Double(node.memoryMiBCapacity)
        return min(cpuMilliFree, Int(byMemory))
    }
}
