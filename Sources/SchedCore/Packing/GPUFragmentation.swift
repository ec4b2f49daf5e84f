/// Fragmentation of a node's free GPU share with respect to a target workload, as FGD defines it
/// (Weng et al., "Beware of Fragmentation", USENIX ATC '23, §4).
///
/// For one shape m, the free share (thousandths) of node n that m cannot use:
/// - a CPU-only shape counts all free GPU share (it never uses GPUs);
/// - a shape whose GPU models exclude the node's, or that lacks CPU on the node, or that cannot
///   find enough GPUs with `m.gpuMilli` free, counts all free GPU share;
/// - otherwise only the GPUs whose free share is below `m.gpuMilli` count.
/// The node's fragmentation is the frequency-weighted sum over the workload's shapes.
/// FGD places a task where this grows least.
public enum GPUFragmentation {
    /// Fragmented share of `gpuFree` (free thousandths per GPU) for shape `m` on a node of
    /// `modelKey` with `cpuMilliFree` free.
    public static func amount(_ m: ShareRequest, gpuFree: [Int], freeTotal: Int, cpuMilliFree: Int, accepts: Bool) -> Int {
        if m.gpus == 0 || !accepts || cpuMilliFree < m.cpuMilli { return freeTotal }
        var fitting = 0, frag = 0
        for f in gpuFree {
            if f >= m.gpuMilli { fitting += 1 } else { frag += f }
        }
        return fitting >= m.gpus ? frag : freeTotal
    }

    /// Frequency-weighted fragmentation of a node (thousandths of a GPU).
    public static func amount(of node: ShareNode, workload: TargetWorkload) -> Double {
        amount(gpuFree: node.gpuFree, cpuMilliFree: node.cpuMilliFree, node: node, workload: workload)
    }

    /// Same, for the node's model with the given free GPU share and CPU (a hypothetical state).
    public static func amount(gpuFree: [Int], cpuMilliFree: Int, node: ShareNode, workload: TargetWorkload) -> Double {
        let freeTotal = gpuFree.reduce(0, +)
        guard freeTotal > 0 else { return 0 }
        var sum = 0.0
        for s in workload.shapes {
            let a = amount(s.request, gpuFree: gpuFree, freeTotal: freeTotal, cpuMilliFree: cpuMilliFree, accepts: s.request.accepts(node))
            sum += s.frequency * Double(a)
        }
        return sum
    }
}
