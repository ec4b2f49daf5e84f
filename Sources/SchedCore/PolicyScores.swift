/// The arithmetic of the simple policies, in integers.
extension SchedulingPolicy {
    /// Utilisation after placement of each dimension, in percent: (cpu, memory?, gpu?).
    @inline(__always)
    static func utilisationAfter(_ r: ResourceRequest, _ n: NodeState) -> (cpu: Int?, memory: Int?, gpu: Int?) {
        let pus = n.puCount
        let cpu = pus > 0 ? min(100, (n.usedPUCount + r.cpus) * 100 / pus) : nil
        let mem = n.cpuMemoryBytes
        let memory: Int? = mem > 0 ? Int(min(100, (n.usedCPUMemory + r.memoryBytes) / max(1, mem / 100))) : nil
        let gpus = n.topology.gpus.count
        let gpu = gpus > 0 ? min(100, (n.gpuMilliUsedTotal + r.gpuDemandMilli) * 100 / (gpus * 1000)) : nil
        return (cpu, memory, gpu)
    }

    /// Best fit: mean utilisation after placement over every dimension the node has.
    /// Example: 16 PUs with 8 used, 2 of 4 GPUs used, request 4 CPUs and 0 GPUs, memory unused
    /// by everyone and not requested: (75 + 0 + 50) / 3 = 41.
    @inline(__always)
    static func bestFit(_ r: ResourceRequest, _ n: NodeState) -> Int {
        let u = utilisationAfter(r, n)
        var sum = 0, count = 0
        if let c = u.cpu { sum += c; count += 1 }
        if let m = u.memory { sum += m; count += 1 }
        if let g = u.gpu { sum += g; count += 1 }
        return count == 0 ? 0 : sum / count
    }

    /// Most allocated: mean utilisation after placement over the requested dimensions
    /// (CPUs always; memory when requested; GPUs when requested).
    /// Example: 16 PUs with 8 used, 4 GPUs with 2 used; request 4 CPUs, 1 GPU: (75 + 75) / 2 = 75.
    @inline(__always)
    static func mostAllocated(_ r: ResourceRequest, _ n: NodeState) -> Int {
        let u = utilisationAfter(r, n)
        var sum = 0, count = 0
        if let c = u.cpu { sum += c; count += 1 }
        if r.memoryBytes > 0, let m = u.memory { sum += m; count += 1 }
        if r.gpus > 0, let g = u.gpu { sum += g; count += 1 }
        return count == 0 ? 0 : sum / count
    }

    /// Dot product: Σ_d (request_d / cap_d) × (free_d / cap_d), divided by Σ_d request_d / cap_d,
    /// in percent — the request-weighted mean of the node's free fractions.
    /// Example: 16 PUs with 8 free, 4 GPUs with 1 free; request 4 CPUs (0.25) and 1 GPU (0.25):
    /// (0.25 × 0.5 + 0.25 × 0.25) / 0.5 = 0.375 → 37.
    @inline(__always)
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
