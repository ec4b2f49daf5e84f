#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SchedCore

// `sched-bench e2e ...`: the end-to-end benchmark through the real binaries (E2E*.swift).
if CommandLine.arguments.dropFirst().first == "chaos" {
    exit(ChaosCommand.main(Array(CommandLine.arguments.dropFirst(2))))
}
if CommandLine.arguments.dropFirst().first == "e2e" {
    exit(await E2EBenchmark.main(Array(CommandLine.arguments.dropFirst(2))))
}

// sched-bench: replays a seeded workload through the real Placer on an emulated fleet.
// See docs/benchmarks-core.md.

let usage = """
    usage: sched-bench --nodes N [--jobs M] [--seed S] [--fill F] [--policy P] [--json] [--progress]

      --nodes N     fleet size: half Vera Rubin compute trays, half Graviton-class nodes
      --jobs M      jobs to replay (default 20000): single tasks, arrays, services, 8- and 64-GPU gangs
      --seed S      workload seed (default 1)
      --fill F      load the fleet to this fraction of PUs before the timed run (default 0.75; 0 = start empty)
      --policy P    scheduling policy by its name (default best-fit; the core's SchedulingPolicy raw values)
      --json        print one JSON object on one line
      --progress    report progress on stderr
    """

struct Options {
    var nodes = 0
    var jobs = 20_000
    var seed: UInt64 = 1
    var fill = 0.75
    var policy = SchedulingPolicy.bestFit
    var json = false
    var progress = false
}

func fail(_ message: String) -> Never {
    printErr("sched-bench: \(message)")
    printErr(usage)
    exit(2)
}

