/// The GPU-sharing packing policies: the six the FGD paper compares (Weng et al., USENIX ATC '23,
/// as its public simulator defines them) and the product's own, `fragmentationPacking`.
///
/// Every policy scores one node for one task and picks the GPUs the task gets there
/// (`PackingScorer`); `SharePlacer` filters, scores and selects. Scores of the paper's policies
/// are the simulator's integers (ties are common; `SharePlacer` gives them to the node that comes
/// first in its order, as the simulator's patched kube-scheduler does); the product policy breaks
/// ties itself and never draws.
public enum PackingPolicy: String, Sendable, CaseIterable, Hashable {
    /// A random feasible node, and a random fitting GPU there for a sharing task.
    case random = "Random"
    /// Tetris: the smallest dot product of the request and the free resources (CPU, GPU share
    /// of the chosen GPU or of the whole free GPUs), both over the largest node (128 CPUs, 8 GPUs).
    case dotProduct = "DotProd"
    /// Nodes already running tasks of the same GPU kind (share / k whole GPUs) first, then
    /// empty nodes, then others; within a class, the node with less free GPU share.
    case gpuClustering = "GpuClustering"
    /// Shared GPUs first (least free), then whole free GPUs on a used node, then an empty node.
    case gpuPacking = "GpuPacking"
    /// Least free CPU and GPU share left after placement (half weight each, over the largest
    /// node), min-max normalised over the feasible nodes.
    case bestFit = "BestFit"
    /// Fragmentation gradient descent: the smallest growth of the GPU share the target workload
    /// can no longer use, as sigmoid(−Δ/1000) × 100 truncated to an integer.
    case fgd = "FGD"
    /// The product default (`default` in `schedctl simulate`, `fgd-pack` in schedd): FGD's score
    /// and GPU choice, with free memory counted as CPU at the node's memory-to-CPU ratio in the
    /// fragmentation measure, and CPU-only tasks breaking ties towards the node with the least
    /// free GPU share (see `PackingScorer+Default.swift` and docs/simulation.md).
    case fragmentationPacking = "default"

    /// Accepts the names above case-insensitively, plus `fgd-pack` for the product policy.
    public init?(name: String) {
        let n = name.lowercased()
        if n == "fgd-pack" || n == "frag-pack" { self = .fragmentationPacking; return }
        guard let p = Self.allCases.first(where: { $0.rawValue.lowercased() == n }) else { return nil }
        self = p
    }

    /// The six policies of the paper, in its order.
    public static let published: [PackingPolicy] = [.random, .dotProduct, .gpuClustering, .gpuPacking, .bestFit, .fgd]
}
