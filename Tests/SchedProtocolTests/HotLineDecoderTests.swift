import Foundation
import Testing
import SchedCore
@testable import SchedProtocol

/// The scanner for `TASK_STARTED` / `TASK_EXITED` against the Codable decoder: wherever the
/// scanner answers, the Codable decoder gives the same message; wherever it declines, the line
/// goes through the Codable decoder as before.
@Suite("Hot agent lines: scanner against Codable")
struct HotLineDecoderTests {
    static func codable(_ verb: String, _ json: String) -> Message? {
        let d = JSONDecoder()
        let data = Data(json.utf8)
        switch verb {
        case "TASK_STARTED": return (try? d.decode(TaskStarted.self, from: data)).map { .taskStarted($0) }
        case "TASK_EXITED": return (try? d.decode(TaskExited.self, from: data)).map { .taskExited($0) }
        case "START_TASK": return (try? d.decode(StartTask.self, from: data)).map { .startTask($0) }
        case "ACK_EXIT": return (try? d.decode(AckExit.self, from: data)).map { .ackExit($0) }
        case "SUBMIT_BATCH": return (try? d.decode(SubmitBatch.self, from: data)).map { .submitBatch($0) }
        default: return nil
        }
    }

    static let started = TaskStarted(ref: TaskRef(job: JobID(123_456), task: 0), pid: 4242,
                                     binding: HostBinding(cpus: CPUSet([0, 1, 2, 3, 176]), numaNodes: NUMASet([0])),
                                     stdoutPath: "/var/lib/sched/tasks/123456.0/stdout", stderrPath: "/var/lib/sched/tasks/123456.0/stderr é")

    /// Lines as agents write them (LineCodec.encode), for a spread of values.
    static var encodedLines: [String] {
        var out: [String] = [LineCodec.encode(.taskStarted(started))]
        for (job, pid) in [(Int64(1), Int32(0)), (.max, .max), (-5, .min)] {
            var s = started
            s.ref = TaskRef(job: JobID(job), task: Int(job % 7))
            s.pid = pid
            s.binding = HostBinding(cpus: CPUSet(), numaNodes: NUMASet())
            out.append(LineCodec.encode(.taskStarted(s)))
        }
        for exit in [TaskExit(exitCode: 0), TaskExit(exitCode: -1), TaskExit(signal: 9), TaskExit(error: "no such file"),
                     TaskExit(exitCode: 1, signal: 15, error: "a\\nb \"q\""), TaskExit()] {
            out.append(LineCodec.encode(.taskExited(TaskExited(ref: TaskRef(job: JobID(77), task: 2), exit: exit))))
        }
        for t in startTasks { out.append(LineCodec.encode(.startTask(t))) }
        // The last spec has escapes (declined by the scanner): alone, and apart from the others.
        out.append(LineCodec.encode(.submitBatch(SubmitBatch(specs: batchSpecs.dropLast()))))
        out.append(LineCodec.encode(.submitBatch(SubmitBatch(specs: batchSpecs.suffix(1)))))
        out.append(LineCodec.encode(.submitBatch(SubmitBatch(specs: []))))
        for ref in [TaskRef(job: JobID(0), task: 0), TaskRef(job: JobID(.max), task: 3), TaskRef(job: JobID(-1), task: -2)] {
            out.append(LineCodec.encode(.ackExit(AckExit(ref: ref))))
        }
        return out
    }

