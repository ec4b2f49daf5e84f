/// What one task asks of a node, as the GPU-sharing packing policies see it (the FGD trace's
/// columns): millicores, MiB, a number of GPUs and the share of each, allowed GPU models.
public struct ShareRequest: Sendable, Hashable {
    public var cpuMilli: Int
    public var memoryMiB: Int
    /// Number of GPUs (0 for a CPU-only task).
    public var gpus: Int
    /// Share of each GPU in thousandths: below 1000 only for a single shared GPU.
    public var gpuMilli: Int
    /// Allowed GPU models, matched exactly (case-insensitive); empty allows every model.
    public var gpuModels: [String]

    public init(cpuMilli: Int, memoryMiB: Int = 0, gpus: Int = 0, gpuMilli: Int = 0, gpuModels: [String] = []) {
        self.cpuMilli = cpuMilli
        self.memoryMiB = memoryMiB
        self.gpus = gpus
        self.gpuMilli = gpus == 0 ? 0 : gpuMilli
        self.gpuModels = gpuModels.map { $0.lowercased() }
    }

    /// The view of a `ResourceRequest` (CPUs × 1000 millicores, memory in MiB, its GPU model).
    public init(_ r: ResourceRequest) {
        self.init(cpuMilli: r.cpus * 1000, memoryMiB: Int((r.memoryBytes + (1 << 20) - 1) >> 20), gpus: r.gpus,
                  gpuMilli: r.gpuMilli, gpuModels: r.gpuModel.map { [$0] } ?? [])
    }

    /// Total GPU demand in thousandths.
    public var gpuDemandMilli: Int { gpus * gpuMilli }
    /// Whether the task takes part of one GPU.
    public var sharesGPU: Bool { gpus == 1 && gpuMilli < 1000 }
    /// Kind for GPU clustering: 0 GPU-sharing, k whole GPUs, nil CPU-only.
    public var kind: Int? { gpus == 0 ? nil : (sharesGPU ? 0 : min(gpus, 8)) }

    /// Whether `node`'s GPU model is allowed (any model when `gpuModels` is empty; a CPU-only
    /// node never is when a model is named).
    public func accepts(_ node: ShareNode) -> Bool {
        gpuModels.isEmpty || gpuModels.contains(node.modelKey)
    }
}
