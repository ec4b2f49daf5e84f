import SchedCore
import SchedProtocol
import Yams

/// Reads the YAML job specs of `schedctl submit FILE` (the format is described in docs/job-spec.md).
///
/// Every error names the line of the offending value and the field it belongs to, e.g.
/// `job.yaml:7: resources.cpus: expected a whole number, got 'two'`.
public enum JobSpecParser {
    /// The largest spec accepted, in bytes (UTF-8).
    public static let maxInputBytes = 1 << 20

    /// Fields allowed at the top level, in documentation order.
    public static let topLevelFields = ["name", "command", "resources", "env", "workdir", "kill_grace", "queue", "node_selector",
                                        "array", "priority", "preemptible", "min_runtime", "checkpoint_signal", "gang", "nvlink", "service",
                                        "speed", "alternatives", "time_limit", "tenant"]
    /// Fields allowed under `resources:`.
    public static let resourceFields = ["cpus", "memory", "gpus", "gpu_model", "arch"]
    /// Canonical architectures `resources.arch` may name (after `ResourceRequest.canonicalArch`).
    public static let knownArchitectures = ["x86_64", "aarch64", "ppc64le", "ppc64"]

    /// Parses a YAML job spec. `source` names the file in error messages.
    public static func parse(yaml: String, source: String = "<spec>") throws(JobSpecError) -> JobSpec {
        var reader = SpecReader(source: source)
        return try reader.read(yaml)
    }
}

// MARK: - Reading

/// One parse: the source name and the nodes of the fields seen, so `JobSpec.problems()` can be
/// pointed back at a line.
struct SpecReader {
    let source: String
    /// Value node of each field read, by dotted path (`resources.cpus`).
    var nodes: [String: Node] = [:]

    init(source: String) { self.source = source }

    mutating func read(_ yaml: String) throws(JobSpecError) -> JobSpec {
        let size = yaml.utf8.count
        guard size <= JobSpecParser.maxInputBytes else {
            throw JobSpecError(source: source, message:
                "the spec is \(size) bytes; a job spec may be at most \(JobSpecParser.maxInputBytes) bytes "
                + "(\(ByteSize.format(Int64(JobSpecParser.maxInputBytes))))")
        }

        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw yamlError(error, yaml: yaml)
        }
        guard let root, !Self.isNull(root) else {
            throw JobSpecError(source: source, line: root?.mark?.line, message:
                "the spec is empty; expected a mapping with at least a 'command' field")
        }
        guard case .mapping(let top) = root else {
            throw fail(root, nil, "expected a mapping of fields (name, command, resources, ...) at the top level, "
                       + "got \(Self.describe(root))")
        }

        var name: String?
        var command: [String]?
        var resources = ResourceRequest()
        var env: [String: String] = [:]
        var workdir: String?
        var killGrace: Int?
        var queue: String?
        var selector: [String: String] = [:]
        var array: Int?
        var priority: Int?
        var preemptible: Bool?
        var minRuntime: Int?
        var checkpointSignal: Int32?
        var gang: Bool?
        var nvlink: NVLinkLocality?
        var service: Bool?
        var speed: Int?
        var timeLimit: Int?
        var tenant: String?
        var alternatives: [TaskShape]?

        for (keyNode, value) in top {
            let key = try fieldName(keyNode, in: nil)
            switch key {
            case "name":
                nodes[key] = value
                name = try optionalString(value, key)
                if name == "" { throw fail(value, key, "must not be empty (leave it out to use the command's name)") }
            case "command":
                nodes[key] = value
                command = try readCommand(value)
            case "resources":
                nodes[key] = value
                resources = try readResources(value)
            case "env":
                nodes[key] = value
                env = try readEnv(value)
            case "workdir":
                nodes[key] = value
                workdir = try optionalString(value, key)
                if let w = workdir, !w.hasPrefix("/") {
                    throw fail(value, key, "must be an absolute path (starting with '/'), got '\(Self.clip(w))'")
                }
            case "kill_grace":
                nodes[key] = value
                killGrace = try readDuration(value, key)
            case "queue":
                nodes[key] = value
                queue = try optionalString(value, key)
            case "node_selector":
                nodes[key] = value
                selector = try readLabels(value, key)
            case "array":
                nodes[key] = value
                array = try optionalInt(value, key)
            case "priority":
                nodes[key] = value
                priority = try optionalInt(value, key)
            case "preemptible":
                nodes[key] = value
                preemptible = try optionalBool(value, key)
            case "gang":
                nodes[key] = value
                gang = try optionalBool(value, key)
            case "service":
                nodes[key] = value
                service = try optionalBool(value, key)
            case "speed":
                nodes[key] = value
                speed = try readSpeed(value, key)
            case "time_limit":
                nodes[key] = value
                timeLimit = try readDuration(value, key)
            case "tenant":
                nodes[key] = value
                tenant = try optionalString(value, key)
            case "alternatives":
                nodes[key] = value
                alternatives = try readAlternatives(value)
            case "nvlink":
                nodes[key] = value
                if let t = try optionalString(value, key) {
                    guard let l = NVLinkLocality(rawValue: t.lowercased()) else {
                        throw fail(value, key, "expected required or preferred, got '\(Self.clip(t))'")
                    }
                    nvlink = l
                }
            case "min_runtime":
                nodes[key] = value
                minRuntime = try readDuration(value, key)
            case "checkpoint_signal":
                nodes[key] = value
                if let t = try optionalString(value, key) {
                    guard let n = SignalName.parse(t) else { throw fail(value, key, "unknown signal '\(Self.clip(t))' (USR1, USR2, TERM, INT, HUP or a number)") }
                    checkpointSignal = n
                }
            default:
                throw unknownField(key, keyNode, in: nil)
            }
        }

