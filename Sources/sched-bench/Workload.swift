import SchedCore

/// One job of the seeded stream: a request and how many tasks of it, placed how.
struct BenchJob {
    var kind: Workload.Kind
    var request: ResourceRequest
    /// Tasks: 1 for a single task, N for an array or a service's replicas, N members for a gang.
    var tasks: Int
    /// For a gang: where its members must sit (nil for other kinds).
    var locality: NVLinkLocality?
    var isGang: Bool { kind == .gang8 || kind == .gang64 }
}

/// The seeded job stream, all for aarch64 (both node kinds are Arm).
///
/// | share | kind | tasks | each task |
/// |---:|---|---|---|
/// | 45% | inference | 1 | 1-16 CPUs, 2-64 GiB |
/// | 10% | array | 8-64 | 1-4 CPUs, 2-16 GiB |
/// | 10% | service | 2-8 replicas | 4-16 CPUs, 8-64 GiB, a quarter of a GPU in half of them |
/// | 20% | gpu | 1 | 1, 2 or 4 Rubin GPUs, 16-64 CPUs, 32-256 GiB |
/// | 10% | 8-GPU gang | 2 members | 4 Rubin GPUs, 64-128 CPUs, 256-768 GiB; one NVLink domain preferred |
/// | 5% | 64-GPU gang | 16 members | 4 Rubin GPUs, 64-128 CPUs, 256-768 GiB; one NVLink domain required |
struct Workload {
    enum Kind: Int, CaseIterable {
        case inference, array, service, gpu, gang8, gang64
        var name: String { ["inference", "array", "service", "gpu", "8-gpu-gang", "64-gpu-gang"][rawValue] }
    }

    private var rng: SplitMix64
    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    static let gib = FleetBuilder.gib

    mutating func next() -> BenchJob {
        let r = rng.int(in: 0...99)
        switch r {
        case ..<45: return BenchJob(kind: .inference, request: inference(), tasks: 1)
        case ..<55:
            let request = ResourceRequest(cpus: rng.int(in: 1...4), memoryBytes: Int64(rng.int(in: 2...16)) * Self.gib, arch: "aarch64")
            return BenchJob(kind: .array, request: request, tasks: rng.int(in: 8...64))
        case ..<65:
            let shared = rng.int(in: 0...1) == 1
            let request = ResourceRequest(cpus: rng.int(in: 4...16), memoryBytes: Int64(rng.int(in: 8...64)) * Self.gib,
                                          gpus: shared ? 1 : 0, gpuModel: shared ? "Rubin" : nil, arch: "aarch64",
                                          gpuMilli: shared ? 250 : 1000)
            return BenchJob(kind: .service, request: request, tasks: rng.int(in: 2...8))
        case ..<85: return BenchJob(kind: .gpu, request: gpu(), tasks: 1)
        case ..<95: return BenchJob(kind: .gang8, request: trainingMember(), tasks: 2, locality: .preferred)
        default: return BenchJob(kind: .gang64, request: trainingMember(), tasks: 16, locality: .required)
        }
    }

    /// Heads or tails.
    mutating func coin() -> Bool { rng.int(in: 0...1) == 1 }

    mutating func inference() -> ResourceRequest {
        ResourceRequest(cpus: rng.int(in: 1...16), memoryBytes: Int64(rng.int(in: 2...64)) * Self.gib, arch: "aarch64")
    }
    mutating func gpu() -> ResourceRequest {
        let gpus = [1, 2, 4][rng.int(in: 0...2)]
        return ResourceRequest(cpus: rng.int(in: 16...64), memoryBytes: Int64(rng.int(in: 32...256)) * Self.gib,
                               gpus: gpus, gpuModel: "Rubin", arch: "aarch64")
    }
    /// One member of a training gang: a whole tray's GPUs.
    mutating func trainingMember() -> ResourceRequest {
        ResourceRequest(cpus: rng.int(in: 64...128), memoryBytes: Int64(rng.int(in: 256...768)) * Self.gib,
                        gpus: 4, gpuModel: "Rubin", arch: "aarch64")
    }
}
