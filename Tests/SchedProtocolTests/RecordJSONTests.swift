import Foundation
import Testing
import SchedCore
@testable import SchedProtocol

/// The hand-written record JSON (`JSONWriter`) against the Codable coders: it must decode to the
/// same value, and hold the same JSON object as `JSONEncoder` writes (same keys, same omissions).
@Suite("Hand-written record JSON")
struct RecordJSONTests {
    static let odd = "quote \" backslash \\ slash / tab \t newline \n cr \r bell \u{07} nul \u{00} é 漢字 🚀"

    static var minimalJob: JobInfo {
        JobInfo(id: JobID(1), spec: JobSpec(command: ["true"]), state: .pending, submittedAtMs: 0)
    }

    static var fullJob: JobInfo {
        var spec = JobSpec(name: odd, command: ["/bin/sh", "-c", odd, ""],
                           resources: ResourceRequest(cpus: 4, memoryBytes: 1 << 40, gpus: 1, gpuModel: "H100", arch: "aarch64",
                                                      gpuMilli: 250, labels: ["rack": "r1", odd: odd]),
                           env: ["A": "1", "B": odd, "": ""], workdir: "/tmp/w", killGraceSeconds: 0, queue: "q",
                           array: 3, priority: -7, preemptible: true, minRuntimeSeconds: 60, checkpointSignal: 10,
                           gang: false, nvlink: .preferred, service: true, speedMilli: 900,
                           alternatives: [TaskShape(resources: ResourceRequest(cpus: 16, arch: "aarch64"), speedMilli: 400)],
                           timeLimitSeconds: 3600, tenant: "team-a")
        spec.name = odd
        var j = JobInfo(id: JobID(Int64.max), spec: spec, state: .running, submittedAtMs: 1_764_000_000_123)
        j.startedAtMs = -1
        j.finishedAtMs = Int64.min
        j.assignment = Assignment(node: NodeID("vr-0000-01"), pus: CPUSet([0, 1, 2, 3, 176, 200]), numaNodes: NUMASet([0, 1]),
                                  gpus: [0, 3], memory: [NUMAMemory(numa: 0, bytes: 1 << 30), NUMAMemory(numa: 1, bytes: 0)],
                                  gpuMilli: 250)
        j.hostBinding = HostBinding(cpus: CPUSet([8, 9]), numaNodes: NUMASet([1]))
        j.pid = Int32.max
        j.exit = TaskExit(exitCode: -1, signal: 9, error: odd)
        j.reason = odd
        j.stdoutPath = "/var/log/a b/out"
        j.stderrPath = "/var/log/err"
        j.cancelRequested = false
        j.arrayJob = JobID(7)
        j.arrayIndex = 0
        j.preemptedBy = JobID(9)
        j.preemptions = 2
        j.restarts = 3
        j.notBeforeMs = 5
        j.timedOut = true
        j.estimatedStartMs = 6
        j.shape = 1
        j.gangStoppedBy = JobID(11)
        j.owner = "alice"
        j.runAs = "alice"
        j.revision = 4
        j.rollout = RolloutTarget(revision: 5, spec: JobSpec(command: ["new"], env: ["X": "y"]))
        j.replacing = true
        j.rolloutProgress = RolloutProgress(revision: 5, updated: 1, total: 3, replacing: JobID(12))
        return j
    }

    static var startedJob: JobInfo {
        var j = JobInfo(id: JobID(42), spec: JobSpec(command: ["true"], resources: ResourceRequest(cpus: 3)),
                        state: .starting, submittedAtMs: 1_764_000_000_000)
        j.assignment = Assignment(node: NodeID("gv-17"), pus: CPUSet([5, 6, 7]), numaNodes: NUMASet([0]))
        j.arrayJob = JobID(40)
        j.arrayIndex = 2
        return j
    }

