/// The arithmetic of the simple policies, in integers.
extension SchedulingPolicy {
    /// Utilisation after placement of each dimension, in percent: (cpu, memory?, gpu?).
    static func utilisationAfter(_ r: ResourceRequest, _ n: NodeState) -> (cpu: Int?, memory: Int?, gpu: Int?) {
        let pus = n.puCount
        let cpu = pus > 0 ? min(100, (n.usedPUs.count + r.cpus) * 100 / pus) : nil
        let mem = n.cpuMemoryBytes
        var memory: Int?
        if mem > 0 {
            var used: Int64 = 0
            for (i, numa) in n.topology.numaNodes.enumerated() where !numa.cpus.isEmpty { used += n.usedMemory[i] }
            memory = Int(min(100, (used + r.memoryBytes) / max(1, mem / 100)))
        }
        let gpus = n.topology.gpus.count
        let gpu = gpus > 0 ? min(100, (n.gpuMilliUsedTotal + r.gpuDemandMilli) * 100 / (gpus * 1000)) : nil
        return (cpu, memory, gpu)
    }

    /// Best fit: mean utilisation after placement over every dimension the node has.
    /// Example: 16 PUs with 8 used, 2 of 4 GPUs used, request 4 CPUs and 0 GPUs, memory unused
    /// by everyone and not requested: (75 + 0 + 50) / 3 = 41.
    static func bestFit(_ r: ResourceRequest, _ n: NodeState) -> Int {
        let u = utilisationAfter(r, n)
        let dims = [u.cpu, u.memory, u.gpu].compactMap { $0 }
        return dims.isEmpty ? 0 : dims.reduce(0, +) / dims.count
    }

    /// Most allocated: mean utilisation after placement over the requested dimensions
    /// (CPUs always; memory when requested; GPUs when requested).
    /// Example: 16 PUs with 8 used, 4 GPUs with 2 used; request 4 CPUs, 1 GPU: (75 + 75) / 2 = 75.
    static func mostAllocated(_ r: ResourceRequest, _ n: NodeState) -> Int {
        let u = utilisationAfter(r, n)
        var dims: [Int] = []
        if let c = u.cpu { dims.append(c) }
        if r.memoryBytes > 0, let m = u.memory { dims.append(m) }
        if r.gpus > 0, let g = u.gpu { dims.append(g) }
        return dims.isEmpty ? 0 : dims.reduce(0, +) / dims.count
    }

    /// Dot product: Σ_d (request_d / cap_d) × (free_d / cap_d), divided by Σ_d request_d / cap_d,
    /// in percent — the request-weighted mean of the node's free fractions.
    /// Example: 16 PUs with 8 free, 4 GPUs with 1 free; request 4 CPUs (0.25) and 1 GPU (0.25):
    /// (0.25 × 0.5 + 0.25 × 0.25) / 0.5 = 0.375 → 37.
    static func dotProduct(_ r: ResourceRequest, _ n: NodeState) -> Int {
        // Fractions in basis points (1/10,000), integers only.
        var num: Int64 = 0, den: Int64 = 0
        func add(_ req: Int64, _ free: Int64, _ cap: Int64) {
            guard cap > 0, req > 0 else { return }
            let rf = min(10_000, req * 10_000 / cap), ff = max(0, free) * 10_000 / cap
            num += rf * ff
            den += rf
        }
        add(Int64(r.cpus), Int64(n.freePUCount), Int64(n.puCount))
        add(r.memoryBytes, n.freeMemoryBytes, n.cpuMemoryBytes)
        let gpuCap = Int64(n.topology.gpus.count * 1000)
        add(Int64(r.gpuDemandMilli), gpuCap - Int64(n.gpuMilliUsedTotal), gpuCap)
        return den == 0 ? 0 : Int(num / den / 100)
    }

}
