/// Allocated GPU share against arrived GPU demand, one sample per task tried, as the FGD
/// paper plots it. All amounts in thousandths of a GPU.
public struct AllocationCurve: Sendable, Hashable {
    public var capacityMilli: Int
    /// Cumulative GPU demand of the tasks tried so far, after each task (first sample: 0).
    public var arrivedMilli: [Int] = [0]
    /// GPU share held in the cluster after each task.
    public var allocatedMilli: [Int] = [0]
    /// Tasks that fitted nowhere.
    public var failed = 0
    /// GPU demand (thousandths) of the tasks that fitted nowhere before arrivals reached 100% of
    /// capacity, by kind: 0 CPU-only (counted in tasks), 1 sharing, 2 one whole GPU, 3 two, 4 four or
    /// more whole GPUs.
    public var failedBeforeFull = [Int](repeating: 0, count: 5)
    /// Free GPU share (thousandths) when arrivals first reach 100% of capacity: [on partly used
    /// GPUs, on whole free GPUs].
    public var freeAtFull: [Int] = []

    public init(capacityMilli: Int) { self.capacityMilli = capacityMilli }

    /// Unallocated GPU share (arrived − allocated) in percent of capacity for each arrived
    /// percentage 0...`upTo` (samples bucketed by rounded percentage, averaged; nil where a
    /// bucket has no sample).
    public func unallocatedByArrivedPercent(upTo: Int = 130) -> [Double?] {
        var sum = Array(repeating: 0.0, count: upTo + 1), n = Array(repeating: 0, count: upTo + 1)
        let cap = Double(max(1, capacityMilli))
        for k in arrivedMilli.indices {
            let pct = Int((Double(arrivedMilli[k]) * 100 / cap).rounded())
            guard pct >= 0, pct <= upTo else { continue }
            sum[pct] += Double(arrivedMilli[k] - allocatedMilli[k]) * 100 / cap
            n[pct] += 1
        }
        return sum.indices.map { n[$0] > 0 ? sum[$0] / Double(n[$0]) : nil }
    }

    /// Unallocated percentage at `pct` arrived (the nearest bucket below with a sample).
    public func unallocatedPercent(at pct: Int) -> Double {
        let curve = unallocatedByArrivedPercent(upTo: max(pct, 0))
        var p = min(pct, curve.count - 1)
        while p > 0, curve[p] == nil { p -= 1 }
        return curve[p] ?? 0
    }
}
