import Foundation

/// A small SVG line chart (no dependencies): one line per series over a shared x axis.
struct SVGChart {
    struct Series {
        var name: String
        var points: [(x: Double, y: Double)]
    }
    var title: String
    var xLabel: String
    var yLabel: String
    var series: [Series]
    var width = 760.0, height = 460.0

    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f"]

    func render() -> String {
        let left = 60.0, right = 170.0, top = 40.0, bottom = 50.0
        let pw = width - left - right, ph = height - top - bottom
        let all = series.flatMap(\.points)
        let xMax = max(1, all.map(\.x).max() ?? 1), xMin = min(0, all.map(\.x).min() ?? 0)
        let yMaxRaw = max(1, all.map(\.y).max() ?? 1)
        let yStep = Self.niceStep(yMaxRaw / 5), yMax = (yMaxRaw / yStep).rounded(.up) * yStep
        let xStep = Self.niceStep((xMax - xMin) / 6)
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * pw }
        func py(_ y: Double) -> Double { top + ph - y / yMax * ph }
        func f(_ v: Double) -> String { String(format1: v) }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(f(left + pw / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(Self.escape(title))</text>\n"
        var y = 0.0
        while y <= yMax + 1e-9 {
            s += "<line x1=\"\(f(left))\" y1=\"\(f(py(y)))\" x2=\"\(f(left + pw))\" y2=\"\(f(py(y)))\" stroke=\"#ddd\"/>\n"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(py(y) + 4))\" text-anchor=\"end\">\(f(y))</text>\n"
            y += yStep
        }
        var x = (xMin / xStep).rounded(.up) * xStep
        while x <= xMax + 1e-9 {
            s += "<line x1=\"\(f(px(x)))\" y1=\"\(f(top))\" x2=\"\(f(px(x)))\" y2=\"\(f(top + ph))\" stroke=\"#eee\"/>\n"
            s += "<text x=\"\(f(px(x)))\" y=\"\(f(top + ph + 16))\" text-anchor=\"middle\">\(f(x))</text>\n"
            x += xStep
        }
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(pw))\" height=\"\(f(ph))\" fill=\"none\" stroke=\"#333\"/>\n"
        s += "<text x=\"\(f(left + pw / 2))\" y=\"\(f(height - 12))\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        s += "<text transform=\"translate(16 \(f(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\">\(Self.escape(yLabel))</text>\n"
        for (k, line) in series.enumerated() {
            let color = Self.palette[k % Self.palette.count]
            let pts = line.points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            s += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(pts)\"/>\n"
            let ly = top + 10 + Double(k) * 20
            s += "<line x1=\"\(f(left + pw + 12))\" y1=\"\(f(ly))\" x2=\"\(f(left + pw + 36))\" y2=\"\(f(ly))\" stroke=\"\(color)\" stroke-width=\"3\"/>\n"
            s += "<text x=\"\(f(left + pw + 42))\" y=\"\(f(ly + 4))\">\(Self.escape(line.name))</text>\n"
        }
        return s + "</svg>\n"
    }

    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0 else { return 1 }
        var p = 1.0
        while p * 10 <= raw { p *= 10 }
        while p > raw { p /= 10 }
        for m in [1.0, 2, 5, 10] where m * p >= raw { return m * p }
        return 10 * p
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}

extension String {
    /// A number with at most one decimal, without Foundation's formatter.
    init(format1 v: Double) {
        let r = (v * 10).rounded() / 10
        self = r == r.rounded() ? String(Int(r)) : String(r)
    }
}