    /// Specs as `schedctl` and `sched-bench` send them: minimal, every field, gangs, arrays, labels.
    static var batchSpecs: [JobSpec] {
        var full = JobSpec(name: "train é 漢", command: ["/usr/bin/python3", "-m", "train", ""],
                           resources: ResourceRequest(cpus: 8, memoryBytes: 64 << 30, gpus: 4, gpuModel: "Rubin", arch: "aarch64",
                                                      gpuMilli: 250, labels: ["rack": "r1", "zone": "a"]),
                           env: ["A": "1", "PATH": "/usr/bin"], workdir: "/w/x y", killGraceSeconds: 30, queue: "training",
                           array: 16, priority: -5, preemptible: true, minRuntimeSeconds: 60, checkpointSignal: 10, gang: true,
                           nvlink: .required, service: false, speedMilli: 1500, timeLimitSeconds: 3600, tenant: "lab")
        var out = [JobSpec(command: ["true"]), JobSpec(command: ["true"], resources: ResourceRequest(cpus: 3)), full]
        full.nvlink = .preferred
        full.resources.labels = [:]
        full.env = [:]
        out.append(full)
        out.append(JobSpec(name: "q\"uote", command: ["sh", "-c", "echo \\ $x"]))
        return out
    }

    /// START_TASKs as schedd writes them: plain, in an array, with GPUs, memory, a gang, env.
    static var startTasks: [StartTask] {
        var tasks: [StartTask] = []
        var t = StartTask(ref: TaskRef(job: JobID(9), task: 0), jobName: "true", command: ["true"], env: [:], workdir: nil,
                          assignment: Assignment(node: NodeID("gv-3"), pus: CPUSet([4, 5]), numaNodes: NUMASet([0])),
                          killGraceSeconds: 10)
        tasks.append(t)
        t.arrayJob = JobID(1); t.arrayIndex = 8; t.workdir = "/w/x y"
        t.jobName = "train é 漢 🚀 /"
        t.command = ["/bin/sh", "-c", "sleep 1", ""]
        t.assignment = Assignment(node: NodeID("vr-0001-17"), pus: CPUSet([0, 1, 2, 200]), numaNodes: NUMASet([0, 1]), gpus: [0, 3],
                                  memory: [NUMAMemory(numa: 0, bytes: 1 << 33), NUMAMemory(numa: 1, bytes: 0)], gpuMilli: 500)
        t.gangNodes = [NodeID("vr-0001-17"), NodeID("vr-0001-16")]
        tasks.append(t)
        t.env = ["B": "2", "A": "1", "PATH": "/usr/bin:/bin"]
        t.gangNodes = []
        tasks.append(t)
        t.jobName = "q\"uote\\ tab\t"
        tasks.append(t)
        return tasks
    }