    static func codableJSON<T: Encodable>(_ v: T) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.withoutEscapingSlashes]
        return try e.encode(v)
    }

    static func sameObject(_ a: Data, _ b: Data) throws -> Bool {
        let x = try JSONSerialization.jsonObject(with: a) as? NSDictionary
        let y = try JSONSerialization.jsonObject(with: b) as? NSDictionary
        return x != nil && x == y
    }

    /// `fullJob` without its rare fields (which the sorted writer leaves to the encoder).
    static var fullCommonJob: JobInfo {
        var j = fullJob
        j.spec.alternatives = nil
        j.rollout = nil
        j.rolloutProgress = nil
        return j
    }

    @Test("JOB_LIST and JOB_INFO: hand-written bytes equal the sorted encoder's",
          arguments: [[minimalJob], [fullCommonJob], [startedJob], [fullJob], [startedJob, fullCommonJob, minimalJob],
                      [startedJob, fullJob], []])
    func sortedWire(jobs: [JobInfo]) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let list = JobList(jobs: jobs)
        #expect(LineCodec.encode(.jobList(list)) == "JOB_LIST " + String(decoding: try enc.encode(list), as: UTF8.self))
        for j in jobs {
            #expect(LineCodec.encode(.jobInfo(j)) == "JOB_INFO " + String(decoding: try enc.encode(j), as: UTF8.self))
            // Only the rare fields take the encoder.
            var w = JSONWriter()
            #expect(w.writeSorted(j) == (j.spec.alternatives == nil && j.rollout == nil && j.rolloutProgress == nil))
        }
        #expect(try LineCodec.decode(Substring(LineCodec.encode(.jobList(list)))) == .jobList(list))
    }

    @Test("dictionary keys (env, labels) in the encoder's order, decomposed and astral keys included")
    func dictionaryKeyOrder() throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // String's `<` puts the decomposed "e\u{301}" after "f"; the encoder (UTF-8 bytes) before it.
        let keys: [String: String] = ["f": "1", "e\u{301}": "2", "e": "3", "\u{E9}x": "4", "\u{FF01}": "5", "🚀": "6", "B": "7", "a": "8"]
        var j = Self.minimalJob
        j.spec.env = keys
        j.spec.resources.labels = keys
        let expected = String(decoding: try enc.encode(j), as: UTF8.self)
        #expect(expected.contains(#""e":"3","e\#u{301}":"2","f":"1""#))
        #expect(j.recordJSON == expected)
        #expect(LineCodec.encode(.jobInfo(j)) == "JOB_INFO " + expected)
    }

    @Test("JobInfo decodes back to the same value and matches JSONEncoder's object",
          arguments: [minimalJob, fullJob, startedJob])
    func jobInfo(job: JobInfo) throws {
        let text = job.recordJSON
        #expect(try LineCodec.fromJSON(JobInfo.self, text) == job)
        #expect(try Self.sameObject(Data(text.utf8), Self.codableJSON(job)), "\(text)")
        // The wire's sorted bytes, also for a job with the rare fields (through the encoder).
        #expect(LineCodec.encode(.jobInfo(job)) == "JOB_INFO " + text)
    }

    static var placed: PlacementRecord {
        var e = PlacementExplanation(policy: "best-fit", nodesEvaluated: 4096, nodesFeasible: 4000,
                                     rejections: [RejectionCount(reason: .wrongArch, nodes: 90, requested: 4, bestFree: 2, bestCapacity: 8),
                                                  RejectionCount(reason: .wrongArch, nodes: 6)],
                                     topCandidates: [CandidateScore(node: NodeID("gv-1"), score: 99), CandidateScore(node: NodeID("gv-2"), score: -3)])
        e.chosen = ScoreBreakdown(tier: 1, cpuPercentAfter: 50, memoryPercentAfter: nil, gpuPercentAfter: 0)
        e.nodesNotExamined = 12
        let a = Assignment(node: NodeID("gv-1"), pus: CPUSet([0, 1]), numaNodes: NUMASet([0]), gpus: [1],
                           memory: [NUMAMemory(numa: 0, bytes: 5)], gpuMilli: 500)
        var r = PlacementRecord(seq: 17, time: "2026-11-26T22:00:00.123Z", job: JobID(3), jobName: odd,
                                request: ResourceRequest(cpus: 2, labels: ["k": "v"]), decision: .placed(a, score: 99, e))
        r.shape = 0
        r.tenant = "team-a"
        return r
    }

    static var pending: PlacementRecord {
        let e = PlacementExplanation(policy: "spread", nodesEvaluated: 2, nodesFeasible: 0,
                                     rejections: [RejectionCount(reason: .wrongArch, nodes: 2)], topCandidates: [])
        return PlacementRecord(time: "t", job: JobID(1), jobName: "j", request: ResourceRequest(), decision: .unplaceable(e))
    }

    static var stopped: PlacementRecord {
        .stopped(time: "t", job: JobID(2), jobName: "g", request: ResourceRequest(gpus: 4), why: odd)
    }

    @Test("PlacementRecord decodes back to the same value and matches JSONEncoder's object",
          arguments: [placed, pending, stopped])
    func placementRecord(record: PlacementRecord) throws {
        let text = record.recordJSON
        #expect(try LineCodec.fromJSON(PlacementRecord.self, text) == record)
        #expect(try Self.sameObject(Data(text.utf8), Self.codableJSON(record)), "\(text)")
        // Keys sorted: the stored record is the LOG_RECORD body, byte for byte.
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(text == String(decoding: try enc.encode(record), as: UTF8.self))
        #expect(LineCodec.encode(.logRecord(record)) == "LOG_RECORD " + text)
    }

    @Test("integers at the edges and every control character")
    func edges() throws {
        for v: Int64 in [0, 1, -1, 9, 10, -10, 1_000_000_007, .max, .min, .max - 1, .min + 1] {
            var w = JSONWriter()
            w.beginArray(); w.int(v); w.int(v); w.endArray()
            #expect(try JSONDecoder().decode([Int64].self, from: Data(w.text.utf8)) == [v, v])
        }
        let controls = String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) }) + "\u{7F}\"\\/"
        var w = JSONWriter()
        w.beginArray(); w.string(controls); w.string(""); w.string("é"); w.endArray()
        #expect(try JSONDecoder().decode([String].self, from: Data(w.text.utf8)) == [controls, "", "é"])
    }
}
