import SchedCore

/// What a user submits: one task's command and resources. Parsed from YAML or built from flags
/// by schedctl, carried as JSON on the wire, stored verbatim by schedd.
public struct JobSpec: Sendable, Codable, Hashable {
    /// Human-readable name; defaults to the command's first word.
    public var name: String?
    /// argv of the task; the first element is looked up in PATH.
    public var command: [String]
    /// Resources of the task.
    public var resources: ResourceRequest
    /// Extra environment variables for the task.
    public var env: [String: String]
    /// Working directory of the task; defaults to the agent's task directory.
    public var workdir: String?
    /// Seconds between SIGTERM and SIGKILL when the job is cancelled (default 10).
    public var killGraceSeconds: Int?
    /// The queue, whose policy ranks nodes for this job (default `default`).
    public var queue: String?
    /// Submit this many copies as a job array (Slurm's `--array=0-(N-1)`): each copy is its own
    /// job with `arrayIndex` 0..N-1, all stored in one transaction.
    public var array: Int?
    /// Higher runs first among pending jobs (default 0); ties go to the older job.
    public var priority: Int?
    /// May be stopped (and re-queued) to make room for a higher-priority job.
    public var preemptible: Bool?
    /// Seconds the job runs before it may be preempted (default 0).
    public var minRuntimeSeconds: Int?
    /// Signal sent first when the job is preempted, so it can checkpoint (default SIGTERM);
    /// SIGKILL follows after `killGraceSeconds`.
    public var checkpointSignal: Int32?
    /// With `array`: place all members at once or none (a gang), e.g. a multi-node training run.
    public var gang: Bool?
    /// With `gang`: keep the whole gang inside one NVLink domain (`required`) or try to (`preferred`).
    public var nvlink: NVLinkLocality?
    /// A service: its task (each replica, with `array: N`) is started again whenever it ends,
    /// until cancelled.
    public var service: Bool?
    /// The tenant (team, project) the job is accounted to: quotas and fair share (default `default`).
    public var tenant: String?
    /// The task is stopped (SIGTERM, SIGKILL after the grace) once it has run this long; also
    /// what backfill uses to know when its resources come back.
    public var timeLimitSeconds: Int?
    /// Relative speed of `resources` in thousandths (default 1000), compared with `alternatives`.
    public var speedMilli: Int?
    /// Other shapes the task can run in, each with its relative speed; the fastest that fits now is used.
    public var alternatives: [TaskShape]?

    public init(name: String? = nil, command: [String], resources: ResourceRequest = ResourceRequest(),
                env: [String: String] = [:], workdir: String? = nil, killGraceSeconds: Int? = nil, queue: String? = nil,
                array: Int? = nil, priority: Int? = nil, preemptible: Bool? = nil, minRuntimeSeconds: Int? = nil,
                checkpointSignal: Int32? = nil, gang: Bool? = nil, nvlink: NVLinkLocality? = nil, service: Bool? = nil,
                speedMilli: Int? = nil, alternatives: [TaskShape]? = nil, timeLimitSeconds: Int? = nil, tenant: String? = nil) {
        self.name = name
        self.command = command
        self.resources = resources
        self.env = env
        self.workdir = workdir
        self.killGraceSeconds = killGraceSeconds
        self.queue = queue
        self.array = array
        self.priority = priority
        self.preemptible = preemptible
        self.minRuntimeSeconds = minRuntimeSeconds
        self.checkpointSignal = checkpointSignal
        self.gang = gang
        self.nvlink = nvlink
        self.service = service
        self.speedMilli = speedMilli
        self.alternatives = alternatives
        self.timeLimitSeconds = timeLimitSeconds
        self.tenant = tenant
    }

    enum CodingKeys: String, CodingKey { case name, command, resources, env, workdir, killGraceSeconds, queue, array, priority,
                                          preemptible, minRuntimeSeconds, checkpointSignal, gang, nvlink, service,
                                          speedMilli, alternatives, timeLimitSeconds, tenant }

