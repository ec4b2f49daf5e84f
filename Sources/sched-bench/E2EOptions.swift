/// `sched-bench e2e` arguments.
struct E2EOptions {
    static let usage = """
        usage: sched-bench e2e --nodes N --jobs M [--mix cpu|gpu] [--seed S] [--batch B] [--min-job-age S] [--json] [--keep]

          --nodes N   emulated fleet: ⌈N/2⌉ Vera Rubin trays (18 per NVLink domain), ⌊N/2⌋ Graviton-class nodes
          --jobs M    jobs to submit (gang members count one each)
          --mix       cpu: every job asks for 1-4 cores (default)
                      gpu: per 100 jobs, one 64-GPU gang (16 trays × 4 GPUs, one NVLink domain),
                           two 8-GPU gangs (2 trays × 4 GPUs), the rest 1-4 cores
          --seed S    seed of the job mix (default 1)
          --batch B   specs per SUBMIT_BATCH line (default 1000)
          --min-job-age S  schedd's --min-job-age: seconds a finished job stays in its memory (default 300)
          --json      print one JSON object on one line
          --keep      keep the work directory (schedd's store and logs) and print its path
        Starts schedd and `sched-agent --fleet ... --no-exec` on 127.0.0.1 from the directory of
        this executable; measures from the first submit until every job was reported running.
        """

    var nodes = 0
    var jobs = 0
    var gpuMix = false
    var seed: UInt64 = 1
    var batch = 1000
    var json = false
    var keep = false
    var minJobAge: Int?

    init(_ args: [String]) throws(E2EError) {
        var i = 0
        func value() throws(E2EError) -> String {
            i += 1
            guard i < args.count else { throw E2EError("\(args[i - 1]) needs a value\n\(Self.usage)") }
            return args[i]
        }
        func int(_ min: Int) throws(E2EError) -> Int {
            let flag = args[i]
            let v = try value()
            guard let n = Int(v), n >= min else { throw E2EError("\(flag): expected a whole number >= \(min), got '\(v)'") }
            return n
        }
        while i < args.count {
            switch args[i] {
            case "--nodes": nodes = try int(1)
            case "--jobs": jobs = try int(1)
            case "--seed": seed = UInt64(try int(0))
            case "--batch": batch = try int(1)
            case "--min-job-age": minJobAge = try int(0)
            case "--mix":
                switch try value() {
                case "cpu": gpuMix = false
                case "gpu": gpuMix = true
                case let m: throw E2EError("--mix: expected cpu or gpu, got '\(m)'")
                }
            case "--json": json = true
            case "--keep": keep = true
            case "-h", "--help": throw E2EError(Self.usage)
            default: throw E2EError("unknown argument '\(args[i])'\n\(Self.usage)")
            }
            i += 1
        }
        guard nodes > 0, jobs > 0 else { throw E2EError("--nodes and --jobs are required\n\(Self.usage)") }
        if gpuMix, nodes < 2 * 16 { throw E2EError("--mix gpu needs at least 32 nodes (16 trays for a 64-GPU gang)") }
    }
}

/// A benchmark failure, printed as `sched-bench e2e: MESSAGE`.
struct E2EError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
