import Dispatch
import SchedCore

/// Runs the FGD experiment for several policies and seeds, in parallel (one task per policy ×
/// seed; each has its own scorer and generator, so results do not depend on the thread count).
struct FGDRunner {
    struct Run: Sendable {
        var policy: PackingPolicy
        var seed: Int64
        var curve: [Double?]
        var failed: Int
        var tried: Int
        var at100: Double
        var at130: Double
        var failedBeforeFull: [Int] = []
        var freeAtFull: [Int] = []
    }

    var nodes: [ShareNode]
    var trace: [TracePod]
    var ratio = 1.3

    func run(policies: [PackingPolicy], seeds: [Int64], jobs: Int, progress: (@Sendable (Int, Int) -> Void)? = nil) -> [Run] {
        let workload = TargetWorkload(tasks: trace.map(\.request))
        let work = policies.flatMap { p in seeds.map { (p, $0) } }
        let results = ResultBox(count: work.count)
        let queue = DispatchQueue(label: "fgd-runner")
        let nodes = self.nodes, trace = self.trace, ratio = self.ratio
        let next = ResultBox(count: 0)
        DispatchQueue.concurrentPerform(iterations: max(1, min(jobs, work.count))) { _ in
            while let k = queue.sync(execute: { next.take(below: work.count) }) {
                let (policy, seed) = work[k]
                let curve = FGDExperiment.run(trace: trace, nodes: nodes, policy: policy, seed: seed, workload: workload, ratio: ratio)
                let run = Run(policy: policy, seed: seed, curve: curve.unallocatedByArrivedPercent(upTo: 130), failed: curve.failed,
                              tried: curve.arrivedMilli.count - 1, at100: curve.unallocatedPercent(at: 100),
                              at130: curve.unallocatedPercent(at: 130), failedBeforeFull: curve.failedBeforeFull, freeAtFull: curve.freeAtFull)
                let done = queue.sync { results.store(run, at: k) }
                progress?(done, work.count)
            }
        }
        return results.runs.compactMap { $0 }
    }

    /// Lock-protected (by the runner's serial queue) storage for results.
    final class ResultBox: @unchecked Sendable {
        var runs: [Run?]
        var cursor = 0
        var done = 0
        init(count: Int) { runs = Array(repeating: nil, count: count) }
        func take(below n: Int) -> Int? {
            guard cursor < n else { return nil }
            cursor += 1
            return cursor - 1
        }
        func store(_ r: Run, at k: Int) -> Int {
            runs[k] = r
            done += 1
            return done
        }
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        guard !s.isEmpty else { return .nan }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