    /// Decodes with defaults for absent fields (`resources`, `env`).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        command = try c.decode([String].self, forKey: .command)
        resources = try c.decodeIfPresent(ResourceRequest.self, forKey: .resources) ?? ResourceRequest()
        env = try c.decodeIfPresent([String: String].self, forKey: .env) ?? [:]
        workdir = try c.decodeIfPresent(String.self, forKey: .workdir)
        killGraceSeconds = try c.decodeIfPresent(Int.self, forKey: .killGraceSeconds)
        queue = try c.decodeIfPresent(String.self, forKey: .queue)
        array = try c.decodeIfPresent(Int.self, forKey: .array)
        priority = try c.decodeIfPresent(Int.self, forKey: .priority)
        preemptible = try c.decodeIfPresent(Bool.self, forKey: .preemptible)
        minRuntimeSeconds = try c.decodeIfPresent(Int.self, forKey: .minRuntimeSeconds)
        checkpointSignal = try c.decodeIfPresent(Int32.self, forKey: .checkpointSignal)
        gang = try c.decodeIfPresent(Bool.self, forKey: .gang)
        nvlink = try c.decodeIfPresent(NVLinkLocality.self, forKey: .nvlink)
        service = try c.decodeIfPresent(Bool.self, forKey: .service)
        speedMilli = try c.decodeIfPresent(Int.self, forKey: .speedMilli)
        alternatives = try c.decodeIfPresent([TaskShape].self, forKey: .alternatives)
        timeLimitSeconds = try c.decodeIfPresent(Int.self, forKey: .timeLimitSeconds)
        tenant = try c.decodeIfPresent(String.self, forKey: .tenant)
    }

    /// The tenant name, `default` when none is given.
    public var tenantName: String { tenant ?? "default" }

    /// Every shape: `resources` first (shape 0), then the alternatives.
    public var shapes: [TaskShape] {
        [TaskShape(resources: resources, speedMilli: speedMilli ?? 1000)] + (alternatives ?? [])
    }

    /// Whether this is a gang (all members placed together).
    public var isGang: Bool { gang == true }

    /// Largest job array accepted in one submission.
    public static let maxArray = 100_000

    /// The queue name, `default` when none is given.
    public var queueName: String { queue ?? "default" }

    /// The name shown in listings.
    public var displayName: String { name ?? command.first.map { String($0.split(separator: "/").last ?? "") } ?? "job" }

    /// Checks the values a parser cannot: returns a problem per bad field, empty when valid.
    public func problems() -> [(field: String, message: String)] {
        var out: [(String, String)] = []
        if command.isEmpty || command[0].isEmpty { out.append(("command", "must name a program to run")) }
        if resources.cpus < 1 { out.append(("resources.cpus", "must be at least 1, got \(resources.cpus)")) }
        if resources.cpus > 65536 { out.append(("resources.cpus", "is too large: \(resources.cpus)")) }
        if resources.memoryBytes < 0 { out.append(("resources.memory", "must not be negative")) }
        if resources.gpus < 0 { out.append(("resources.gpus", "must not be negative, got \(resources.gpus)")) }
        if resources.gpus > 4096 { out.append(("resources.gpus", "is too large: \(resources.gpus)")) }
        if let g = killGraceSeconds, g < 0 || g > 86400 { out.append(("kill_grace", "must be between 0 and 86400 seconds")) }
        if let n = name, n.count > 200 { out.append(("name", "is longer than 200 characters")) }
        if resources.gpuMilli < 1 || resources.gpuMilli > 1000 {
            out.append(("resources.gpus", "a GPU share must be between 0.001 and 1 GPU"))
        } else if resources.gpuMilli < 1000 && resources.gpus != 1 {
            out.append(("resources.gpus", "a fractional GPU share is for one GPU only; ask for whole GPUs to get more"))
        }
        for (k, v) in resources.labels where k.isEmpty || k.count > 253 || v.count > 253 {
            out.append(("node_selector", "label '\(k)' must be 1-253 characters, its value at most 253"))
        }
        if let n = array, n < 1 || n > Self.maxArray { out.append(("array", "must be between 1 and \(Self.maxArray), got \(n)")) }
        if let p = priority, abs(p) > 1_000_000 { out.append(("priority", "must be between -1000000 and 1000000")) }
        if let m = minRuntimeSeconds, m < 0 || m > 31_536_000 { out.append(("min_runtime", "must be between 0 and one year")) }
        if let s = checkpointSignal, s < 1 || s > 64 || s == 9 || s == 19 {
            out.append(("checkpoint_signal", "must be a catchable signal (1-64, not KILL or STOP)"))
        }
        if gang == true, array == nil { out.append(("gang", "a gang needs array: N (its number of tasks)")) }
        if let alts = alternatives {
            if alts.count > 16 { out.append(("alternatives", "at most 16 shapes")) }
            if gang == true { out.append(("alternatives", "a gang has one shape")) }
            for (i, a) in alts.enumerated() where a.resources.cpus < 1 || a.speedMilli < 1 || a.speedMilli > 1_000_000 {
                out.append(("alternatives[\(i)]", "needs cpus >= 1 and a speed between 0.001 and 1000"))
            }
        }
        if let t = timeLimitSeconds, t < 1 || t > 31_536_000 { out.append(("time_limit", "must be between 1 second and one year")) }
        if let s = speedMilli, s < 1 || s > 1_000_000 { out.append(("speed", "must be between 0.001 and 1000")) }
        if service == true, gang == true { out.append(("service", "a service's replicas restart one by one; it cannot be a gang")) }
        if nvlink != nil, gang != true { out.append(("nvlink", "applies to gangs only (set gang: true and array: N)")) }
        if let t = tenant, t.isEmpty || t.count > 64 || !t.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) {
            out.append(("tenant", "must be 1-64 letters, digits, '-', '_' or '.'"))
        }
        if let q = queue, q.isEmpty || q.count > 64 || !q.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) {
            out.append(("queue", "must be 1-64 letters, digits, '-', '_' or '.'"))
        }
        return out
    }
}