        guard let command else {
            throw JobSpecError(source: source, field: "command", message:
                "is required: a list such as [\"python3\", \"train.py\"] or a shell command string")
        }

        resources.labels = selector
        let spec = JobSpec(name: name, command: command, resources: resources, env: env,
                           workdir: workdir, killGraceSeconds: killGrace, queue: queue, array: array, priority: priority,
                           preemptible: preemptible, minRuntimeSeconds: minRuntime, checkpointSignal: checkpointSignal,
                           gang: gang, nvlink: nvlink, service: service, speedMilli: speed, alternatives: alternatives,
                           timeLimitSeconds: timeLimit, tenant: tenant)
        if let problem = spec.problems().first {
            throw fail(nodes[problem.field], problem.field, problem.message)
        }
        // The placer looks at the model only when GPUs are requested: a model alone would be ignored.
        if resources.gpuModel != nil, resources.gpus == 0 {
            throw fail(nodes["resources.gpu_model"], "resources.gpu_model",
                       "has no effect without GPUs: set resources.gpus to 1 or more")
        }
        return spec
    }

}

// MARK: - Helpers

extension SpecReader {
    /// Whether a node is YAML's null: `~`, `null`, or nothing at all (only plain scalars; `""` is a string).
    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let s) = node, s.style == .plain || s.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    /// `'two'`, `a list`, `a mapping`, `an empty value`.
    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let s): return Self.isNull(node) ? "an empty value" : "'\(Self.clip(s.string))'"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        case .alias: return "an alias"
        }
    }

    /// Text shortened for a message: one line, at most 60 characters.
    static func clip(_ text: String) -> String {
        let oneLine = text.replacing("\n", with: "\\n")
        return oneLine.count <= 60 ? oneLine : String(oneLine.prefix(57)) + "..."
    }

    /// POSIX-portable environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
    static func isEnvName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first else { return false }
        func letter(_ c: Unicode.Scalar) -> Bool { (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_" }
        return letter(first) && name.unicodeScalars.allSatisfy { letter($0) || ($0 >= "0" && $0 <= "9") }
    }

    /// `s` without leading and trailing whitespace.
    static func trim(_ s: String) -> String {
        String(s.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}

extension JobSpecParser {
    /// "Did you mean" for field names: known aliases, then spelling and case/separator differences.
    enum FieldSuggester {
        static let aliases: [String: String] = [
            "cmd": "command", "args": "command", "argv": "command", "run": "command", "script": "command",
            "cpu": "cpus", "ncpus": "cpus", "threads": "cpus", "cores": "cpus",
            "mem": "memory", "ram": "memory",
            "gpu": "gpus", "ngpus": "gpus",
            "gpu_type": "gpu_model", "model": "gpu_model",
            "architecture": "arch", "platform": "arch",
            "environment": "env", "envs": "env", "variables": "env",
            "cwd": "workdir", "dir": "workdir", "working_dir": "workdir", "chdir": "workdir",
            "grace": "kill_grace", "kill_timeout": "kill_grace",
            "job_name": "name", "title": "name",
        ]

        /// The field of `fields` that `key` most likely meant, or nil.
        static func suggest(_ key: String, among fields: [String]) -> String? {
            let norm = normalize(key)
            if let f = fields.first(where: { normalize($0) == norm }) { return f }
            if let a = aliases[norm], fields.contains(a) { return a }
            guard norm.count <= 64 else { return nil }
            let limit = norm.count <= 3 ? 1 : 2
            let scored = fields.map { (field: $0, distance: distance(norm, normalize($0))) }
            guard let best = scored.min(by: { $0.distance < $1.distance }), best.distance <= limit else { return nil }
            return best.field
        }

        /// Lowercased, with `-` and camelCase humps turned into `_`.
        static func normalize(_ s: String) -> String {
            var out = ""
            var previous: Character?
            for c in s {
                if c.isUppercase, let p = previous, p.isLowercase { out.append("_") }
                out += c == "-" || c == " " ? "_" : c.lowercased()
                previous = c
            }
            return out
        }

        /// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions).
        static func distance(_ a: String, _ b: String) -> Int {
            let a = Array(a), b = Array(b)
            if a.isEmpty { return b.count }
            if b.isEmpty { return a.count }
            var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
            for i in 0...a.count { d[i][0] = i }
            for j in 0...b.count { d[0][j] = j }
            for i in 1...a.count {
                for j in 1...b.count {
                    let cost = a[i - 1] == b[j - 1] ? 0 : 1
                    d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                    if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                        d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                    }
                }
            }
            return d[a.count][b.count]
        }
    }
}
