import Foundation
import SchedCore
import Yams

/// A fleet for `schedctl simulate replay`, described in YAML: groups of identical nodes.
///
/// ```yaml
/// nodes:
///   - name: rubin-tray        # node names: rubin-tray-0, rubin-tray-1, ...
///     count: 18
///     cpus: 176               # vCPUs (or cpu_milli: 176000)
///     memory_gib: 1536        # (or memory_mib)
///     gpus: 4
///     gpu_model: Rubin        # matched against a task's gpu_spec
///   - name: graviton4
///     count: 64
///     cpus: 192
///     memory_gib: 1536
/// ```
struct FleetSpec: Decodable {
    struct Group: Decodable {
        var name: String
        var count: Int?
        var cpus: Int?
        var cpu_milli: Int?
        var memory_gib: Int?
        var memory_mib: Int?
        var gpus: Int?
        var gpu_model: String?
    }
    var nodes: [Group]

    static func read(path: String) throws -> [TraceCSV.Node] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch { throw CLIError("cannot read \(path): \(error.localizedDescription)") }
        return try parse(text, source: path)
    }

    static func parse(_ text: String, source: String = "fleet") throws -> [TraceCSV.Node] {
        let spec: FleetSpec
        do { spec = try YAMLDecoder().decode(FleetSpec.self, from: text) } catch { throw CLIError("\(source): \(error)") }
        var out: [TraceCSV.Node] = []
        for g in spec.nodes {
            guard let cpu = g.cpu_milli ?? g.cpus.map({ $0 * 1000 }), cpu > 0 else { throw CLIError("\(source): group \(g.name) needs cpus or cpu_milli") }
            guard let mem = g.memory_mib ?? g.memory_gib.map({ $0 * 1024 }), mem > 0 else { throw CLIError("\(source): group \(g.name) needs memory_gib or memory_mib") }
            let gpus = g.gpus ?? 0
            guard gpus >= 0, gpus <= 64 else { throw CLIError("\(source): group \(g.name): gpus must be 0...64") }
            let count = g.count ?? 1
            guard count >= 1 else { throw CLIError("\(source): group \(g.name): count must be at least 1") }
            for k in 0..<count {
                out.append(.init(name: count == 1 ? g.name : "\(g.name)-\(k)",
                                 node: ShareNode(model: gpus > 0 ? (g.gpu_model ?? "") : "", cpuMilli: cpu, memoryMiB: mem, gpus: gpus)))
            }
        }
        guard !out.isEmpty else { throw CLIError("\(source): no nodes") }
        return out
    }
}
