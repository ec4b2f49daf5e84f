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
private struct SpecReader {
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

    // MARK: Fields

    func readCommand(_ node: Node) throws(JobSpecError) -> [String] {
        let field = "command"
        switch node {
        case .scalar(let s):
            if Self.isNull(node) {
                throw fail(node, field, "is required: a list such as [\"python3\", \"train.py\"] or a shell command "
                           + "string, got an empty value")
            }
            if s.string.allSatisfy(\.isWhitespace) { throw fail(node, field, "must not be empty") }
            return ["/bin/sh", "-c", s.string]
        case .sequence(let seq):
            var argv: [String] = []
            for (i, element) in seq.enumerated() {
                argv.append(try requiredString(element, "\(field)[\(i)]"))
            }
            return argv
        default:
            throw fail(node, field, "expected a list of strings or a shell command string, got \(Self.describe(node))")
        }
    }

    mutating func readResources(_ node: Node) throws(JobSpecError) -> ResourceRequest {
        var r = ResourceRequest()
        if Self.isNull(node) { return r }
        guard case .mapping(let map) = node else {
            throw fail(node, "resources", "expected a mapping of \(JobSpecParser.resourceFields.joined(separator: ", ")), "
                       + "got \(Self.describe(node))")
        }
        for (keyNode, value) in map {
            let key = try fieldName(keyNode, in: "resources")
            let field = "resources.\(key)"
            switch key {
            case "cpus":
                nodes[field] = value
                if let n = try optionalInt(value, field) { r.cpus = n }
            case "memory":
                nodes[field] = value
                if let text = try optionalString(value, field) {
                    guard let bytes = ByteSize.parse(text) else {
                        throw fail(value, field, "expected a size such as 512M, 8GiB or 1.5G (or a number of bytes), "
                                   + "got '\(Self.clip(text))'")
                    }
                    r.memoryBytes = bytes
                }
            case "gpus":
                nodes[field] = value
                if let text = try optionalString(value, field) {
                    let digits = Self.trim(text).filter { $0 != "_" }
                    if digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-" || $0 == "+") }) {
                        // Whole numbers (negative ones too, which problems() reports) read as before.
                        if let n = try optionalInt(value, field) { r.gpus = n }
                        continue
                    }
                    guard let amount = GPUAmount.parse(text) else {
                        throw fail(value, field, "expected a whole number of GPUs or a share of one GPU (0.5, 250m), got '\(Self.clip(text))'")
                    }
                    r.gpus = amount.gpus
                    r.gpuMilli = amount.milli
                }
            case "gpu_model":
                nodes[field] = value
                if let m = try optionalString(value, field) {
                    if m.allSatisfy(\.isWhitespace) {
                        throw fail(value, field, "must not be empty (leave it out to accept any GPU model)")
                    }
                    r.gpuModel = m
                }
            case "arch":
                nodes[field] = value
                if let a = try optionalString(value, field) {
                    let canonical = ResourceRequest.canonicalArch(Self.trim(a))
                    guard JobSpecParser.knownArchitectures.contains(canonical) else {
                        throw fail(value, field, "unknown architecture '\(Self.clip(a))' (expected x86_64 or aarch64; "
                                   + "amd64 and arm64 are accepted as aliases)")
                    }
                    r.arch = canonical
                }
            default:
                throw unknownField(key, keyNode, in: "resources")
            }
        }
        return r
    }

    func readEnv(_ node: Node) throws(JobSpecError) -> [String: String] {
        if Self.isNull(node) { return [:] }
        guard case .mapping(let map) = node else {
            throw fail(node, "env", "expected a mapping of variable names to values, got \(Self.describe(node))")
        }
        var env: [String: String] = [:]
        for (keyNode, value) in map {
            guard case .scalar(let k) = keyNode, !Self.isNull(keyNode) else {
                throw fail(keyNode, "env", "expected a variable name, got \(Self.describe(keyNode))")
            }
            let name = k.string
            guard Self.isEnvName(name) else {
                throw fail(keyNode, "env", "'\(Self.clip(name))' is not a valid variable name "
                           + "(letters, digits and '_', not starting with a digit)")
            }
            if Self.isNull(value) {
                throw fail(value, "env.\(name)", "expected a string, got an empty value (write \"\" for an empty string)")
            }
            env[name] = try requiredString(value, "env.\(name)")
        }
        return env
    }

    /// A relative speed such as `1`, `0.4`: thousandths, 0.001 to 1000.
    func readSpeed(_ node: Node, _ field: String) throws(JobSpecError) -> Int? {
        guard let t = try optionalString(node, field) else { return nil }
        guard let x = Double(Self.trim(t)), x >= 0.001, x <= 1000 else {
            throw fail(node, field, "expected a relative speed between 0.001 and 1000 (1 = reference), got '\(Self.clip(t))'")
        }
        return Int((x * 1000).rounded())
    }

    /// `alternatives:` — a list of `{resources: {...}, speed: X}`.
    mutating func readAlternatives(_ node: Node) throws(JobSpecError) -> [TaskShape]? {
        if Self.isNull(node) { return nil }
        guard case .sequence(let items) = node else {
            throw fail(node, "alternatives", "expected a list of shapes ({resources: {...}, speed: 0.4}), got \(Self.describe(node))")
        }
        var out: [TaskShape] = []
        for (i, item) in items.enumerated() {
            let field = "alternatives[\(i)]"
            guard case .mapping(let map) = item else { throw fail(item, field, "expected a mapping with resources and speed, got \(Self.describe(item))") }
            var shape = TaskShape(resources: ResourceRequest())
            for (k, v) in map {
                guard case .scalar(let key) = k else { throw fail(k, field, "expected a field name") }
                switch key.string {
                case "resources": shape.resources = try readResources(v)
                case "speed": shape.speedMilli = try readSpeed(v, "\(field).speed") ?? 1000
                default: throw fail(k, field, "unknown field '\(Self.clip(key.string))' (expected resources, speed)")
                }
            }
            out.append(shape)
        }
        return out
    }

    /// true / false (also yes/no, on/off); nil when absent.
    func optionalBool(_ node: Node, _ field: String) throws(JobSpecError) -> Bool? {
        guard let t = try optionalString(node, field) else { return nil }
        switch t.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw fail(node, field, "expected true or false, got '\(Self.clip(t))'")
        }
    }

    /// A mapping of label names to values (`node_selector`).
    func readLabels(_ node: Node, _ field: String) throws(JobSpecError) -> [String: String] {
        if Self.isNull(node) { return [:] }
        guard case .mapping(let map) = node else {
            throw fail(node, field, "expected a mapping of label names to values, got \(Self.describe(node))")
        }
        var labels: [String: String] = [:]
        for (keyNode, value) in map {
            guard case .scalar(let k) = keyNode, !Self.isNull(keyNode), !k.string.isEmpty else {
                throw fail(keyNode, field, "expected a label name, got \(Self.describe(keyNode))")
            }
            labels[k.string] = try requiredString(value, "\(field).\(k.string)")
        }
        return labels
    }

    func readDuration(_ node: Node, _ field: String) throws(JobSpecError) -> Int? {
        guard let text = try optionalString(node, field) else { return nil }
        let t = Self.trim(text).lowercased()
        if let n = Int(t) { return n }
        if let unit = t.last, let mult = ["s": 1, "m": 60, "h": 3600][unit], let n = Int(t.dropLast()) {
            let (v, overflow) = n.multipliedReportingOverflow(by: mult)
            return overflow ? (n < 0 ? Int.min : Int.max) : v
        }
        throw fail(node, field, "expected seconds such as 30, 30s, 5m or 1h, got '\(Self.clip(text))'")
    }

    // MARK: Scalars

    /// A scalar as text (numbers and booleans as written); nil when absent (`~`, `null`, nothing).
    func optionalString(_ node: Node, _ field: String) throws(JobSpecError) -> String? {
        if Self.isNull(node) { return nil }
        guard case .scalar(let s) = node else {
            throw fail(node, field, "expected a string, got \(Self.describe(node))")
        }
        return s.string
    }

    func requiredString(_ node: Node, _ field: String) throws(JobSpecError) -> String {
        guard case .scalar(let s) = node, !Self.isNull(node) else {
            throw fail(node, field, "expected a string, got \(Self.describe(node))")
        }
        return s.string
    }

    /// A decimal whole number (quoted or not); nil when absent.
    func optionalInt(_ node: Node, _ field: String) throws(JobSpecError) -> Int? {
        if Self.isNull(node) { return nil }
        guard case .scalar(let s) = node else {
            throw fail(node, field, "expected a whole number, got \(Self.describe(node))")
        }
        let t = Self.trim(s.string).filter { $0 != "_" }
        if let n = Int(t) { return n }
        let digits = t.drop { $0 == "-" || $0 == "+" }
        if !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) {
            throw fail(node, field, "is too large: \(Self.clip(s.string))")
        }
        throw fail(node, field, "expected a whole number, got \(Self.describe(node))")
    }

    // MARK: Keys

    func fieldName(_ keyNode: Node, in parent: String?) throws(JobSpecError) -> String {
        guard case .scalar(let k) = keyNode, !Self.isNull(keyNode) else {
            throw fail(keyNode, parent, "expected a field name, got \(Self.describe(keyNode))")
        }
        return k.string
    }

    func unknownField(_ key: String, _ keyNode: Node, in parent: String?) -> JobSpecError {
        let here = parent == nil ? JobSpecParser.topLevelFields : JobSpecParser.resourceFields
        var message = "unknown field '\(Self.clip(key))'"
        if let s = JobSpecParser.FieldSuggester.suggest(key, among: here) {
            message += " (did you mean '\(s)'?)"
        } else if parent == nil, let s = JobSpecParser.FieldSuggester.suggest(key, among: JobSpecParser.resourceFields) {
            message += " (did you mean 'resources.\(s)'? resource fields go under 'resources:')"
        } else if parent != nil, let s = JobSpecParser.FieldSuggester.suggest(key, among: JobSpecParser.topLevelFields) {
            message += " (did you mean the top-level field '\(s)'?)"
        } else {
            message += "; expected one of \(here.joined(separator: ", "))"
        }
        return fail(keyNode, parent, message)
    }

    // MARK: Errors

    func fail(_ node: Node?, _ field: String?, _ message: String) -> JobSpecError {
        JobSpecError(source: source, line: node?.mark?.line, column: node?.mark?.column, field: field, message: message)
    }

    func yamlError(_ error: any Error, yaml: String) -> JobSpecError {
        guard let y = error as? YamlError else {
            return JobSpecError(source: source, message: "could not read YAML: \(error)")
        }
        func syntax(_ context: YamlError.Context?, _ problem: String, _ mark: Mark) -> JobSpecError {
            if problem == "but found another document" {
                return JobSpecError(source: source, line: mark.line, column: mark.column, message:
                    "a job spec must be a single YAML document, but another one starts here")
            }
            var message = "invalid YAML: \(problem)"
            if let context {
                message += context.mark.line == mark.line
                    ? " (\(context.text))"
                    : " (\(context.text) that starts on line \(context.mark.line))"
            }
            return JobSpecError(source: source, line: mark.line, column: mark.column, message: message)
        }
        switch y {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            return syntax(context, problem, mark)
        case .reader(let problem, let offset, _, _):
            var line: Int?, column: Int?
            if let offset {
                let before = yaml.prefix(offset)
                line = before.reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
                column = before.reversed().prefix { $0 != "\n" }.count + 1
            }
            return JobSpecError(source: source, line: line, column: column, message: "invalid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let names = duplicates.map { "'\(Self.clip($0))'" }.joined(separator: ", ")
            return JobSpecError(source: source, line: context.mark.line, column: context.mark.column, message:
                "field \(names) is given more than once")
        default:
            return JobSpecError(source: source, message: "could not read YAML: \(y)")
        }
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