func parse(_ args: [String]) -> Options {
    var o = Options()
    var it = args.makeIterator()
    func value(_ flag: String) -> String {
        guard let v = it.next() else { fail("\(flag) needs a value") }
        return v
    }
    while let a = it.next() {
        switch a {
        case "--nodes":
            guard let n = Int(value(a)), n > 0 else { fail("--nodes wants a positive integer") }
            o.nodes = n
        case "--jobs":
            guard let n = Int(value(a)), n > 0 else { fail("--jobs wants a positive integer") }
            o.jobs = n
        case "--seed":
            guard let n = UInt64(value(a)) else { fail("--seed wants a non-negative integer") }
            o.seed = n
        case "--fill":
            guard let f = Double(value(a)), f >= 0, f < 1 else { fail("--fill wants a fraction in [0, 1)") }
            o.fill = f
        case "--policy":
            let name = value(a)
            guard let p = SchedulingPolicy(rawValue: name) else {
                fail("unknown policy '\(name)' (known: \(SchedulingPolicy.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            o.policy = p
        case "--json": o.json = true
        case "--progress": o.progress = true
        case "-h", "--help":
            print(usage)
            exit(0)
        default: fail("unknown argument '\(a)'")
        }
    }
    if o.nodes == 0 { fail("--nodes is required") }
    return o
}

let options = parse(Array(CommandLine.arguments.dropFirst()))
let clock = ContinuousClock()
func seconds(_ d: Duration) -> Double { Double(Replay.nanoseconds(d)) / 1e9 }

// 1. The fleet, and what it costs in memory.
let rssBefore = residentBytes() ?? 0
let buildStart = clock.now
var built: ClusterSnapshot? = ClusterSnapshot(nodes: FleetBuilder.build(nodes: options.nodes))
let buildSeconds = seconds(buildStart.duration(to: clock.now))
let rssAfter = residentBytes() ?? 0
let bytesPerNode = Double(max(0, rssAfter - rssBefore)) / Double(options.nodes)

// Hand the only reference to the fleet, so applying assignments never copies the node array.
var fleet = Fleet(snapshot: built.take()!)
let vrCount = (options.nodes + 1) / 2
if options.progress {
    printErr("sched-bench: built \(options.nodes) nodes in \(rounded(buildSeconds, 2)) s; prefilling to \(percent(options.fill))")
}

// 2. A loaded fleet.
let prefillStart = clock.now
let prefilled = Prefill.run(&fleet, target: options.fill, seed: options.seed)
let prefillSeconds = seconds(prefillStart.duration(to: clock.now))
let fillAtStart = fleet.fill
if options.progress {
    printErr("sched-bench: prefilled \(prefilled) tasks to \(percent(fillAtStart)) in \(rounded(prefillSeconds, 1)) s")
}

// 3. The timed replay.
let result = Replay.run(&fleet, jobs: options.jobs, seed: options.seed, policy: options.policy, progress: options.progress)
let sorted = result.latenciesNs.sorted()
let totalSeconds = Double(result.totalNs) / 1e9
let placementsPerSecond = totalSeconds > 0 ? Double(result.tasksPlaced) / totalSeconds : 0
let decisionsPerSecond = totalSeconds > 0 ? Double(result.decisions) / totalSeconds : 0
let p50 = Double(percentile(sorted, 50)) / 1000
let p99 = Double(percentile(sorted, 99)) / 1000
let maxUs = Double(sorted.last ?? 0) / 1000
let meanFeasible = result.singleDecisions > 0 ? Double(result.feasibleNodes) / Double(result.singleDecisions) : 0
let meanUs = result.decisions > 0 ? Double(result.totalNs) / Double(result.decisions) / 1000 : 0
let kindsSummary = Workload.Kind.allCases.map { k in
    "\(k.name) \(result.jobsPlacedByKind[k.rawValue])/\(result.jobsByKind[k.rawValue]) jobs, \(result.tasksPlacedByKind[k.rawValue]) tasks"
}.joined(separator: "; ")

if options.json {
    // Numbers only, so no escaping is needed. Required keys first, extras after.
    let fields: [(String, String)] = [
        ("nodes", "\(options.nodes)"),
        ("placements_per_second", "\(rounded(placementsPerSecond, 2))"),
        ("p50_decision_us", "\(rounded(p50, 1))"),
        ("p99_decision_us", "\(rounded(p99, 1))"),
        ("bytes_per_node", "\(Int(bytesPerNode.rounded()))"),
        ("jobs", "\(options.jobs)"),
        ("decisions", "\(result.decisions)"),
        ("tasks_placed", "\(result.tasksPlaced)"),
        ("unplaceable_decisions", "\(result.unplaceable)"),
        ("decisions_per_second", "\(rounded(decisionsPerSecond, 2))"),
        ("mean_decision_us", "\(rounded(meanUs, 1))"),
        ("mean_feasible_nodes", "\(rounded(meanFeasible, 1))"),
        ("max_decision_us", "\(rounded(maxUs, 1))"),
        ("seconds_in_place", "\(rounded(totalSeconds, 3))"),
        ("seed", "\(options.seed)"),
        ("policy", "\"\(options.policy.rawValue)\""),
        ("prefilled_tasks", "\(prefilled)"),
        ("fill_at_start", "\(rounded(fillAtStart, 4))"),
        ("fill_at_end", "\(rounded(fleet.fill, 4))"),
        ("releases", "\(fleet.releases)"),
        ("released_tasks", "\(fleet.released)"),
        ("live_tasks", "\(fleet.liveCount)"),
        ("fleet_rss_bytes", "\(max(0, rssAfter - rssBefore))"),
        ("build_seconds", "\(rounded(buildSeconds, 3))"),
        ("prefill_seconds", "\(rounded(prefillSeconds, 3))"),
    ] + Workload.Kind.allCases.flatMap { k in [
        ("\(String(k.name.map { $0 == "-" ? "_" : $0 }))_jobs_placed", "\(result.jobsPlacedByKind[k.rawValue])"),
        ("\(String(k.name.map { $0 == "-" ? "_" : $0 }))_jobs", "\(result.jobsByKind[k.rawValue])"),
    ] }
    print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
} else {
    print("""
        sched-bench: \(options.nodes) nodes (\(vrCount) Vera Rubin trays, \(options.nodes - vrCount) Graviton-class), \
        seed \(options.seed), policy \(options.policy.rawValue)
          fleet:     \(fleet.totalPUs) PUs, \(fleet.totalGPUs) GPUs; built in \(rounded(buildSeconds, 2)) s; \
        \(Int(bytesPerNode.rounded())) bytes per node (RSS +\(rounded(Double(rssAfter - rssBefore) / 1048576, 1)) MiB)
          prefill:   \(prefilled) tasks in \(rounded(prefillSeconds, 1)) s, fleet at \(percent(fillAtStart)) of PUs
          jobs:      \(options.jobs): \(kindsSummary)
          decisions: \(result.decisions) (\(result.tasksPlaced) tasks placed, \(result.unplaceable) decisions placed nothing)
          steady:    \(fleet.releases) releases of the oldest 10% (\(fleet.released) tasks); fleet at \(percent(fleet.fill)) at the end
          time:      \(rounded(totalSeconds, 3)) s deciding: \(rounded(placementsPerSecond, 1)) placements/s, \
        \(rounded(decisionsPerSecond, 1)) decisions/s
          feasible:  \(rounded(meanFeasible, 1)) nodes per decision on average (the explanation's nodesFeasible)
          latency:   p50 \(rounded(p50, 1)) µs, p99 \(rounded(p99, 1)) µs, mean \(rounded(meanUs, 1)) µs, max \(rounded(maxUs, 1)) µs
        """)
}
