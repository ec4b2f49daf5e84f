import SchedCore

// Hand-written JSON for the records schedd writes several times per job: the stored `JobInfo`
// and the placement-log record. Same keys and the same omissions as their Codable encoding
// (nil optionals left out, `ResourceRequest`'s defaults left out), so the Codable decoders
// read them unchanged; SchedProtocolTests/RecordJSONTests decodes every field back.

extension JSONWriter {
    public mutating func write(_ r: ResourceRequest) {
        beginObject()
        field("cpus", r.cpus)
        field("memoryBytes", r.memoryBytes)
        field("gpus", r.gpus)
        field("gpuModel", r.gpuModel)
        field("arch", r.arch)
        if r.gpuMilli != 1000 { field("gpuMilli", r.gpuMilli) }
        if !r.labels.isEmpty { field("labels", r.labels) }
        endObject()
    }

    public mutating func write(_ s: JobSpec) {
        beginObject()
        field("name", s.name)
        field("command", s.command)
        key("resources"); write(s.resources)
        field("env", s.env)
        field("workdir", s.workdir)
        field("killGraceSeconds", s.killGraceSeconds)
        field("queue", s.queue)
        field("array", s.array)
        field("priority", s.priority)
        field("preemptible", s.preemptible)
        field("minRuntimeSeconds", s.minRuntimeSeconds)
        field("checkpointSignal", s.checkpointSignal)
        field("gang", s.gang)
        if let n = s.nvlink { field("nvlink", n.rawValue) }
        field("service", s.service)
        field("speedMilli", s.speedMilli)
        if let a = s.alternatives { key("alternatives"); encodable(a) }
        field("timeLimitSeconds", s.timeLimitSeconds)
        field("tenant", s.tenant)
        endObject()
    }

    public mutating func write(_ m: [NUMAMemory]) {
        beginArray()
        for x in m {
            beginObject()
            field("numa", x.numa)
            field("bytes", x.bytes)
            endObject()
        }
        endArray()
    }

    public mutating func write(_ a: Assignment) {
        beginObject()
        field("node", a.node.rawValue)
        field("pus", a.pus)
        field("numaNodes", a.numaNodes)
        field("gpus", a.gpus)
        key("memory"); write(a.memory)
        field("gpuMilli", a.gpuMilli)
        endObject()
    }

    public mutating func write(_ j: JobInfo) {
        beginObject()
        field("id", j.id.rawValue)
        key("spec"); write(j.spec)
        field("state", j.state.rawValue)
        field("submittedAtMs", j.submittedAtMs)
        field("startedAtMs", j.startedAtMs)
        field("finishedAtMs", j.finishedAtMs)
        if let a = j.assignment { key("assignment"); write(a) }
        if let b = j.hostBinding {
            key("hostBinding")
            beginObject()
            field("cpus", b.cpus)
            field("numaNodes", b.numaNodes)
            endObject()
        }
        field("pid", j.pid)
        if let e = j.exit {
            key("exit")
            beginObject()
            field("exitCode", e.exitCode)
            field("signal", e.signal)
            field("error", e.error)
            endObject()
        }
        field("reason", j.reason)
        field("stdoutPath", j.stdoutPath)
        field("stderrPath", j.stderrPath)
        field("cancelRequested", j.cancelRequested)
        field("arrayJob", j.arrayJob?.rawValue)
        field("arrayIndex", j.arrayIndex)
        field("preemptedBy", j.preemptedBy?.rawValue)
        field("preemptions", j.preemptions)
        field("restarts", j.restarts)
        field("notBeforeMs", j.notBeforeMs)
        field("timedOut", j.timedOut)
        field("estimatedStartMs", j.estimatedStartMs)
        field("shape", j.shape)
        field("gangStoppedBy", j.gangStoppedBy?.rawValue)
        field("revision", j.revision)
        if let r = j.rollout { key("rollout"); encodable(r) }
        field("replacing", j.replacing)
        if let p = j.rolloutProgress { key("rolloutProgress"); encodable(p) }
        endObject()
    }

