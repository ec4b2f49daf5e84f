import SchedCore

// `SUBMIT_BATCH` (up to thousands of specs a line) through the scanner: the common fields of
// `JobSpec` with the same defaults as its Codable decoder (`resources`, `env` optional). A spec
// with `alternatives`, or any value the scanner does not take, sends the whole line to the
// Codable decoder, which then decides (and words any error) as before.
extension HotLineDecoder {
    static func submitBatch(_ o: [String: Value]) -> SubmitBatch? {
        guard case .array(let items)? = o["specs"] else { return nil }
        var specs: [JobSpec] = []
        specs.reserveCapacity(items.count)
        for item in items {
            guard case .object(let s) = item, let spec = jobSpec(s) else { return nil }
            specs.append(spec)
        }
        return SubmitBatch(specs: specs)
    }

    static func jobSpec(_ o: [String: Value]) -> JobSpec? {
        switch o["alternatives"] {
        case nil, .null?: break
        default: return nil
        }
        guard let command = strings(o["command"]),
              let name = optionalString(o["name"]), let workdir = optionalString(o["workdir"]),
              let queue = optionalString(o["queue"]), let tenant = optionalString(o["tenant"]),
              let grace = optionalInt(o["killGraceSeconds"]), let array = optionalInt(o["array"]),
              let priority = optionalInt(o["priority"]), let minRuntime = optionalInt(o["minRuntimeSeconds"]),
              let speed = optionalInt(o["speedMilli"]), let timeLimit = optionalInt(o["timeLimitSeconds"]),
              let checkpoint = optionalInt32(o["checkpointSignal"]),
              let preemptible = optionalBool(o["preemptible"]), let gang = optionalBool(o["gang"]),
              let service = optionalBool(o["service"]), let nvlinkName = optionalString(o["nvlink"]),
              let env = optionalStringMap(o["env"]) else { return nil }
        var nvlink: NVLinkLocality?
        if let nvlinkName {
            guard let n = NVLinkLocality(rawValue: nvlinkName) else { return nil }
            nvlink = n
        }
        var resources = ResourceRequest()
        switch o["resources"] {
        case nil, .null?: break
        case .object(let r)?:
            guard let request = resourceRequest(r) else { return nil }
            resources = request
        default: return nil
        }
        return JobSpec(name: name, command: command, resources: resources, env: env ?? [:], workdir: workdir,
                       killGraceSeconds: grace, queue: queue, array: array, priority: priority, preemptible: preemptible,
                       minRuntimeSeconds: minRuntime, checkpointSignal: checkpoint, gang: gang, nvlink: nvlink,
                       service: service, speedMilli: speed, timeLimitSeconds: timeLimit, tenant: tenant)
    }

    static func resourceRequest(_ r: [String: Value]) -> ResourceRequest? {
        guard let cpus = optionalInt(r["cpus"]), let memory = optionalInt64(r["memoryBytes"]),
              let gpus = optionalInt(r["gpus"]), let gpuModel = optionalString(r["gpuModel"]),
              let arch = optionalString(r["arch"]), let gpuMilli = optionalInt(r["gpuMilli"]),
              let labels = optionalStringMap(r["labels"]) else { return nil }
        return ResourceRequest(cpus: cpus ?? 1, memoryBytes: memory ?? 0, gpus: gpus ?? 0, gpuModel: gpuModel, arch: arch,
                               gpuMilli: gpuMilli ?? 1000, labels: labels ?? [:])
    }

    static func optionalBool(_ v: Value?) -> Bool?? {
        switch v {
        case nil, .null?: return .some(nil)
        case .bool(let b)?: return .some(b)
        default: return nil
        }
    }

    /// An object of strings (`.some(nil)` when absent or null).
    static func optionalStringMap(_ v: Value?) -> [String: String]?? {
        switch v {
        case nil, .null?: return .some(nil)
        case .object(let fields)?:
            var out: [String: String] = [:]
            out.reserveCapacity(fields.count)
            for (k, value) in fields {
                guard case .string(let text) = value else { return nil }
                out[k] = text
            }
            return .some(out)
        default: return nil
        }
    }
}
