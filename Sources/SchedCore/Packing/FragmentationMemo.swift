/// Remembers the fragmentation of node states seen before, for one target workload.
///
/// Fragmentation depends only on the node's GPU model, the multiset of free GPU shares, and which
/// of the workload's CPU requests still fit; that is the key. A run of the FGD experiment visits
/// the same states many times, so most evaluations are a lookup. Not shared between threads:
/// each `PackingScorer` copy used concurrently needs its own (`PackingScorer.fresh()`).
final class FragmentationMemo {
    let workload: TargetWorkload
    private var modelIndex: [String: Int] = [:]
    /// `accepts[model][shape]`: whether the shape may run on GPUs of that model.
    @exclusivity(unchecked) private var accepts: [[Bool]] = []
    @exclusivity(unchecked) private var table: [Key: Double] = [:]

    struct Key: Hashable {
        var a: UInt64, b: UInt64
    }

    init(workload: TargetWorkload) { self.workload = workload }

    /// A small integer for a node's model (interned on first sight).
    func index(of node: ShareNode) -> Int {
        if let i = modelIndex[node.modelKey] { return i }
        let i = accepts.count
        modelIndex[node.modelKey] = i
        accepts.append(workload.shapes.map { $0.request.accepts(node) })
        return i
    }

    /// Scratch for the sorted free shares (no allocation per lookup).
    @exclusivity(unchecked) private var buf = [Int](repeating: 0, count: 8)

    /// Fragmentation (thousandths of a GPU, frequency-weighted) of a node of model `model`
    /// (from `index(of:)`) with free GPU shares `gpuFree` and `cpuMilliFree` free.
    func amount(gpuFree: [Int], cpuMilliFree: Int, model: Int) -> Double {
        amount(gpuFree: gpuFree, replacing: -1, with: 0, take: 0, count: 0, cpuMilliFree: cpuMilliFree, model: model)
    }

    /// The same for `gpuFree` changed first: GPU `replacing` (if ≥ 0) set to `with`, then `take`
    /// thousandths taken from each of the `count` least-free GPUs that have that much (the
    /// packing a multi-GPU estimate assumes). Nothing is copied on a memo hit.
    func amount(gpuFree: [Int], replacing: Int, with value: Int, take: Int, count: Int, cpuMilliFree: Int, model: Int) -> Double {
        let n = gpuFree.count
        guard n <= 8, model < 256 else {
            var f = gpuFree
            if replacing >= 0 { f[replacing] = value }
            if count > 0 {
                var left = count
                for g in f.indices.sorted(by: { (f[$0], $0) < (f[$1], $1) }) where left > 0 && f[g] >= take { f[g] -= take; left -= 1 }
            }
            return compute(f, cpuMilliFree, model)
        }
        // Insertion sort into the scratch buffer: at most 8 elements.
        for i in 0..<n {
            let v = i == replacing ? value : gpuFree[i]
            var j = i - 1
            while j >= 0 && buf[j] > v { buf[j + 1] = buf[j]; j -= 1 }
            buf[j + 1] = v
        }
        if count > 0 {
            // Ascending: the first `count` entries with enough free share lose `take`; re-sort.
            var left = count
            for k in 0..<n where left > 0 && buf[k] >= take { buf[k] -= take; left -= 1 }
            var i = 1
            while i < n {
                let v = buf[i]
                var j = i - 1
                while j >= 0 && buf[j] > v { buf[j + 1] = buf[j]; j -= 1 }
                buf[j + 1] = v
                i += 1
            }
        }
        var a = UInt64(model) << 56 | UInt64(cpuRank(cpuMilliFree)) << 44 | UInt64(n) << 40
        var b: UInt64 = 0
        for k in 0..<n {
            let v = UInt64(max(0, min(1023, buf[k])))
            if k < 4 { a |= v << (10 * UInt64(k)) } else { b |= v << (10 * UInt64(k - 4)) }
        }
        let key = Key(a: a, b: b)
        if let hit = table[key] { return hit }
        let v = compute(Array(buf[0..<n]), cpuMilliFree, model)
        table[key] = v
        return v
    }

    /// How many of the workload's distinct CPU requests fit in `cpu`.
    private func cpuRank(_ cpu: Int) -> Int {
        let t = workload.cpuThresholds
        var lo = 0, hi = t.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if t[mid] <= cpu { lo = mid + 1 } else { hi = mid }
        }
        return min(lo, 4095)
    }

    private func compute(_ gpuFree: [Int], _ cpu: Int, _ model: Int) -> Double {
        let freeTotal = gpuFree.reduce(0, +)
        guard freeTotal > 0 else { return 0 }
        var sum = 0.0
        let ok = accepts[model]
        for (s, shape) in workload.shapes.enumerated() {
            let a = GPUFragmentation.amount(shape.request, gpuFree: gpuFree, freeTotal: freeTotal, cpuMilliFree: cpu, accepts: ok[s])
            sum += shape.frequency * Double(a)
        }
        return sum
    }
}