/// Parses and prints byte sizes: `512`, `512K`, `8G`, `8GiB`, `1.5GB` (powers of 1024, as Slurm).
public enum ByteSize {
    /// Parses a size; returns nil when malformed or out of range.
    public static func parse(_ text: String) -> Int64? {
        let t = String(text.lowercased().filter { !$0.isWhitespace })
        guard !t.isEmpty else { return nil }
        let digits = t.prefix { $0.isNumber || $0 == "." }
        var unit = String(t.dropFirst(digits.count))
        guard let value = Double(digits), value >= 0 else { return nil }
        if unit.hasSuffix("ib") { unit.removeLast(2) } else if unit.hasSuffix("b") { unit.removeLast() }
        let mult: Double
        switch unit {
        case "": mult = 1
        case "k": mult = 1024
        case "m": mult = 1024 * 1024
        case "g": mult = 1024 * 1024 * 1024
        case "t": mult = 1024 * 1024 * 1024 * 1024
        default: return nil
        }
        let bytes = value * mult
        guard bytes < 9.0e18 else { return nil }
        return Int64(bytes.rounded())
    }

    /// `8 GiB`, `1.5 GiB`, `512 MiB`, `0 B`.
    public static func format(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var v = Double(bytes), i = 0
        while v >= 1024, i < units.count - 1 { v /= 1024; i += 1 }
        if i == 0 { return "\(bytes) B" }
        let rounded = (v * 10).rounded() / 10
        return rounded == rounded.rounded() ? "\(Int(rounded)) \(units[i])" : "\(rounded) \(units[i])"
    }
}

/// Parses a GPU amount: whole GPUs (`2`) or a share of one GPU (`0.5`, `0.25`, `250m`).
public enum GPUAmount {
    /// (gpus, thousandths per GPU); nil when malformed, negative, or a fraction above one GPU.
    public static func parse(_ text: String) -> (gpus: Int, milli: Int)? {
        let t = String(text.lowercased().filter { !$0.isWhitespace && $0 != "_" })
        guard !t.isEmpty else { return nil }
        if let n = Int(t) { return n >= 0 ? (n, 1000) : nil }
        if t.hasSuffix("m"), let m = Int(t.dropLast()) {
            if m == 0 { return (0, 1000) }
            guard m > 0 else { return nil }
            if m % 1000 == 0 { return (m / 1000, 1000) }
            return m < 1000 ? (1, m) : nil
        }
        guard t.allSatisfy({ $0.isNumber || $0 == "." }), let x = Double(t), x >= 0 else { return nil }
        if x == x.rounded(), x < 1_000_000 { return (Int(x), 1000) }   // 2.0, 0.0
        guard x < 1 else { return nil }
        let milli = Int((x * 1000).rounded())
        return milli >= 1 ? (1, milli) : nil
    }

    /// `2`, `0.5`, `0.25` — the inverse of `parse` for display.
    public static func format(gpus: Int, milli: Int) -> String {
        guard milli < 1000 else { return "\(gpus)" }
        var s = String(milli)
        while s.count < 3 { s = "0" + s }
        while s.hasSuffix("0") { s.removeLast() }
        return "0." + s
    }
}

/// Signal names as Linux numbers them (`USR1`, `SIGUSR1`, `10`).
public enum SignalName {
    static let numbers: [String: Int32] = ["HUP": 1, "INT": 2, "QUIT": 3, "USR1": 10, "USR2": 12, "TERM": 15,
                                           "CONT": 18, "URG": 23, "XCPU": 24, "WINCH": 28, "PWR": 30]
    public static func parse(_ text: String) -> Int32? {
        var t = String(text.uppercased().filter { !$0.isWhitespace })
        if let n = Int32(t) { return n }
        if t.hasPrefix("SIG") { t.removeFirst(3) }
        return numbers[t]
    }
}
