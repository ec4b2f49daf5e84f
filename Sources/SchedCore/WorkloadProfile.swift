/// The workload a fleet typically receives: task shapes and how often each arrives. The
/// fragmentation-aware policy places each task so this workload can still fit afterwards.
public struct WorkloadProfile: Sendable, Hashable {
    /// One task shape and its popularity (any positive weight; only ratios matter).
    public struct Shape: Sendable, Hashable {
        public var request: ResourceRequest
        public var weight: Int
        public init(request: ResourceRequest, weight: Int) {
            self.request = request
            self.weight = weight
        }
    }
    public var shapes: [Shape]
    public init(shapes: [Shape] = []) { self.shapes = shapes.filter { $0.weight > 0 } }
    public var isEmpty: Bool { shapes.isEmpty }
    public var totalWeight: Int { shapes.reduce(0) { $0 + $1.weight } }
}

/// Learns a `WorkloadProfile` from the requests submitted, with decay so the profile follows
/// the workload as it changes. Pure: the caller feeds every submitted request.
///
/// Shapes are keyed by (CPUs rounded up to a power of two, GPUs, GPU share, GPU model);
/// memory does not split shapes (the largest seen for a key is kept). Each observation adds
/// 1,000 to its shape; every `decayEvery` observations all weights are halved. `profile()`
/// returns the most popular shapes covering `coverage` percent of the weight, at most `maxShapes`.
public struct WorkloadTracker: Sendable {
    struct Key: Hashable { var cpus: Int, gpus: Int, gpuMilli: Int, gpuModel: String? }
    var weights: [Key: (weight: Int, memory: Int64)] = [:]
    var observations = 0
    public let decayEvery: Int
    public let coverage: Int
    public let maxShapes: Int

    public init(decayEvery: Int = 10_000, coverage: Int = 95, maxShapes: Int = 32) {
        self.decayEvery = decayEvery
        self.coverage = coverage
        self.maxShapes = maxShapes
    }

    public mutating func observe(_ r: ResourceRequest) {
        var cpus = 1
        while cpus < r.cpus { cpus <<= 1 }
        let key = Key(cpus: cpus, gpus: r.gpus, gpuMilli: r.gpus > 0 ? r.gpuMilli : 1000, gpuModel: r.gpus > 0 ? r.gpuModel : nil)
        let old = weights[key] ?? (0, 0)
        weights[key] = (old.weight + 1000, max(old.memory, r.memoryBytes))
        observations += 1
        if observations % decayEvery == 0 {
            weights = weights.compactMapValues { $0.weight / 2 > 0 ? ($0.weight / 2, $0.memory) : nil }
        }
    }

    public func profile() -> WorkloadProfile {
        let sorted = weights.sorted { a, b in
            a.value.weight != b.value.weight ? a.value.weight > b.value.weight
                : (a.key.gpus, a.key.gpuMilli, a.key.cpus, a.key.gpuModel ?? "") < (b.key.gpus, b.key.gpuMilli, b.key.cpus, b.key.gpuModel ?? "")
        }
        let total = sorted.reduce(0) { $0 + $1.value.weight }
        var shapes: [WorkloadProfile.Shape] = []
        var covered = 0
        for (k, v) in sorted where shapes.count < maxShapes && (covered * 100 < total * coverage || shapes.isEmpty) {
            shapes.append(.init(request: ResourceRequest(cpus: k.cpus, memoryBytes: v.memory, gpus: k.gpus, gpuModel: k.gpuModel,
                                                         gpuMilli: k.gpuMilli), weight: v.weight))
            covered += v.weight
        }
        return WorkloadProfile(shapes: shapes)
    }
}