    public mutating func write(_ e: PlacementExplanation) {
        beginObject()
        field("policy", e.policy)
        field("nodesEvaluated", e.nodesEvaluated)
        field("nodesFeasible", e.nodesFeasible)
        key("rejections")
        beginArray()
        for r in e.rejections {
            beginObject()
            field("reason", r.reason.rawValue)
            field("nodes", r.nodes)
            field("requested", r.requested)
            field("bestFree", r.bestFree)
            field("bestCapacity", r.bestCapacity)
            endObject()
        }
        endArray()
        key("topCandidates")
        beginArray()
        for c in e.topCandidates {
            beginObject()
            field("node", c.node.rawValue)
            field("score", c.score)
            endObject()
        }
        endArray()
        if let c = e.chosen {
            key("chosen")
            beginObject()
            field("tier", c.tier)
            field("cpuPercentAfter", c.cpuPercentAfter)
            field("memoryPercentAfter", c.memoryPercentAfter)
            field("gpuPercentAfter", c.gpuPercentAfter)
            endObject()
        }
        field("nodesNotExamined", e.nodesNotExamined)
        endObject()
    }

    public mutating func write(_ p: PlacementRecord) {
        beginObject()
        field("v", p.v)
        field("seq", p.seq)
        field("time", p.time)
        field("job", p.job.rawValue)
        field("jobName", p.jobName)
        field("outcome", p.outcome.rawValue)
        key("request"); write(p.request)
        field("node", p.node?.rawValue)
        field("pus", p.pus)
        field("numaNodes", p.numaNodes)
        if let g = p.gpus { field("gpus", g) }
        field("gpuMilli", p.gpuMilli)
        if let m = p.memory { key("memory"); write(m) }
        field("policy", p.policy)
        field("score", p.score)
        field("summary", p.summary)
        key("explanation"); write(p.explanation)
        field("shape", p.shape)
        endObject()
    }
}

extension JobInfo {
    /// The stored record's JSON (hand-written; decodes with `JobInfo`'s Codable decoder).
    public var recordJSON: String {
        var w = JSONWriter()
        w.write(self)
        return w.text
    }
}

extension PlacementRecord {
    /// The stored record's JSON (hand-written; decodes with `PlacementRecord`'s Codable decoder).
    public var recordJSON: String {
        var w = JSONWriter()
        w.write(self)
        return w.text
    }
}

extension JSONWriter {
    /// `START_TASK`'s body with sorted keys, byte for byte what `LineCodec`'s sorted
    /// `JSONEncoder` writes (LineCodecGoldenTests and RecordJSONTests compare them). Only for a
    /// task without environment variables (a dictionary's key order is the encoder's business):
    /// returns false, writing nothing, otherwise.
    mutating func writeSorted(_ t: StartTask) -> Bool {
        guard t.env.isEmpty else { return false }
        beginObject()
        field("arrayIndex", t.arrayIndex)
        field("arrayJob", t.arrayJob?.rawValue)
        key("assignment")
        writeSorted(t.assignment)
        field("command", t.command)
        key("env"); beginObject(); endObject()
        if let g = t.gangNodes { field("gangNodes", g.map(\.rawValue)) }
        field("jobName", t.jobName)
        field("killGraceSeconds", t.killGraceSeconds)
        key("ref")
        beginObject()
        field("job", t.ref.job.rawValue)
        field("task", t.ref.task)
        endObject()
        field("workdir", t.workdir)
        endObject()
        return true
    }

    /// `TASK_STARTED`'s body, byte for byte what the sorted encoder writes.
    mutating func writeSorted(_ t: TaskStarted) {
        beginObject()
        key("binding")
        beginObject()
        field("cpus", t.binding.cpus)
        field("numaNodes", t.binding.numaNodes)
        endObject()
        field("pid", t.pid)
        writeSortedRef(t.ref)
        field("stderrPath", t.stderrPath)
        field("stdoutPath", t.stdoutPath)
        endObject()
    }

    /// `TASK_EXITED`'s body, byte for byte what the sorted encoder writes.
    mutating func writeSorted(_ t: TaskExited) {
        beginObject()
        key("exit")
        writeSorted(t.exit)
        writeSortedRef(t.ref)
        endObject()
    }

    private mutating func writeSortedRef(_ r: TaskRef) {
        key("ref")
        beginObject()
        field("job", r.job.rawValue)
        field("task", r.task)
        endObject()
    }
}
