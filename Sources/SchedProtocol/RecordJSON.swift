import SchedCore

// Hand-written JSON for the records schedd writes several times per job: the stored `JobInfo`
// (RecordJSON+Sorted.swift, the same bytes as on the wire) and the placement-log record. Byte for
// byte what the sorted encoder (`.sortedKeys`, `.withoutEscapingSlashes`) writes: sorted keys, nil
// optionals and `ResourceRequest`'s defaults left out, so the stored record is the wire's body and
// the Codable decoders read it unchanged. SchedProtocolTests/MessageRoundTripTests and
// RecordJSONTests compare the bytes with `JSONEncoder`'s and decode every field back.

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

    /// A placement explanation, keys sorted as the sorted encoder writes them.
    public mutating func write(_ e: PlacementExplanation) {
        beginObject()
        if let c = e.chosen {
            key("chosen")
            beginObject()
            field("cpuPercentAfter", c.cpuPercentAfter)
            field("gpuPercentAfter", c.gpuPercentAfter)
            field("memoryPercentAfter", c.memoryPercentAfter)
            field("tier", c.tier)
            endObject()
        }
        field("nodesEvaluated", e.nodesEvaluated)
        field("nodesFeasible", e.nodesFeasible)
        field("nodesNotExamined", e.nodesNotExamined)
        field("policy", e.policy)
        key("rejections")
        beginArray()
        for r in e.rejections {
            beginObject()
            field("bestCapacity", r.bestCapacity)
            field("bestFree", r.bestFree)
            field("nodes", r.nodes)
            field("reason", r.reason.rawValue)
            field("requested", r.requested)
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
        endObject()
    }

    /// A placement record, keys sorted: the stored record, the `LOG_RECORD` body, and what the
    /// sorted encoder writes for it, byte for byte (docs/placement-log.md).
    public mutating func write(_ p: PlacementRecord) {
        beginObject()
        key("explanation"); write(p.explanation)
        field("gpuMilli", p.gpuMilli)
        if let g = p.gpus { field("gpus", g) }
        field("job", p.job.rawValue)
        field("jobName", p.jobName)
        if let m = p.memory { key("memory"); write(m) }
        field("node", p.node?.rawValue)
        field("numaNodes", p.numaNodes)
        field("outcome", p.outcome.rawValue)
        field("policy", p.policy)
        field("pus", p.pus)
        key("request"); writeSorted(p.request)
        field("score", p.score)
        field("seq", p.seq)
        field("shape", p.shape)
        field("summary", p.summary)
        field("tenant", p.tenant)
        field("time", p.time)
        field("v", p.v)
        endObject()
    }
}

extension JobInfo {
    /// The stored record's JSON: the wire's sorted form, written by hand (a job with
    /// alternatives or a rollout goes through the sorted `JSONEncoder`, the same bytes as
    /// `JOB_INFO`'s); decodes with `JobInfo`'s decoder.
    public var recordJSON: String {
        var w = JSONWriter()
        if w.writeSorted(self) { return w.text }
        w = JSONWriter()
        w.encodable(self)
        return w.text
    }
}

extension PlacementRecord {
    /// The stored record's JSON, the `LOG_RECORD` body (hand-written, the sorted encoder's bytes).
    public var recordJSON: String {
        var w = JSONWriter()
        w.write(self)
        return w.text
    }
}

extension JSONWriter {
    /// `START_TASK`'s body with sorted keys, byte for byte what `LineCodec`'s sorted
    /// `JSONEncoder` writes (MessageRoundTripTests and HotLineDecoderTests compare them), the
    /// environment's keys in the encoder's order (`sortedField`).
    mutating func writeSorted(_ t: StartTask) {
        beginObject()
        field("arrayIndex", t.arrayIndex)
        field("arrayJob", t.arrayJob?.rawValue)
        key("assignment")
        writeSorted(t.assignment)
        field("command", t.command)
        sortedField("env", t.env)
        if let g = t.gangNodes { field("gangNodes", g.map(\.rawValue)) }
        field("jobName", t.jobName)
        field("killGraceSeconds", t.killGraceSeconds)
        key("ref")
        beginObject()
        field("job", t.ref.job.rawValue)
        field("task", t.ref.task)
        endObject()
        field("user", t.user)
        field("workdir", t.workdir)
        endObject()
    }

    /// `TASK_STARTED`'s body, byte for byte what the sorted encoder writes.
    mutating func writeSorted(_ t: TaskStarted) {
        beginObject()
        key("binding")
        beginObject()
        field("cpus", t.binding.cpus)
        field("numaNodes", t.binding.numaNodes)
        field("uid", t.binding.uid)
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
