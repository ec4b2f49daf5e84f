import Foundation
import SchedCore

/// Summary, JSON, CSV and chart of a `TimedReplay`.
struct ReplayReport {
    var result: TimedReplay.Result
    var policy: PackingPolicy
    var nodes: Int
    var seconds: Double

    static func percentile(_ xs: [Int], _ p: Double) -> Double {
        guard !xs.isEmpty else { return 0 }
        let s = xs.sorted()
        return Double(s[min(s.count - 1, Int((Double(s.count - 1) * p).rounded()))])
    }
    static func mean(_ xs: [Int]) -> Double { xs.isEmpty ? 0 : Double(xs.reduce(0, +)) / Double(xs.count) }
    func meanOf(_ f: (TimedReplay.Sample) -> Double) -> Double {
        result.samples.isEmpty ? 0 : result.samples.map(f).reduce(0, +) / Double(result.samples.count)
    }

    var fields: [(String, String)] {
        let q = result.queueingDelays, c = result.completionTimes
        return [
            ("policy", policy.rawValue), ("nodes", "\(nodes)"), ("tasks", "\(result.tasks)"),
            ("started", "\(q.count)"), ("never started (queued at end)", "\(result.neverStarted)"),
            ("never fit any node", "\(result.neverFits)"),
            ("queueing delay mean / p50 / p95 (s)", String(format: "%.0f / %.0f / %.0f", Self.mean(q), Self.percentile(q, 0.5), Self.percentile(q, 0.95))),
            ("job completion time mean / p50 / p95 (s)", String(format: "%.0f / %.0f / %.0f", Self.mean(c), Self.percentile(c, 0.5), Self.percentile(c, 0.95))),
            ("GPU / CPU / memory used, mean over time (%)", String(format: "%.1f / %.1f / %.1f", meanOf(\.gpuUsedPct), meanOf(\.cpuUsedPct), meanOf(\.memoryUsedPct))),
            ("fragmentation, mean over time (% of GPUs)", String(format: "%.2f", meanOf(\.fragmentationPct))),
            ("replay time (s)", String(format: "%.1f", seconds)),
        ]
    }

    func summary() -> String {
        let w = fields.map(\.0.count).max() ?? 0
        return fields.map { $0.0.padding(toLength: w, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(separator: "\n")
    }

    func json() -> String {
        let q = result.queueingDelays, c = result.completionTimes
        func n(_ v: Double) -> String { String(format: "%.3f", v) }
        return """
            {"policy": "\(policy.rawValue)", "nodes": \(nodes), "tasks": \(result.tasks), "started": \(q.count), \
            "never_started": \(result.neverStarted), "never_fits": \(result.neverFits), \
            "queueing_delay_s": {"mean": \(n(Self.mean(q))), "p50": \(n(Self.percentile(q, 0.5))), "p95": \(n(Self.percentile(q, 0.95)))}, \
            "jct_s": {"mean": \(n(Self.mean(c))), "p50": \(n(Self.percentile(c, 0.5))), "p95": \(n(Self.percentile(c, 0.95)))}, \
            "gpu_used_pct_mean": \(n(meanOf(\.gpuUsedPct))), "cpu_used_pct_mean": \(n(meanOf(\.cpuUsedPct))), \
            "memory_used_pct_mean": \(n(meanOf(\.memoryUsedPct))), "fragmentation_pct_mean": \(n(meanOf(\.fragmentationPct)))}
            """
    }

    func seriesCSV() -> String {
        var s = "time_s,gpu_used_pct,cpu_used_pct,memory_used_pct,partial_free_gpu_pct,fragmentation_pct,running,queued\n"
        for x in result.samples {
            s += String(format: "%d,%.3f,%.3f,%.3f,%.3f,%.3f,%d,%d\n", x.time, x.gpuUsedPct, x.cpuUsedPct, x.memoryUsedPct,
                        x.partialFreeGPUPct, x.fragmentationPct, x.running, x.queued)
        }
        return s
    }

    func chart() -> String {
        let t0 = Double(result.samples.first?.time ?? 0)
        func series(_ name: String, _ f: (TimedReplay.Sample) -> Double) -> SVGChart.Series {
            .init(name: name, points: result.samples.map { ((Double($0.time) - t0) / 86_400, f($0)) })
        }
        return SVGChart(title: "Replay with arrivals and departures, policy \(policy.rawValue)", xLabel: "time (days)", yLabel: "percent",
                        series: [series("GPU used %", \.gpuUsedPct), series("CPU used %", \.cpuUsedPct),
                                 series("memory used %", \.memoryUsedPct), series("fragmentation %", \.fragmentationPct)]).render()
    }
}
