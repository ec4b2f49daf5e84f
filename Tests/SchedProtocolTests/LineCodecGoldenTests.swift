import Foundation
import Testing
import SchedCore
@testable import SchedProtocol

/// Hand-written expected lines. Encoder rules: `VERB SP JSON`, keys sorted (byte order, so
/// `gpuModel` < `gpus` and `cpus` < `cpusUsed`), nil optionals left out, `/` not escaped,
/// CPU/NUMA sets as list-format strings, ids as their raw string or number.
enum Golden {
    static let GiB: Int64 = 1 << 30
    static let ref = TaskRef(job: JobID(42))

    static let smallTopology = NodeTopology(
        arch: "x86_64", packages: 1,
        numaNodes: [NUMANodeInfo(id: 0, memoryBytes: GiB, cpus: CPUSet([0, 1]))],
        cores: [CoreInfo(id: 0, pus: CPUSet([0, 1]), numa: 0, l3: 0)],
        gpus: [GPUInfo(index: 0, name: "cuda0", model: "Tesla T4", memoryBytes: 16 * GiB, numaNodes: NUMASet([0]), cpus: CPUSet([0, 1]))])

    static let minimalJob = JobInfo(id: JobID(42), spec: JobSpec(command: ["sleep", "1"]), state: .pending,
                                    submittedAtMs: 1_700_000_000_000)

    static let nodeInfo = NodeInfo(name: "n1", status: .ready, arch: "x86_64", cpuModel: nil, emulated: true, packages: 1,
                                   numaNodes: 1, cores: 2, cpus: 4, cpusUsed: 1, memoryBytes: 1024, memoryUsedBytes: 0,
                                   gpus: 0, gpusUsed: 0, gpuModels: [], nvlink: false, runningJobs: 1,
                                   drainReason: nil, lastHeartbeatMs: 5)

    static let placedRecord = PlacementRecord(
        seq: 3, time: "2025-01-02T03:04:05Z", job: JobID(42), jobName: "train",
        request: ResourceRequest(cpus: 4, gpus: 1),
        decision: .placed(Assignment(node: "n1", pus: CPUSet([0, 1, 2, 3]), numaNodes: NUMASet([0]), gpus: [0]), score: 41,
                          PlacementExplanation(policy: "best-fit", nodesEvaluated: 3, nodesFeasible: 1,
                                               rejections: [RejectionCount(reason: .wrongArch, nodes: 1),
                                                            RejectionCount(reason: .tooFewGPUs, nodes: 1, requested: 1, bestFree: 0, bestCapacity: 4)],
                                               topCandidates: [CandidateScore(node: "n1", score: 41)])))

    static let pendingRecord = PlacementRecord(
        seq: 4, time: "2025-01-02T03:04:06Z", job: JobID(43), jobName: "big", request: ResourceRequest(cpus: 64),
        decision: .unplaceable(PlacementExplanation(policy: "best-fit", nodesEvaluated: 1, nodesFeasible: 0,
                                                    rejections: [RejectionCount(reason: .tooFewCPUs, nodes: 1, requested: 64, bestFree: 16, bestCapacity: 16)],
                                                    topCandidates: [])))

