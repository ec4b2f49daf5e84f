import SchedCore

// Hand-written JSON for the records schedd writes several times per job: the stored `JobInfo`
// (RecordJSON+Sorted.swift, the same bytes as on the wire) and the placement-log record. Same
// keys and the same omissions as their Codable encoding (nil optionals left out,
// `ResourceRequest`'s defaults left out), so the Codable decoders read them unchanged;
// SchedProtocolTests/RecordJSONTests decodes every field back.

extension JSONWriter {
    /// NUMA memory reservations, keys sorted (`bytes`, `numa`).
    public mutating func write(_ m: [NUMAMemory]) {
        beginArray()
        for x in m {
            beginObject()
            field("bytes", x.bytes)
            field("numa", x.numa)
            endObject()
        }
        endArray()
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
        key("request"); writeSorted(p.request)
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
    /// The stored record's JSON: the wire's sorted form, written by hand (a job with
    /// alternatives or a rollout goes through `JSONEncoder`); decodes with `JobInfo`'s decoder.
    public var recordJSON: String {
        var w = JSONWriter()
        if w.writeSorted(self) { return w.text }
        w = JSONWriter()
        w.encodable(self)
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
