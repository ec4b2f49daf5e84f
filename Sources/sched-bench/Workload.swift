import SchedCore

/// The seeded request stream: single-task requests, all for aarch64.
///
/// - 70% inference: 1-16 CPUs, 2-64 GiB, no GPU.
/// - 20% GPU: 1, 2 or 4 Rubin GPUs, 16-64 CPUs, 32-256 GiB.
/// - 10% "8-GPU-equivalent": the core has no gangs yet, so these are capped at 4 GPUs per task
///   (a whole tray's GPUs): 4 Rubin GPUs, 64-176 CPUs, 256-960 GiB.
struct Workload {
    enum Kind: Int, CaseIterable { case inference, gpu, bigGPU }

    private var rng: SplitMix64
    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    static let gib = FleetBuilder.gib

    mutating func next() -> (kind: Kind, request: ResourceRequest) {
        let r = rng.int(in: 0...99)
        if r < 70 { return (.inference, inference()) }
        if r < 90 { return (.gpu, gpu()) }
        return (.bigGPU, bigGPU())
    }

    mutating func inference() -> ResourceRequest {
        ResourceRequest(cpus: rng.int(in: 1...16), memoryBytes: Int64(rng.int(in: 2...64)) * Self.gib, arch: "aarch64")
    }
    mutating func gpu() -> ResourceRequest {
        let gpus = [1, 2, 4][rng.int(in: 0...2)]
        return ResourceRequest(cpus: rng.int(in: 16...64), memoryBytes: Int64(rng.int(in: 32...256)) * Self.gib,
                               gpus: gpus, gpuModel: "Rubin", arch: "aarch64")
    }
    mutating func bigGPU() -> ResourceRequest {
        ResourceRequest(cpus: rng.int(in: 64...176), memoryBytes: Int64(rng.int(in: 256...960)) * Self.gib,
                        gpus: 4, gpuModel: "Rubin", arch: "aarch64")
    }
}
