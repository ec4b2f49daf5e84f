import SchedCore

/// A fast path for the lines read once per task (`TASK_STARTED`, `TASK_EXITED` in schedd;
/// `START_TASK`, `ACK_EXIT` in the agent) and `SUBMIT_BATCH` (thousands of specs a line): a
/// small JSON scanner instead of `JSONDecoder`. It accepts only plain input
/// (integers without fraction or exponent, strings without escapes, no duplicate keys) and
/// returns nil for anything else, which then goes through the Codable decoder as before, so
/// errors and unusual input are handled exactly as they were. Tests check it against the
/// Codable decoder line by line.
enum HotLineDecoder {
    indirect enum Value {
        case object([String: Value])
        case array([Value])
        case string(String)
        case int(Int64)
        case bool(Bool)
        case null
    }

    /// The message for `verb` and its JSON body, or nil when the slow path must decide.
    static func decode(verb: Substring, json: Substring) -> Message? {
        guard verb == "TASK_STARTED" || verb == "TASK_EXITED" || verb == "START_TASK" || verb == "ACK_EXIT"
            || verb == "SUBMIT_BATCH" else { return nil }
        let parsed: Value?? = json.utf8.withContiguousStorageIfAvailable { buf in
            var p = Parser(bytes: buf)
            guard let v = p.value() else { return nil }
            p.skipSpace()
            return p.i == buf.count ? v : nil
        }
        guard let parsed, let value = parsed, case .object(let o) = value else { return nil }
        switch verb {
        case "START_TASK": return startTask(o).map { .startTask($0) }
        case "ACK_EXIT": return taskRef(o["ref"]).map { .ackExit(AckExit(ref: $0)) }
        case "SUBMIT_BATCH": return submitBatch(o).map { .submitBatch($0) }
        default: break
        }
        if verb == "TASK_STARTED" {
            guard let ref = taskRef(o["ref"]), case .int(let pid)? = o["pid"], let pid32 = Int32(exactly: pid),
                  let binding = hostBinding(o["binding"]),
                  case .string(let out)? = o["stdoutPath"], case .string(let err)? = o["stderrPath"] else { return nil }
            return .taskStarted(TaskStarted(ref: ref, pid: pid32, binding: binding, stdoutPath: out, stderrPath: err))
        }
        guard let ref = taskRef(o["ref"]), case .object(let e)? = o["exit"],
              let code = optionalInt32(e["exitCode"]), let signal = optionalInt32(e["signal"]),
              let error = optionalString(e["error"]) else { return nil }
        return .taskExited(TaskExited(ref: ref, exit: TaskExit(exitCode: code, signal: signal, error: error)))
    }

    static func startTask(_ o: [String: Value]) -> StartTask? {
        guard let ref = taskRef(o["ref"]), case .string(let name)? = o["jobName"],
              let command = strings(o["command"]), case .object(let envValues)? = o["env"],
              let workdir = optionalString(o["workdir"]), let assignment = assignment(o["assignment"]),
              case .int(let grace)? = o["killGraceSeconds"], let graceSeconds = Int(exactly: grace),
              let arrayJob = optionalInt64(o["arrayJob"]), let arrayIndex = optionalInt(o["arrayIndex"]),
              let user = optionalString(o["user"]) else { return nil }
        var env: [String: String] = [:]
        for (k, v) in envValues {
            guard case .string(let text) = v else { return nil }
            env[k] = text
        }
        var gangNodes: [NodeID]?
        switch o["gangNodes"] {
        case nil, .null?: gangNodes = nil
        case let v?:
            guard let names = strings(v) else { return nil }
            gangNodes = names.map { NodeID($0) }
        }
        var t = StartTask(ref: ref, jobName: name, command: command, env: env, workdir: workdir, assignment: assignment,
                          killGraceSeconds: graceSeconds, arrayJob: arrayJob.map { JobID($0) }, arrayIndex: arrayIndex, user: user)
        t.gangNodes = gangNodes
        return t
    }

    static func assignment(_ v: Value?) -> Assignment? {
        guard case .object(let a)? = v, case .string(let node)? = a["node"],
              case .string(let p)? = a["pus"], let pus = CPUSet(listFormat: p),
              case .string(let n)? = a["numaNodes"], let numa = NUMASet(listFormat: n),
              case .array(let gpuValues)? = a["gpus"], case .array(let memoryValues)? = a["memory"],
              let gpuMilli = optionalInt(a["gpuMilli"]) else { return nil }
        var gpus: [Int] = []
        for g in gpuValues {
            guard case .int(let x) = g, let i = Int(exactly: x) else { return nil }
            gpus.append(i)
        }
        var memory: [NUMAMemory] = []
        for m in memoryValues {
            guard case .object(let f) = m, case .int(let numa)? = f["numa"], let node = Int(exactly: numa),
                  case .int(let bytes)? = f["bytes"] else { return nil }
            memory.append(NUMAMemory(numa: node, bytes: bytes))
        }
        return Assignment(node: NodeID(node), pus: pus, numaNodes: numa, gpus: gpus, memory: memory, gpuMilli: gpuMilli)
    }

