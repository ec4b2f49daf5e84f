import SchedCore
import SchedProtocol
import Yams

/// Readers for each job-spec field.
extension SpecReader {
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

}
