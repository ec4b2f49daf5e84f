#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import SchedControlPlane
import SchedSimulation

/// `sched-bench chaos`: the deterministic fault-injecting simulator over the real control plane
/// (docs/chaos.md).
enum ChaosCommand {
    static let usage = """
        usage: sched-bench chaos (--seed S | --seeds A-B) --steps N [--faults LIST] [--json] [--trace [--trace-events K]]
               sched-bench chaos --self-test [--seeds A-B] [--steps N]

          --seed S        one seed; --seeds A-B every seed from A to B
          --steps N       world events in each run's fault phase (a quiet phase follows)
          --faults LIST   comma-separated: schedd-crash, agent-crash, network, partition, store, clock,
                          all (default), none
          --json          one JSON object: seeds, steps, events, events_per_second, violations
          --trace         print each violation's event trace (always printed without --json)
          --trace-events K  keep the last K world events for that trace (default 40)
          --self-test     plant each known bug and show the checker catches it within the seed budget
        """

    static func main(_ args: [String]) -> Int32 {
        // Swift seeds its hashing per process; a run must not depend on dictionary order.
        // execv stays in Swift: there is no fork, so nothing runs in a half-copied process (exec
        // replaces this one whole), and setenv runs from main before any thread is started.
        if getenv("SWIFT_DETERMINISTIC_HASHING") == nil {
            setenv("SWIFT_DETERMINISTIC_HASHING", "1", 1)
            let argv = CommandLine.arguments.map { strdup($0) } + [nil]
            execv("/proc/self/exe", argv)
            printErr("sched-bench chaos: cannot re-exec with deterministic hashing: \(String(cString: strerror(errno)))")
            return 2
        }
        var seeds: ClosedRange<UInt64>?
        var steps: Int?
        var faults = FaultSet.all
        var json = false, trace = false, selfTest = false
        var traceEvents = ChaosConfig(seed: 0, steps: 1).traceLength
        var it = args.makeIterator()
        func bad(_ m: String) -> Int32 {
            printErr("sched-bench chaos: \(m)\n\(usage)")
            return 2
        }
        while let a = it.next() {
            switch a {
            case "--seed":
                guard let v = it.next(), let s = UInt64(v) else { return bad("--seed wants a number") }
                seeds = s...s
            case "--seeds":
                guard let v = it.next() else { return bad("--seeds wants A-B") }
                let p = v.split(separator: "-").compactMap { UInt64($0) }
                guard p.count == 2, p[0] <= p[1] else { return bad("--seeds wants A-B with A <= B, got '\(v)'") }
                seeds = p[0]...p[1]
            case "--steps":
                guard let v = it.next(), let n = Int(v), n > 0 else { return bad("--steps wants a positive number") }
                steps = n
            case "--faults":
                guard let v = it.next(), let f = FaultSet(list: v) else {
                    return bad("--faults wants a list of \(FaultSet.names.map(\.0).joined(separator: ", ")), all or none")
                }
                faults = f
            case "--json": json = true
            case "--trace": trace = true
            case "--trace-events":
                guard let v = it.next(), let n = Int(v), n > 0 else { return bad("--trace-events wants a positive number") }
                traceEvents = n
            case "--self-test": selfTest = true
            case "-h", "--help":
                print(usage)
                return 0
            default: return bad("unknown argument '\(a)'")
            }
        }
        if selfTest { return runSelfTest(seeds: seeds ?? 1...40, steps: steps ?? 3000) }
        guard let seeds, let steps else { return bad("give --seed or --seeds, and --steps") }

        let clock = ContinuousClock()
        var totalSteps = 0, totalEvents = 0, violations = 0
        let started = clock.now
        for seed in seeds {
            var config = ChaosConfig(seed: seed, steps: steps)
            config.faults = faults
            config.traceLength = traceEvents
            var sim = ChaosSimulator(config)
            let r = sim.run()
            totalSteps += r.steps
            totalEvents += r.events
            if let v = r.violation {
                violations += 1
                report(v, seed: seed, steps: steps, faults: faults, withTrace: trace || !json)
            }
        }
        let seconds = max(1e-9, Double((clock.now - started).components.attoseconds) / 1e18 + Double((clock.now - started).components.seconds))
        let rate = Double(totalEvents) / seconds
        if json {
            print("{\"seeds\": \(seeds.count), \"steps\": \(totalSteps), \"events\": \(totalEvents), \"events_per_second\": \(Int(rate)), \"violations\": \(violations)}")
        } else {
            print("chaos: \(seeds.count) seeds, \(totalSteps) steps, \(totalEvents) control-plane events in \(String(format: "%.2f", seconds)) s (\(Int(rate)) events/s), \(violations) violations")
        }
        return violations == 0 ? 0 : 1
    }

    static func report(_ v: Violation, seed: UInt64, steps: Int, faults: FaultSet, withTrace: Bool) {
        printErr("VIOLATION seed \(seed) \(v)")
        let names = FaultSet.names.filter { faults.contains($0.1) }.map(\.0).joined(separator: ",")
        printErr("  replay: sched-bench chaos --seed \(seed) --steps \(steps) --faults \(names.isEmpty ? "none" : names) --trace")
        if withTrace { for line in v.trace { printErr("  " + line) } }
    }

    /// Each planted bug must be caught, by the invariant that names it, within the seed budget.
    static func runSelfTest(seeds: ClosedRange<UInt64>, steps: Int) -> Int32 {
        var cases: [(String, PlantedBugs)] = []
        var b = PlantedBugs()
        b.skipDoubleBookingCheck = true
        cases.append(("skip the double-booking check in the allocator", b))
        b = PlantedBugs()
        b.acknowledgeBeforeCommit = true
        cases.append(("acknowledge before commit", b))
        b = PlantedBugs()
        b.placeGangMemberAlone = true
        cases.append(("place one gang member alone", b))
        b = PlantedBugs()
        b.forgetLostNodeTasks = true
        cases.append(("forget a lost node's tasks", b))
        var missed = 0
        for (name, bugs) in cases {
            var caught: (UInt64, Violation)?
            for seed in seeds {
                var config = ChaosConfig(seed: seed, steps: steps)
                config.bugs = bugs
                var sim = ChaosSimulator(config)
                if let v = sim.run().violation {
                    caught = (seed, v)
                    break
                }
            }
            if let (seed, v) = caught {
                print("caught: \(name): seed \(seed), step \(v.step): \(v.invariant): \(v.detail)")
            } else {
                missed += 1
                print("MISSED: \(name): no violation in seeds \(seeds.lowerBound)-\(seeds.upperBound) at \(steps) steps")
            }
        }
        print(missed == 0 ? "self-test passed: \(cases.count) of \(cases.count) planted bugs caught" : "self-test FAILED: \(missed) of \(cases.count) planted bugs missed")
        return missed == 0 ? 0 : 1
    }
}