    static func strings(_ v: Value?) -> [String]? {
        guard case .array(let items)? = v else { return nil }
        var out: [String] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard case .string(let s) = item else { return nil }
            out.append(s)
        }
        return out
    }

    static func optionalInt64(_ v: Value?) -> Int64?? {
        switch v {
        case nil, .null?: return .some(nil)
        case .int(let x)?: return .some(x)
        default: return nil
        }
    }

    static func optionalInt(_ v: Value?) -> Int?? {
        switch v {
        case nil, .null?: return .some(nil)
        case .int(let x)?: return Int(exactly: x).map { .some($0) } ?? nil
        default: return nil
        }
    }

    static func taskRef(_ v: Value?) -> TaskRef? {
        guard case .object(let r)? = v, case .int(let job)? = r["job"], case .int(let task)? = r["task"],
              let t = Int(exactly: task) else { return nil }
        return TaskRef(job: JobID(job), task: t)
    }

    static func hostBinding(_ v: Value?) -> HostBinding? {
        guard case .object(let b)? = v, case .string(let c)? = b["cpus"], case .string(let n)? = b["numaNodes"],
              let cpus = CPUSet(listFormat: c), let numa = NUMASet(listFormat: n) else { return nil }
        var uid: UInt32?
        switch b["uid"] {
        case nil, .null?: uid = nil
        case .int(let x)?:
            guard let u = UInt32(exactly: x) else { return nil }
            uid = u
        default: return nil
        }
        return HostBinding(cpus: cpus, numaNodes: numa, uid: uid)
    }

    /// `.some(nil)` for an absent or null field, nil when the field has another type.
    static func optionalInt32(_ v: Value?) -> Int32?? {
        switch v {
        case nil, .null?: return .some(nil)
        case .int(let x)?: return Int32(exactly: x).map { .some($0) } ?? nil
        default: return nil
        }
    }

    static func optionalString(_ v: Value?) -> String?? {
        switch v {
        case nil, .null?: return .some(nil)
        case .string(let s)?: return .some(s)
        default: return nil
        }
    }

    struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var i = 0
        var depth = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let n = word.utf8CodeUnitCount
            guard i + n <= bytes.count else { return false }
            let p = word.utf8Start
            for k in 0..<n where bytes[i + k] != p[k] { return false }
            i += n
            return true
        }

        mutating func value() -> Value? {
            skipSpace()
            guard i < bytes.count else { return nil }
            switch bytes[i] {
            case UInt8(ascii: "{"): return object()
            case UInt8(ascii: "["): return array()
            case UInt8(ascii: "\""): return string().map { .string($0) }
            case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"): return literal("null") ? .null : nil
            default: return integer()
            }
        }

        mutating func integer() -> Value? {
            var negative = false
            if bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
            let start = i
            var n: Int64 = 0
            while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") {
                let d = Int64(bytes[i] - UInt8(ascii: "0"))
                // Accumulate negatively so Int64.min fits; overflow goes to the slow path.
                let (m, o1) = n.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.subtractingReportingOverflow(d)
                if o1 || o2 { return nil }
                n = s
                i += 1
            }
            guard i > start else { return nil }
            // Leading zeros, fractions and exponents: the slow path decides.
            if i - start > 1, bytes[start] == UInt8(ascii: "0") { return nil }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") || bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                return nil
            }
            if negative { return .int(n) }
            guard n != .min else { return nil }
            return .int(-n)
        }

        mutating func string() -> String? {
            i += 1  // opening quote
            let start = i
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") {
                    // Invalid UTF-8 (which JSONDecoder rejects) goes to the slow path.
                    guard let s = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self) else { return nil }
                    i += 1
                    return s
                }
                if b == UInt8(ascii: "\\") || b < 0x20 { return nil }
                i += 1
            }
            return nil
        }

        mutating func object() -> Value? {
            depth += 1
            guard depth <= 16 else { return nil }
            defer { depth -= 1 }
            i += 1
            var out: [String: Value] = [:]
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(out) }
            while true {
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\""), let k = string() else { return nil }
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return nil }
                i += 1
                guard let v = value() else { return nil }
                guard out.updateValue(v, forKey: k) == nil else { return nil }  // duplicate key: slow path
                skipSpace()
                guard i < bytes.count else { return nil }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(out) }
                return nil
            }
        }

        mutating func array() -> Value? {
            depth += 1
            guard depth <= 16 else { return nil }
            defer { depth -= 1 }
            i += 1
            var out: [Value] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(out) }
            while true {
                guard let v = value() else { return nil }
                out.append(v)
                skipSpace()
                guard i < bytes.count else { return nil }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(out) }
                return nil
            }
        }
    }
}
