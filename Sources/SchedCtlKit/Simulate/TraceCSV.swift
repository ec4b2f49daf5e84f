import Foundation
import SchedCore

/// Readers for the Alibaba GPU trace CSVs (cluster-trace-gpu-v2023, "openb"): node lists
/// (`sn,cpu_milli,memory_mib,gpu,model`) and pod lists (`name,cpu_milli,memory_mib,num_gpu,
/// gpu_milli[,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time]`).
/// Columns are found by header name; unknown columns are ignored.
public enum TraceCSV {
    /// A trace node: its name and the packing view of it.
    public struct Node: Sendable, Hashable {
        public var name: String
        public var node: ShareNode
    }

    public static func readNodes(path: String) throws -> [Node] { try parseNodes(try text(path), source: path) }
    public static func readPods(path: String) throws -> [TracePod] { try parsePods(try text(path), source: path) }

    static func text(_ path: String) throws -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch { throw CLIError("cannot read \(path): \(error.localizedDescription)") }
    }

    public static func parseNodes(_ text: String, source: String = "nodes") throws -> [Node] {
        let t = try Table(text, source: source)
        return try t.rows.enumerated().map { n, r in
            let gpus = try t.int(r, "gpu", line: n + 2)
            let model = t.string(r, "model") ?? ""
            return Node(name: t.string(r, "sn") ?? "node-\(n)",
                        node: ShareNode(model: gpus > 0 ? model : "", cpuMilli: try t.int(r, "cpu_milli", line: n + 2),
                                        memoryMiB: try t.int(r, "memory_mib", line: n + 2), gpus: gpus))
        }
    }

    public static func parsePods(_ text: String, source: String = "pods") throws -> [TracePod] {
        let t = try Table(text, source: source)
        return try t.rows.enumerated().map { n, r in
            let spec = (t.string(r, "gpu_spec") ?? "").split(separator: "|").map(String.init).filter { !$0.isEmpty }
            let req = ShareRequest(cpuMilli: try t.int(r, "cpu_milli", line: n + 2), memoryMiB: try t.int(r, "memory_mib", line: n + 2),
                                   gpus: try t.int(r, "num_gpu", line: n + 2), gpuMilli: try t.int(r, "gpu_milli", line: n + 2),
                                   gpuModels: spec)
            return TracePod(name: t.string(r, "name") ?? "pod-\(n)", request: req,
                            createdAt: t.string(r, "creation_time").flatMap { Int($0) },
                            deletedAt: t.string(r, "deletion_time").flatMap { Int($0) })
        }
    }

    /// A header line and rows of plain comma-separated fields (the trace has no quoting).
    struct Table {
        var columns: [String: Int] = [:]
        var rows: [[Substring]] = []
        let source: String

        init(_ text: String, source: String) throws {
            self.source = source
            var lines = text.split(whereSeparator: \.isNewline).makeIterator()
            guard let header = lines.next() else { throw CLIError("\(source): empty file") }
            for (i, c) in header.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
                columns[c.trimmingCharacters(in: .whitespaces).lowercased()] = i
            }
            while let l = lines.next() {
                if l.allSatisfy(\.isWhitespace) { continue }
                rows.append(l.split(separator: ",", omittingEmptySubsequences: false))
            }
        }

        func string(_ row: [Substring], _ name: String) -> String? {
            guard let i = columns[name], i < row.count else { return nil }
            return String(row[i]).trimmingCharacters(in: .whitespaces)
        }

        func int(_ row: [Substring], _ name: String, line: Int) throws -> Int {
            guard columns[name] != nil else { throw CLIError("\(source): no column \(name)") }
            let s = string(row, name) ?? ""
            if s.isEmpty { return 0 }
            guard let v = Int(s) else { throw CLIError("\(source):\(line): \(name) is not an integer: \(s)") }
            return v
        }
    }
}
