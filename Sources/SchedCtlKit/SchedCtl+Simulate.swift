import ArgumentParser
import Foundation
import SchedCore

extension SchedCtl {
    /// `schedctl simulate`: replay traces through the scheduling core, no daemon needed.
    struct Simulate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay a trace through the scheduling core (no running schedd needed).",
            subcommands: [FGD.self, Replay.self])
    }
}

extension SchedCtl.Simulate {
    /// `schedctl simulate fgd`: the FGD paper's experiment.
    struct FGD: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The FGD paper's experiment: per seed, shuffle and tune the pod list to 1.3x the GPU capacity, try each pod once, report unallocated GPUs against arrived demand.")
        @Option(help: "Node list CSV (sn,cpu_milli,memory_mib,gpu,model).") var nodes: String
        @Option(help: "Pod list CSV (name,cpu_milli,memory_mib,num_gpu,gpu_milli[,gpu_spec,...]).") var pods: String
        @Option(help: "Seeds: a range A-B or a comma list.") var seeds: String = "42-51"
        @Option(help: "Policies: comma list of Random, DotProd, GpuClustering, GpuPacking, BestFit, FGD, default; or all.") var policies: String = "all"
        @Option(help: "Tune the pod list to this multiple of the GPU capacity.") var ratio: Double = 1.3
        @Option(help: "Write every curve (policy, seed, arrived %, unallocated %) to this CSV.") var csv: String?
        @Option(help: "Write an SVG chart of the median curves here.") var chart: String?
        @Option(help: "Parallel runs (default: CPU count).") var jobs: Int = ProcessInfo.processInfo.activeProcessorCount
        @OptionGroup var output: OutputOptions

        func run() throws {
            // Sorted by name: ties go to the first node, as the paper's simulator sends them to the
            // lexicographically smallest name.
            let fleet = try TraceCSV.readNodes(path: nodes).sorted { $0.name < $1.name }.map(\.node)
            let trace = try TraceCSV.readPods(path: pods)
            let seedList = try Self.parseSeeds(seeds)
            let policyList = try Self.parsePolicies(policies)
            let start = Date()
            let interactive = isatty(2) != 0 && output.output == .table
            let runs = FGDRunner(nodes: fleet, trace: trace, ratio: ratio).run(policies: policyList, seeds: seedList, jobs: jobs) { done, total in
                if interactive { FileHandle.standardError.write(Data(ProgressBar.line(done, total, label: "runs").utf8)) }
            }
            if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
            let elapsed = Date().timeIntervalSince(start)
            let report = FGDReport(runs: runs, policies: policyList, trace: PublishedFGDResults.trace(forPath: pods))
            if let csv { try report.curvesCSV().write(toFile: csv, atomically: true, encoding: .utf8) }
            if let chart {
                let name = report.trace.map { "FGD experiment, \($0) trace" } ?? "FGD experiment"
                try report.chart(title: "\(name): median of \(seedList.count) seeds").write(toFile: chart, atomically: true, encoding: .utf8)
            }
            if output.output == .json { print(report.json()); return }
            print(report.table())
            print(String(format: "%d runs (%d policies x %d seeds), %d nodes, %d trace pods, %.1f s", runs.count, policyList.count,
                         seedList.count, fleet.count, trace.count, elapsed))
        }

        static func parseSeeds(_ s: String) throws -> [Int64] {
            var out: [Int64] = []
            for part in s.split(separator: ",") {
                let ends = part.split(separator: "-")
                if ends.count == 2, let a = Int64(ends[0]), let b = Int64(ends[1]), a <= b { out += Array(a...b) }
                else if let v = Int64(part) { out.append(v) }
                else { throw ValidationError("seeds must be A-B or a comma list, got '\(s)'") }
            }
            guard !out.isEmpty else { throw ValidationError("no seeds") }
            return out
        }

        static func parsePolicies(_ s: String) throws -> [PackingPolicy] {
            if s.lowercased() == "all" { return PackingPolicy.published + [.fragmentationPacking] }
            if s.lowercased() == "published" { return PackingPolicy.published }
            return try s.split(separator: ",").map {
                guard let p = PackingPolicy(name: String($0)) else {
                    throw ValidationError("unknown policy '\($0)': use \(PackingPolicy.allCases.map(\.rawValue).joined(separator: ", ")) or all")
                }
                return p
            }
        }
    }
}
