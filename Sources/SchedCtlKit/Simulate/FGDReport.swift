import Foundation
import SchedCore

/// Medians, table, CSV, JSON and chart of an FGD experiment's runs.
struct FGDReport {
    var runs: [FGDRunner.Run]
    var policies: [PackingPolicy]
    /// The published trace name, when the pod list is one the paper used.
    var trace: String?

    func runs(of p: PackingPolicy) -> [FGDRunner.Run] { runs.filter { $0.policy == p } }
    func median100(_ p: PackingPolicy) -> Double { FGDRunner.median(runs(of: p).map(\.at100)) }
    func median130(_ p: PackingPolicy) -> Double { FGDRunner.median(runs(of: p).map(\.at130)) }

    /// Median over seeds of each arrived-percentage bucket.
    func medianCurve(_ p: PackingPolicy) -> [(x: Double, y: Double)] {
        let rs = runs(of: p)
        guard let n = rs.first?.curve.count else { return [] }
        return (0..<n).compactMap { k in
            let ys = rs.compactMap { $0.curve[k] }
            return ys.isEmpty ? nil : (Double(k), FGDRunner.median(ys))
        }
    }

    func table() -> String {
        let published = trace.flatMap { PublishedFGDResults.medians[$0] }
        var rows = [["policy", "unallocated % @100", "paper @100", "diff", "unallocated % @130", "failed pods (median)"]]
        for p in policies {
            let m = median100(p)
            let paper = published?[p.rawValue]
            rows.append([p.rawValue, String(format: "%.2f", m), paper.map { String(format: "%.2f", $0) } ?? "-",
                         paper.map { String(format: "%+.2f", m - $0) } ?? "-", String(format: "%.2f", median130(p)),
                         String(format: "%.0f", FGDRunner.median(runs(of: p).map { Double($0.failed) }))])
        }
        let widths = rows[0].indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { r in r.enumerated().map { c, v in c == 0 ? v.padding(toLength: widths[c], withPad: " ", startingAt: 0)
            : String(repeating: " ", count: widths[c] - v.count) + v }.joined(separator: "  ") }.joined(separator: "\n")
    }

    func json() -> String {
        var parts: [String] = []
        for p in policies {
            parts.append("\"\(p.rawValue)\": {\"unallocated_pct_at_100\": \(Self.num(median100(p))), \"unallocated_pct_at_130\": \(Self.num(median130(p)))}")
        }
        return "{\"policies\": {" + parts.joined(separator: ", ") + "}}"
    }

    static func num(_ v: Double) -> String { v.isFinite ? String(format: "%.4f", v) : "null" }

    func curvesCSV() -> String {
        var s = "policy,seed,arrived_pct,unallocated_pct\n"
        for r in runs {
            for (k, v) in r.curve.enumerated() { if let v { s += "\(r.policy.rawValue),\(r.seed),\(k),\(String(format: "%.4f", v))\n" } }
        }
        for p in policies {
            for pt in medianCurve(p) { s += "\(p.rawValue),median,\(Int(pt.x)),\(String(format: "%.4f", pt.y))\n" }
        }
        return s
    }

    func chart(title: String) -> String {
        SVGChart(title: title, xLabel: "arrived GPU demand (% of GPU capacity)", yLabel: "unallocated GPUs (% of capacity)",
                 series: policies.map { SVGChart.Series(name: $0.rawValue, points: medianCurve($0)) }).render()
    }
}
