import SchedCore

// `JobInfo` on the wire (`JOB_LIST`, `JOB_INFO`), written by hand byte for byte as the sorted
// encoder writes it: keys in sorted order, nil optionals and `ResourceRequest`'s defaults left
// out. Jobs with the rare nested fields (`alternatives`, `rollout`, `rolloutProgress`) are left to
// the encoder (the writers return false). LineCodecGoldenTests and RecordJSONTests compare the
// bytes with `JSONEncoder`'s.
extension JSONWriter {
    /// Writes `j` with sorted keys; false (and nothing sensible written) when it has a rare field.
    mutating func writeSorted(_ j: JobInfo) -> Bool {
        guard j.spec.alternatives == nil, j.rollout == nil, j.rolloutProgress == nil else { return false }
        beginObject()
        field("arrayIndex", j.arrayIndex)
        field("arrayJob", j.arrayJob?.rawValue)
        if let a = j.assignment { key("assignment"); writeSorted(a) }
        field("cancelRequested", j.cancelRequested)
        field("estimatedStartMs", j.estimatedStartMs)
        if let e = j.exit { key("exit"); writeSorted(e) }
        field("finishedAtMs", j.finishedAtMs)
        field("gangStoppedBy", j.gangStoppedBy?.rawValue)
        if let b = j.hostBinding {
            key("hostBinding")
            beginObject()
            field("cpus", b.cpus)
            field("numaNodes", b.numaNodes)
            field("uid", b.uid)
            endObject()
        }
        field("id", j.id.rawValue)
        field("notBeforeMs", j.notBeforeMs)
        field("owner", j.owner)
        field("pid", j.pid)
        field("preemptedBy", j.preemptedBy?.rawValue)
        field("preemptions", j.preemptions)
        field("reason", j.reason)
        field("replacing", j.replacing)
        field("restarts", j.restarts)
        field("revision", j.revision)
        field("runAs", j.runAs)
        field("shape", j.shape)
        key("spec"); writeSorted(j.spec)
        field("startedAtMs", j.startedAtMs)
        field("state", j.state.rawValue)
        field("stderrPath", j.stderrPath)
        field("stdoutPath", j.stdoutPath)
        field("submittedAtMs", j.submittedAtMs)
        field("timedOut", j.timedOut)
        endObject()
        return true
    }

    /// A spec without `alternatives`, keys sorted.
    mutating func writeSorted(_ s: JobSpec) {
        beginObject()
        field("array", s.array)
        field("checkpointSignal", s.checkpointSignal)
        field("command", s.command)
        sortedField("env", s.env)
        field("gang", s.gang)
        field("killGraceSeconds", s.killGraceSeconds)
        field("minRuntimeSeconds", s.minRuntimeSeconds)
        field("name", s.name)
        if let n = s.nvlink { field("nvlink", n.rawValue) }
        field("preemptible", s.preemptible)
        field("priority", s.priority)
        field("queue", s.queue)
        key("resources"); writeSorted(s.resources)
        field("service", s.service)
        field("speedMilli", s.speedMilli)
        field("tenant", s.tenant)
        field("timeLimitSeconds", s.timeLimitSeconds)
        field("workdir", s.workdir)
        endObject()
    }

    /// A request with its defaults (`gpuMilli` 1000, no labels) left out, keys sorted.
    mutating func writeSorted(_ r: ResourceRequest) {
        beginObject()
        field("arch", r.arch)
        field("cpus", r.cpus)
        if r.gpuMilli != 1000 { field("gpuMilli", r.gpuMilli) }
        field("gpuModel", r.gpuModel)
        field("gpus", r.gpus)
        if !r.labels.isEmpty { sortedField("labels", r.labels) }
        field("memoryBytes", r.memoryBytes)
        endObject()
    }

    mutating func writeSorted(_ a: Assignment) {
        beginObject()
        field("gpuMilli", a.gpuMilli)
        field("gpus", a.gpus)
        key("memory"); write(a.memory)
        field("node", a.node.rawValue)
        field("numaNodes", a.numaNodes)
        field("pus", a.pus)
        endObject()
    }

    mutating func writeSorted(_ e: TaskExit) {
        beginObject()
        field("error", e.error)
        field("exitCode", e.exitCode)
        field("signal", e.signal)
        endObject()
    }

    /// A string dictionary with its keys in the encoder's order: by their UTF-8 bytes as stored.
    /// (Not `String`'s `<`, which compares canonical equivalents: a decomposed `e\u{301}` sorts
    /// after `f` there and before it in the encoder's output.)
    mutating func sortedField(_ k: StaticString, _ v: [String: String]) {
        key(k)
        beginObject()
        for (name, value) in v.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            key(name)
            string(value, separated: false)
        }
        endObject()
    }
}