    /// Hand-written bodies the scanner must either decode like Codable or decline.
    static let oddBodies: [(String, String)] = [
        ("TASK_STARTED", #" { "ref" : {"job":1,"task":0} , "pid":7, "binding":{"cpus":"0-3","numaNodes":"0"}, "stdoutPath":"o", "stderrPath":"e", "extra":[1,{"x":null},true,false] } "#),
        ("TASK_STARTED", #"{"ref":{"job":1,"task":0},"pid":7,"binding":{"cpus":"0-3","numaNodes":"0"},"stdoutPath":"o"}"#),
        ("TASK_STARTED", #"{"ref":{"job":1,"task":0},"pid":7.0,"binding":{"cpus":"0-3","numaNodes":"0"},"stdoutPath":"o","stderrPath":"e"}"#),
        ("TASK_STARTED", #"{"ref":{"job":1,"task":0},"pid":1e3,"binding":{"cpus":"0-3","numaNodes":"0"},"stdoutPath":"o","stderrPath":"e"}"#),
        ("TASK_STARTED", #"{"ref":{"job":1,"task":0},"pid":4294967296,"binding":{"cpus":"0-3","numaNodes":"0"},"stdoutPath":"o","stderrPath":"e"}"#),
        ("TASK_STARTED", #"{"ref":{"job":1,"task":0},"pid":"7","binding":{"cpus":"0-3","numaNodes":"0"},"stdoutPath":"o","stderrPath":"e"}"#),
        ("TASK_STARTED", #"{"ref":{"job":1,"task":0},"pid":7,"binding":{"cpus":"3-0","numaNodes":"0"},"stdoutPath":"o","stderrPath":"e"}"#),
        ("TASK_STARTED", #"{"ref":{"job":1,"task":0},"pid":7,"binding":{"cpus":"0-3","numaNodes":"0"},"stdoutPath":"o\/p","stderrPath":"e"}"#),
        ("TASK_STARTED", #"{"ref":{"job":1,"task":0},"pid":7,"pid":8,"binding":{"cpus":"0-3","numaNodes":"0"},"stdoutPath":"o","stderrPath":"e"}"#),
        ("TASK_STARTED", #"{"ref":{"job":1,"task":0},"pid":07,"binding":{"cpus":"0-3","numaNodes":"0"},"stdoutPath":"o","stderrPath":"e"}"#),
        ("TASK_STARTED", #"{"ref":{"job":99999999999999999999,"task":0},"pid":7,"binding":{"cpus":"0","numaNodes":"0"},"stdoutPath":"o","stderrPath":"e"}"#),
        ("TASK_STARTED", #"{"ref":{"job":1,"task":0},"pid":7,"binding":{"cpus":"0","numaNodes":"0"},"stdoutPath":"o","stderrPath":"e"} x"#),
        ("TASK_STARTED", #"{"ref":{"job":1,"task":0},"pid":7,"binding":{"cpus":"0","numaNodes":"0"},"stdoutPath":"o","stderrPath":"e",}"#),
        ("TASK_STARTED", #"{"ref":{"job":-0,"task":0},"pid":-7,"binding":{"cpus":"","numaNodes":""},"stdoutPath":"","stderrPath":""}"#),
        ("TASK_STARTED", "{}"),
        ("TASK_STARTED", "[]"),
        ("TASK_STARTED", ""),
        ("START_TASK", #"{"assignment":{"gpus":[],"memory":[],"node":"n","numaNodes":"0","pus":"0-3"},"command":["true"],"env":{},"jobName":"j","killGraceSeconds":10,"ref":{"job":1,"task":0}}"#),
        ("START_TASK", #"{"assignment":{"gpus":[],"memory":[],"node":"n","numaNodes":"0","pus":"0-3","gpuMilli":null},"command":["true"],"env":{},"jobName":"j","killGraceSeconds":10,"ref":{"job":1,"task":0},"workdir":null,"arrayJob":null,"gangNodes":null,"extra":{"x":[1]}}"#),
        ("START_TASK", #"{"assignment":{"gpus":[],"memory":[],"node":"n","numaNodes":"0","pus":"3-0"},"command":["true"],"env":{},"jobName":"j","killGraceSeconds":10,"ref":{"job":1,"task":0}}"#),
        ("START_TASK", #"{"assignment":{"gpus":[1.5],"memory":[],"node":"n","numaNodes":"0","pus":"0"},"command":["true"],"env":{},"jobName":"j","killGraceSeconds":10,"ref":{"job":1,"task":0}}"#),
        ("START_TASK", #"{"assignment":{"gpus":[],"memory":[{"numa":0}],"node":"n","numaNodes":"0","pus":"0"},"command":["true"],"env":{},"jobName":"j","killGraceSeconds":10,"ref":{"job":1,"task":0}}"#),
        ("START_TASK", #"{"assignment":{"gpus":[],"memory":[],"node":"n","numaNodes":"0","pus":"0"},"command":["true"],"env":{"A":1},"jobName":"j","killGraceSeconds":10,"ref":{"job":1,"task":0}}"#),
        ("START_TASK", #"{"assignment":{"gpus":[],"memory":[],"node":"n","numaNodes":"0","pus":"0"},"command":["true"],"jobName":"j","killGraceSeconds":10,"ref":{"job":1,"task":0}}"#),
        ("START_TASK", #"{"assignment":{"gpus":[],"memory":[],"node":"n","numaNodes":"0","pus":"0"},"command":"true","env":{},"jobName":"j","killGraceSeconds":10,"ref":{"job":1,"task":0}}"#),
        ("START_TASK", #"{"assignment":{"gpus":[],"memory":[],"node":"n","numaNodes":"0","pus":"0"},"command":["a\"b"],"env":{},"jobName":"j","killGraceSeconds":10,"ref":{"job":1,"task":0}}"#),
        ("START_TASK", #"{"assignment":{"gpus":[],"memory":[],"node":"n","numaNodes":"0","pus":"0"},"command":["true"],"env":{},"jobName":"j","killGraceSeconds":10,"ref":{"job":1,"task":0},"gangNodes":["a",2]}"#),
        ("START_TASK", #"{"assignment":{"gpus":[],"memory":[],"node":"n","numaNodes":"0","pus":"0"},"command":["true"],"env":{},"jobName":"j","killGraceSeconds":1e1,"ref":{"job":1,"task":0}}"#),
        ("SUBMIT_BATCH", #"{"specs":[{"command":["true"]},{"command":["x"],"resources":null,"env":null,"name":null,"extra":[1]}]}"#),
        ("SUBMIT_BATCH", #"{"specs":[{"command":["true"],"resources":{"cpus":2}},{"command":["true"],"resources":{}}]}"#),
        ("SUBMIT_BATCH", #"{"specs":[{"command":["true"],"alternatives":[{"resources":{"cpus":2},"speedMilli":1000}]}]}"#),
        ("SUBMIT_BATCH", #"{"specs":[{"command":["true"],"nvlink":"sometimes"}]}"#),
        ("SUBMIT_BATCH", #"{"specs":[{"command":["true"],"nvlink":"required","gang":true,"array":4}]}"#),
        ("SUBMIT_BATCH", #"{"specs":[{"name":"no command"}]}"#),
        ("SUBMIT_BATCH", #"{"specs":[{"command":["true"],"resources":{"cpus":1.5}}]}"#),
        ("SUBMIT_BATCH", #"{"specs":[{"command":["true"],"resources":{"labels":{"a":1}}}]}"#),
        ("SUBMIT_BATCH", #"{"specs":[{"command":["true"],"checkpointSignal":4294967296}]}"#),
        ("SUBMIT_BATCH", #"{"specs":[{"command":["true"],"preemptible":"yes"}]}"#),
        ("SUBMIT_BATCH", #"{"specs":[{"command":["true"]},7]}"#),
        ("SUBMIT_BATCH", #"{"specs":{"command":["true"]}}"#),
        ("SUBMIT_BATCH", #"{"specs":[]}"#),
        ("SUBMIT_BATCH", #"{}"#),
        ("ACK_EXIT", #"{"ref":{"job":5,"task":1}}"#),
        ("ACK_EXIT", #"{"ref":{"job":5}}"#),
        ("ACK_EXIT", #"{}"#),
        ("TASK_EXITED", #"{"ref":{"job":5,"task":1},"exit":{}}"#),
        ("TASK_EXITED", #"{"ref":{"job":5,"task":1},"exit":{"exitCode":null,"signal":null,"error":null}}"#),
        ("TASK_EXITED", #"{"ref":{"job":5,"task":1},"exit":{"exitCode":3,"signal":"9"}}"#),
        ("TASK_EXITED", #"{"ref":{"job":5,"task":1},"exit":{"exitCode":2147483648}}"#),
        ("TASK_EXITED", #"{"ref":{"job":5,"task":1}}"#),
        ("TASK_EXITED", #"{"ref":{"job":5},"exit":{"exitCode":0}}"#),
        ("TASK_EXITED", #"{"ref":{"job":5,"task":1},"exit":{"exitCode":0,"error":"tab\tinside"}}"#),
        ("TASK_EXITED", #"{"ref":{"job":5,"task":1},"exit":{"exitCode":0,"error":"\u00e9"}}"#),
        ("TASK_EXITED", #"{"ref":{"job":5,"task":1},"exit":{"exitCode":0}"#),
    ]

    @Test("agents' own lines take the scanner and decode like Codable")
    func encoded() throws {
        for line in Self.encodedLines {
            let sp = line.firstIndex(of: " ")!
            let verb = line[..<sp], json = line[line.index(after: sp)...]
            let fast = HotLineDecoder.decode(verb: verb, json: json)
            let slow = Self.codable(String(verb), String(json))
            #expect(slow != nil, "\(line)")
            // Escaped strings are left to the Codable decoder; everything else is scanned.
            if !json.contains("\\") { #expect(fast != nil, "scanner declined \(line)") }
            if let fast { #expect(fast == slow, "\(line)") }
            #expect(try LineCodec.decode(Substring(line)) == slow)
        }
    }

    @Test("unusual bodies: the scanner agrees with Codable or declines")
    func odd() throws {
        var scanned = 0
        for (verb, json) in Self.oddBodies {
            let fast = HotLineDecoder.decode(verb: Substring(verb), json: Substring(json))
            let slow = Self.codable(verb, json.isEmpty ? "{}" : json)
            if let fast {
                scanned += 1
                #expect(fast == slow, "\(verb) \(json)")
            }
            // Through LineCodec: the same message, or an error exactly where Codable fails.
            let viaCodec = try? LineCodec.decode(Substring(verb + " " + json))
            #expect(viaCodec == slow, "\(verb) \(json)")
        }
        #expect(scanned >= 4)
    }

    @Test("TASK_STARTED and TASK_EXITED: hand-written bytes equal the sorted encoder's")
    func encodeAgentLines() throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var started = Self.started
        for (pid, path) in [(Int32(1), "/tmp/a b/stdout"), (.min, "q\"uote\\ tab\t nl\n ctl\u{01} é 漢 🚀"), (.max, "")] {
            started.pid = pid
            started.stdoutPath = path
            #expect(LineCodec.encode(.taskStarted(started)) == "TASK_STARTED " + String(decoding: try enc.encode(started), as: UTF8.self))
        }
        for exit in [TaskExit(exitCode: 0), TaskExit(exitCode: .min), TaskExit(signal: 9), TaskExit(error: "a\nb \"q\" /x"),
                     TaskExit(exitCode: 1, signal: 15, error: "é"), TaskExit()] {
            let e = TaskExited(ref: TaskRef(job: JobID(.max), task: 7), exit: exit)
            #expect(LineCodec.encode(.taskExited(e)) == "TASK_EXITED " + String(decoding: try enc.encode(e), as: UTF8.self))
        }
    }

    @Test("START_TASK and ACK_EXIT: hand-written bytes equal the sorted encoder's")
    func encodeHot() throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // With and without env, and with every character class JSON escapes.
        var tasks = Self.startTasks
        var t = tasks[1]
        t.jobName = "q\"uote\\ tab\t nl\n ctl\u{01} é 漢 🚀 /"
        t.command = ["/bin/sh", "-c", t.jobName, ""]
        tasks.append(t)
        for task in tasks {
            let expected = "START_TASK " + String(decoding: try enc.encode(task), as: UTF8.self)
            #expect(LineCodec.encode(.startTask(task)) == expected)
        }
        var withEnv = tasks[0]
        withEnv.env = ["B": "2", "A": "1"]
        #expect(LineCodec.encode(.startTask(withEnv)) == "START_TASK " + String(decoding: try enc.encode(withEnv), as: UTF8.self))
        for ref in [TaskRef(job: JobID(0), task: 0), TaskRef(job: JobID(.max), task: 3), TaskRef(job: JobID(-1), task: -2)] {
            let expected = "ACK_EXIT " + String(decoding: try enc.encode(AckExit(ref: ref)), as: UTF8.self)
            #expect(LineCodec.encode(.ackExit(AckExit(ref: ref))) == expected)
        }
    }
}