    static let cases: [(Message, String)] = [
        (.hello(Hello(role: .agent)),
         #"HELLO {"protocol":1,"role":"agent","software":"sched 0.1.0"}"#),
        (.hello(Hello(role: .client, software: nil)),
         #"HELLO {"protocol":1,"role":"client"}"#),
        (.hello(Hello(role: .client, software: nil, token: "sched_A3x-_9")),
         #"HELLO {"protocol":1,"role":"client","token":"sched_A3x-_9"}"#),
        (.welcome(Welcome()),
         #"WELCOME {"protocol":1,"software":"sched 0.1.0"}"#),
        (.error(ErrorReply(.unknownVerb, "unknown verb 'FOO'")),
         #"ERR {"code":"unknown_verb","message":"unknown verb 'FOO'"}"#),
        (.error(ErrorReply(.notFound, #"no job "7" under /var/lib"#)),
         #"ERR {"code":"not_found","message":"no job \"7\" under /var/lib"}"#),
        (.error(ErrorReply(.internalError, "boom")),
         #"ERR {"code":"internal","message":"boom"}"#),
        (.ping, "PING {}"),
        (.pong, "PONG {}"),
        (.ok, "OK {}"),
        (.whoami, "WHOAMI {}"),
        (.identity(IdentityInfo(token: "3", tenant: "team-a", role: .submitter, user: "alice")),
         #"IDENTITY {"role":"submitter","tenant":"team-a","token":"3","user":"alice"}"#),
        (.identity(IdentityInfo(token: "admin", role: .clusterAdmin)),
         #"IDENTITY {"role":"cluster-admin","token":"admin"}"#),
        (.register(Register(node: "n1", topology: smallTopology, emulated: false,
                            tasks: [TaskReport(ref: TaskRef(job: JobID(7)), pid: 1234,
                                               binding: HostBinding(cpus: CPUSet([0]), numaNodes: NUMASet([0])))])),
         #"REGISTER {"emulated":false,"node":"n1","tasks":[{"binding":{"cpus":"0","numaNodes":"0"},"pid":1234,"ref":{"job":7,"task":0}}],"#
            + #""topology":{"arch":"x86_64","cores":[{"id":0,"l3":0,"numa":0,"package":0,"pus":"0-1"}],"#
            + #""gpus":[{"cpus":"0-1","index":0,"memoryBytes":17179869184,"model":"Tesla T4","name":"cuda0","numaNodes":"0","vendor":"NVIDIA"}],"#
            + #""numaNodes":[{"cpus":"0-1","id":0,"memoryBytes":1073741824}],"packages":1}}"#),
        (.heartbeat(Heartbeat(node: "n1", running: 2, freeMemory: [NUMAMemory(numa: 0, bytes: 1024)])),
         #"HEARTBEAT {"freeMemory":[{"bytes":1024,"numa":0}],"node":"n1","running":2}"#),
        (.heartbeat(Heartbeat(node: "n1", running: 0)),
         #"HEARTBEAT {"node":"n1","running":0}"#),
        (.registered(Registered(node: "n1", heartbeatIntervalMs: 5000)),
         #"REGISTERED {"heartbeatIntervalMs":5000,"node":"n1"}"#),
        (.startTask(StartTask(ref: ref, jobName: "train", command: ["/usr/bin/python3", "train.py"], env: ["B": "2", "A": "1"],
                              workdir: nil,
                              assignment: Assignment(node: "n1", pus: CPUSet([0, 1, 2, 3, 8]), numaNodes: NUMASet([0]), gpus: [0, 1],
                                                     memory: [NUMAMemory(numa: 0, bytes: 8 * GiB)]),
                              killGraceSeconds: 10)),
         #"START_TASK {"assignment":{"gpus":[0,1],"memory":[{"bytes":8589934592,"numa":0}],"node":"n1","numaNodes":"0","pus":"0-3,8"},"#
            + #""command":["/usr/bin/python3","train.py"],"env":{"A":"1","B":"2"},"jobName":"train","killGraceSeconds":10,"ref":{"job":42,"task":0}}"#),
        (.startTask(StartTask(ref: ref, jobName: "train", command: ["train"], env: [:], workdir: "/scratch",
                              assignment: Assignment(node: "n1", pus: CPUSet([0]), numaNodes: NUMASet([0])),
                              killGraceSeconds: 10, user: "alice")),
         #"START_TASK {"assignment":{"gpus":[],"memory":[],"node":"n1","numaNodes":"0","pus":"0"},"#
            + #""command":["train"],"env":{},"jobName":"train","killGraceSeconds":10,"ref":{"job":42,"task":0},"user":"alice","workdir":"/scratch"}"#),
        (.killTask(KillTask(ref: ref, graceSeconds: 10, reason: "cancelled")),
         #"KILL_TASK {"graceSeconds":10,"reason":"cancelled","ref":{"job":42,"task":0}}"#),
        (.taskStarted(TaskStarted(ref: ref, pid: 4242, binding: HostBinding(cpus: CPUSet([0, 1, 2, 3]), numaNodes: NUMASet([0])),
                                  stdoutPath: "/var/lib/sched/42.out", stderrPath: "/var/lib/sched/42.err")),
         #"TASK_STARTED {"binding":{"cpus":"0-3","numaNodes":"0"},"pid":4242,"ref":{"job":42,"task":0},"#
            + #""stderrPath":"/var/lib/sched/42.err","stdoutPath":"/var/lib/sched/42.out"}"#),
        (.taskStarted(TaskStarted(ref: ref, pid: 4242, binding: HostBinding(cpus: CPUSet([0]), numaNodes: NUMASet([0]), uid: 65534),
                                  stdoutPath: "/o", stderrPath: "/e")),
         #"TASK_STARTED {"binding":{"cpus":"0","numaNodes":"0","uid":65534},"pid":4242,"ref":{"job":42,"task":0},"stderrPath":"/e","stdoutPath":"/o"}"#),
        (.taskExited(TaskExited(ref: ref, exit: TaskExit(signal: 9, error: "out of memory (limit 33554432 bytes)"))),
         #"TASK_EXITED {"exit":{"error":"out of memory (limit 33554432 bytes)","signal":9},"ref":{"job":42,"task":0}}"#),
        (.taskExited(TaskExited(ref: ref, exit: TaskExit(exitCode: 1))),
         #"TASK_EXITED {"exit":{"exitCode":1},"ref":{"job":42,"task":0}}"#),
        (.taskExited(TaskExited(ref: TaskRef(job: JobID(42), task: 1), exit: TaskExit(signal: 9))),
         #"TASK_EXITED {"exit":{"signal":9},"ref":{"job":42,"task":1}}"#),
        (.taskExited(TaskExited(ref: ref, exit: TaskExit(error: "exec: no such file"))),
         #"TASK_EXITED {"exit":{"error":"exec: no such file"},"ref":{"job":42,"task":0}}"#),
        (.ackExit(AckExit(ref: ref)),
         #"ACK_EXIT {"ref":{"job":42,"task":0}}"#),
        (.submit(Submit(spec: JobSpec(name: "hello", command: ["echo", "hi"],
                                      resources: ResourceRequest(cpus: 2, memoryBytes: GiB, gpus: 1, gpuModel: "V100")))),
         #"SUBMIT {"spec":{"command":["echo","hi"],"env":{},"name":"hello","resources":{"cpus":2,"gpuModel":"V100","gpus":1,"memoryBytes":1073741824}}}"#),
        (.submit(Submit(spec: JobSpec(command: ["run.sh"], resources: ResourceRequest(arch: "arm64"), env: ["PATH": "/bin"],
                                      workdir: "/tmp/w", killGraceSeconds: 30))),
         #"SUBMIT {"spec":{"command":["run.sh"],"env":{"PATH":"/bin"},"killGraceSeconds":30,"#
            + #""resources":{"arch":"arm64","cpus":1,"gpus":0,"memoryBytes":0},"workdir":"/tmp/w"}}"#),
        (.update(UpdateJob(job: JobID(5), spec: JobSpec(command: ["serve"], array: 2, service: true))),
         #"UPDATE {"job":5,"spec":{"array":2,"command":["serve"],"env":{},"resources":{"cpus":1,"gpus":0,"memoryBytes":0},"service":true}}"#),
        (.submitted(Submitted(job: JobID(42))),
         #"SUBMITTED {"job":42}"#),
        (.listJobs(ListJobs()),
         "JOBS {}"),
        (.listJobs(ListJobs(states: [.pending, .running], limit: 10)),
         #"JOBS {"limit":10,"states":["pending","running"]}"#),
        (.getJob(JobRequest(job: JobID(42))), #"JOB {"job":42}"#),
        (.cancel(JobRequest(job: JobID(42))), #"CANCEL {"job":42}"#),
        (.wait(JobRequest(job: JobID(42))), #"WAIT {"job":42}"#),
        (.explain(JobRequest(job: JobID(42))), #"EXPLAIN {"job":42}"#),
        (.listNodes(ListNodes()), "NODES {}"),
        (.listNodes(ListNodes(topology: true)), #"NODES {"topology":true}"#),
        (.drain(NodeRequest(node: "gpu-01", reason: "maintenance")),
         #"DRAIN {"node":"gpu-01","reason":"maintenance"}"#),
        (.undrain(NodeRequest(node: "gpu-01")),
         #"UNDRAIN {"node":"gpu-01"}"#),
        (.log(LogQuery()), "LOG {}"),
        (.log(LogQuery(job: JobID(42), after: 10, limit: 100, follow: true)),
         #"LOG {"after":10,"follow":true,"job":42,"limit":100}"#),
        (.log(LogQuery(node: "n1")),
         #"LOG {"node":"n1"}"#),
        (.jobInfo(minimalJob),
         #"JOB_INFO {"id":42,"spec":{"command":["sleep","1"],"env":{},"resources":{"cpus":1,"gpus":0,"memoryBytes":0}},"#
            + #""state":"pending","submittedAtMs":1700000000000}"#),
        (.jobList(JobList(jobs: [minimalJob])),
         #"JOB_LIST {"jobs":[{"id":42,"spec":{"command":["sleep","1"],"env":{},"resources":{"cpus":1,"gpus":0,"memoryBytes":0}},"#
            + #""state":"pending","submittedAtMs":1700000000000}]}"#),
        (.jobList(JobList(jobs: [])), #"JOB_LIST {"jobs":[]}"#),
        (.nodeInfo(nodeInfo),
         #"NODE_INFO {"arch":"x86_64","cores":2,"cpus":4,"cpusUsed":1,"emulated":true,"gpuModels":[],"gpus":0,"gpusUsed":0,"#
            + #""lastHeartbeatMs":5,"memoryBytes":1024,"memoryUsedBytes":0,"name":"n1","numaNodes":1,"nvlink":false,"#
            + #""packages":1,"runningJobs":1,"status":"ready"}"#),
        (.explanation(Explanation(job: minimalJob, latest: nil, current: nil)),
         #"EXPLANATION {"job":{"id":42,"spec":{"command":["sleep","1"],"env":{},"resources":{"cpus":1,"gpus":0,"memoryBytes":0}},"#
            + #""state":"pending","submittedAtMs":1700000000000}}"#),
        (.logRecord(placedRecord),
         #"LOG_RECORD {"explanation":{"nodesEvaluated":3,"nodesFeasible":1,"policy":"best-fit","rejections":["#
            + #"{"nodes":1,"reason":"wrong arch"},"#
            + #"{"bestCapacity":4,"bestFree":0,"nodes":1,"reason":"too few free GPUs","requested":1}],"#
            + #""topCandidates":[{"node":"n1","score":41}]},"#
            + #""gpus":[0],"job":42,"jobName":"train","memory":[],"node":"n1","numaNodes":"0","outcome":"placed","#
            + #""policy":"best-fit","pus":"0-3","request":{"cpus":4,"gpus":1,"memoryBytes":0},"score":41,"seq":3,"#
            + #""summary":"placed on n1 (score 41); 1/3 nodes available: 1 wrong arch, 1 too few free GPUs","#
            + #""time":"2025-01-02T03:04:05Z","v":1}"#),
        (.logRecord(pendingRecord),
         #"LOG_RECORD {"explanation":{"nodesEvaluated":1,"nodesFeasible":0,"policy":"best-fit","rejections":["#
            + #"{"bestCapacity":16,"bestFree":16,"nodes":1,"reason":"too few free CPUs","requested":64}],"topCandidates":[]},"#
            + #""job":43,"jobName":"big","outcome":"pending","policy":"best-fit","request":{"cpus":64,"gpus":0,"memoryBytes":0},"#
            + #""seq":4,"summary":"0/1 nodes available: 1 too few free CPUs","time":"2025-01-02T03:04:06Z","v":1}"#),
        (.logEnd(LogEnd(count: 3)), #"LOG_END {"count":3}"#),
        // Node identity: a join with a CSR, the certificate back, revocation and the listing.
        (.join(Join(node: "gpu-07", csr: "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n")),
         #"JOIN {"csr":"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n","node":"gpu-07"}"#),
        (.joined(Joined(node: "gpu-07", certificate: "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n",
                        serial: "5f1e0c9a", expiresAtMs: 1_801_536_000_000)),
         #"JOINED {"certificate":"-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n","expiresAtMs":1801536000000,"#
            + #""node":"gpu-07","serial":"5f1e0c9a"}"#),
        (.nodeRevoke(NodeRevoke(node: "gpu-07")), #"NODE_REVOKE {"node":"gpu-07"}"#),
        (.nodeRevoked(NodeRevoked(node: "gpu-07", serials: ["5f1e0c9a"], requeued: [JobID(12), JobID(13)], ended: [])),
         #"NODE_REVOKED {"ended":[],"node":"gpu-07","requeued":[12,13],"serials":["5f1e0c9a"]}"#),
        (.listNodeCertificates(NodeCertificateQuery()), "NODE_CERTS {}"),
        (.listNodeCertificates(NodeCertificateQuery(node: "gpu-07")), #"NODE_CERTS {"node":"gpu-07"}"#),
        (.nodeCertificateList(NodeCertificateList(certificates: [
            NodeCertificateInfo(serial: "5f1e0c9a", node: "gpu-07", issuedAtMs: 1_770_000_000_000, expiresAtMs: 1_801_536_000_000,
                                joinToken: 3, revokedAtMs: 1_770_000_100_000)])),
         #"NODE_CERT_LIST {"certificates":[{"expiresAtMs":1801536000000,"issuedAtMs":1770000000000,"joinToken":3,"#
            + #""node":"gpu-07","revokedAtMs":1770000100000,"serial":"5f1e0c9a"}]}"#),
        (.hello(Hello(role: .agent, software: nil)),
         #"HELLO {"protocol":1,"role":"agent"}"#),
    ]
}

@Suite("LineCodec golden lines")
struct LineCodecGoldenTests {
    @Test("encode gives the exact line", arguments: Golden.cases)
    func encodes(message: Message, line: String) {
        #expect(LineCodec.encode(message) == line)
    }

    @Test("decode(encode(m)) == m", arguments: Golden.cases)
    func roundTrips(message: Message, line: String) throws {
        let encoded = LineCodec.encode(message)
        #expect(try LineCodec.decode(encoded[...]) == message)
        // The hand-written line decodes to the same message too.
        #expect(try LineCodec.decode(line[...]) == message)
    }

    @Test("every golden line starts with its message's verb")
    func verbs() {
        for (m, line) in Golden.cases {
            #expect(line.hasPrefix(m.verb + " "))
        }
    }

    @Test("a full job record with every optional field round-trips")
    func fullJobInfo() throws {
        var job = Golden.minimalJob
        job.state = .failed
        job.startedAtMs = 1_700_000_000_100
        job.finishedAtMs = 1_700_000_000_200
        job.assignment = Assignment(node: "n1", pus: CPUSet([0, 2, 4]), numaNodes: NUMASet([0, 1]), gpus: [3],
                                    memory: [NUMAMemory(numa: 0, bytes: 1), NUMAMemory(numa: 1, bytes: 2)])
        job.hostBinding = HostBinding(cpus: CPUSet([10, 12, 14]), numaNodes: NUMASet([1]))
        job.pid = 777
        job.exit = TaskExit(exitCode: nil, signal: 15, error: nil)
        job.reason = "killed by signal 15 — “quoted” ünïcode"
        job.stdoutPath = "/a/b.out"
        job.stderrPath = "/a/b.err"
        job.cancelRequested = true
        job.gangStoppedBy = JobID(41)
        job.revision = 2
        job.rollout = RolloutTarget(revision: 3, spec: JobSpec(command: ["v3"], service: true))
        job.replacing = true
        job.rolloutProgress = RolloutProgress(revision: 3, updated: 1, total: 2, replacing: JobID(42))
        var x = Explanation(job: job, latest: Golden.placedRecord, current: Golden.pendingRecord)
        x.held = "tenant cap: t holds 1 of max 1 cpus, needs 1 more"
        let m = Message.explanation(x)
        let line = LineCodec.encode(m)
        #expect(!line.contains("\n"))
        #expect(try LineCodec.decode(line[...]) == m)
        let nodes = Message.nodeList(NodeList(nodes: [Golden.nodeInfo, {
            var n = Golden.nodeInfo
            n.name = "n2"
            n.status = .draining
            n.drainReason = "disk"
            n.topology = Golden.smallTopology
            return n
        }()]))
        #expect(try LineCodec.decode(LineCodec.encode(nodes)[...]) == nodes)
    }

    @Test("lines from before START_TASK.user and HostBinding.uid decode with both nil, on the fast and the Codable path")
    func linesWithoutUserOrUID() throws {
        let start = #"{"assignment":{"gpus":[],"memory":[],"node":"n1","numaNodes":"0","pus":"0"},"command":["true"],"env":{},"#
            + #""jobName":"j","killGraceSeconds":10,"ref":{"job":1,"task":0}}"#
        let started = #"{"binding":{"cpus":"0","numaNodes":"0"},"pid":7,"ref":{"job":1,"task":0},"stderrPath":"/e","stdoutPath":"/o"}"#
        guard case .startTask(let fast)? = HotLineDecoder.decode(verb: "START_TASK", json: start[...]) else {
            Issue.record("the scanner declined a plain START_TASK")
            return
        }
        let slow = try JSONDecoder().decode(StartTask.self, from: Data(start.utf8))
        #expect(fast.user == nil && slow.user == nil && fast == slow)
        guard case .taskStarted(let fastStarted)? = HotLineDecoder.decode(verb: "TASK_STARTED", json: started[...]) else {
            Issue.record("the scanner declined a plain TASK_STARTED")
            return
        }
        let slowStarted = try JSONDecoder().decode(TaskStarted.self, from: Data(started.utf8))
        #expect(fastStarted.binding.uid == nil && slowStarted.binding.uid == nil && fastStarted == slowStarted)
        // A uid that is no uid_t goes to the Codable decoder, which refuses it.
        let negative = started.replacingOccurrences(of: #""numaNodes":"0"}"#, with: #""numaNodes":"0","uid":-1}"#)
        #expect(HotLineDecoder.decode(verb: "TASK_STARTED", json: negative[...]) == nil)
        #expect(throws: ErrorReply.self) { try LineCodec.decode(("TASK_STARTED " + negative)[...]) }
    }

    @Test("strings with newlines and control characters stay on one line")
    func escapes() throws {
        let m = Message.error(ErrorReply(.malformed, "a\nb\r\tc\u{1}"))
        let line = LineCodec.encode(m)
        #expect(!line.contains("\n") && !line.contains("\r"))
        #expect(line == #"ERR {"code":"malformed","message":"a\nb\r\tc\u0001"}"#)
        #expect(try LineCodec.decode(line[...]) == m)
    }

    @Test("JSON helpers: sorted keys, unescaped slashes, round trip")
    func jsonHelpers() throws {
        let a = Assignment(node: "n/1", pus: CPUSet([1, 2]), numaNodes: NUMASet([0]))
        #expect(LineCodec.json(a) == #"{"gpus":[],"memory":[],"node":"n/1","numaNodes":"0","pus":"1-2"}"#)
        #expect(try LineCodec.fromJSON(Assignment.self, LineCodec.json(a)) == a)
        #expect(try LineCodec.fromJSON(Assignment.self, LineCodec.json(a, pretty: true)) == a)
    }
}
