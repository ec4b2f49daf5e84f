import ArgumentParser
import Foundation
import SchedCore

extension SchedCtl.Simulate {
    /// `schedctl simulate replay`: arrivals and departures on a fleet, for capacity planning.
    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay a trace with arrivals and departures (creation/deletion times) on a fleet described in YAML or a node CSV.")
        @Option(help: "Fleet YAML (groups of nodes; see docs/examples/fleets/rubin-graviton.yaml).") var fleet: String?
        @Option(help: "Or a node list CSV (sn,cpu_milli,memory_mib,gpu,model).") var nodes: String?
        @Option(help: "Pod list CSV with creation_time and deletion_time columns.") var pods: String
        @Option(help: "Placement policy (default, FGD, BestFit, ...).") var policy: String = "default"
        @Option(help: "Seconds between samples (default: the trace's span / 200).") var sampleEvery: Int?
        @Option(help: "Write the time series to this CSV.") var csv: String?
        @Option(help: "Write an SVG chart of utilisation and fragmentation over time here.") var chart: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            guard (fleet == nil) != (nodes == nil) else { throw ValidationError("give exactly one of --fleet and --nodes") }
            let fleetNodes = try fleet.map(FleetSpec.read(path:)) ?? TraceCSV.readNodes(path: nodes!)
            let trace = try TraceCSV.readPods(path: pods)
            guard trace.contains(where: { $0.createdAt != nil }) else { throw CLIError("\(pods): no creation_time column; replay needs arrival times") }
            guard let p = PackingPolicy(name: policy) else { throw ValidationError("unknown policy '\(policy)'") }
            let times = trace.compactMap(\.createdAt) + trace.compactMap(\.deletedAt)
            let span = max(1, (times.max() ?? 1) - (times.min() ?? 0))
            let replay = TimedReplay(nodes: fleetNodes.map(\.node), policy: p, workload: TargetWorkload(tasks: trace.map(\.request)),
                                     sampleEvery: sampleEvery ?? max(1, span / 200))
            let interactive = isatty(2) != 0 && output.output == .table
            let start = Date()
            let r = replay.run(trace) { done, total in
                if interactive { FileHandle.standardError.write(Data(ProgressBar.line(done, total, label: "tasks").utf8)) }
            }
            if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
            let report = ReplayReport(result: r, policy: p, nodes: fleetNodes.count, seconds: Date().timeIntervalSince(start))
            if let csv { try report.seriesCSV().write(toFile: csv, atomically: true, encoding: .utf8) }
            if let chart { try report.chart().write(toFile: chart, atomically: true, encoding: .utf8) }
            print(output.output == .json ? report.json() : report.summary())
        }
    }
}
