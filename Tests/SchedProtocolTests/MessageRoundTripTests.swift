import Foundation
import Testing
import SchedCore
@testable import SchedProtocol

/// One schema for the wire and the store: every `Message` case and every stored record, with
/// every optional field set (and with none), through every path that reads or writes it.
///
/// - `LineCodec.encode` then `LineCodec.decode` gives the value back;
/// - the line's body is byte for byte what `JSONEncoder` (`.sortedKeys`, `.withoutEscapingSlashes`)
///   writes for the payload, so the hand-written writers (`JSONWriter`, RecordJSON) match it;
/// - the line scanner (`HotLineDecoder`) answers exactly what the Codable decoder answers, or
///   declines (and it must not decline plain lines of its own verbs);
/// - an unknown field, at the top or in any nested object, changes nothing on either path.
///
/// `fullFixtures` are checked by reflection to leave no optional nil and no collection empty, so a
/// field added later without a value here fails `fixturesAreComplete`; a `Message` case added later
/// does not compile until `payload(of:)` and `codableDecode(like:_:)` name it, and fails
/// `everyVerbHasFixtures` until it has fixtures.
@Suite("Round trips: every message and record through every path")
struct MessageRoundTripTests {
    // MARK: text

    /// Strings with nothing JSON escapes: the scanner's plain input (non-ASCII and `/` included).
    static let plain = "plain é 漢字 🚀 /a/b e\u{301} \u{7F} \u{2028}"
    /// Every character class JSON escapes.
    static let odd = "quote \" backslash \\ slash / tab \t newline \n cr \r bell \u{07} nul \u{00} \u{1F} é 漢字 🚀"

    /// Dictionary keys whose sorted order differs between Swift's `<` (canonical equivalence) and
    /// the encoder's (the UTF-8 bytes as stored): a decomposed `é` sorts before `f` in the bytes.
    static func mapKeys(_ s: String) -> [String: String] {
        ["B": "2", "a": s, "a10": "x", "a9": "y", "e\u{301}": "nfd", "f": "", "\u{FF01}": "fw", "🚀": "r", "Z_": "z", "": "empty"]
    }

    // MARK: fixtures, every field set

    static func topology(_ s: String) -> NodeTopology {
        NodeTopology(arch: "aarch64", cpuModel: s, packages: 2,
                     numaNodes: [NUMANodeInfo(id: 0, memoryBytes: 1 << 40, cpus: CPUSet([0, 1, 2, 3])),
                                 NUMANodeInfo(id: 8, memoryBytes: 96 << 30, cpus: CPUSet([64]))],
                     cores: [CoreInfo(id: 0, pus: CPUSet([0, 1]), numa: 0, l3: 3, package: 1)],
                     gpus: [GPUInfo(index: 0, name: "cuda0", vendor: "NVIDIA", model: s, memoryBytes: 80 << 30,
                                    uuid: "GPU-" + s, pciBusID: "0000:0f:00.0", numaNodes: NUMASet([8]), cpus: CPUSet([0, 1]))],
                     nvlinkBandwidth: [[0, 450_000], [450_000, 0]])
    }

    static func request(_ s: String) -> ResourceRequest {
        ResourceRequest(cpus: 4, memoryBytes: 1 << 40, gpus: 1, gpuModel: s, arch: "aarch64", gpuMilli: 250, labels: mapKeys(s))
    }

    /// A spec with every field, `alternatives` included (the writers and the scanner leave it to Codable).
    static func spec(_ s: String) -> JobSpec {
        JobSpec(name: s, command: ["/bin/sh", "-c", s, ""], resources: request(s), env: mapKeys(s), workdir: "/w/" + s,
                killGraceSeconds: 0, queue: "q", array: 3, priority: -7, preemptible: true, minRuntimeSeconds: 60,
                checkpointSignal: 10, gang: false, nvlink: .preferred, service: true, speedMilli: 900,
                alternatives: [TaskShape(resources: request(s), speedMilli: 400)], timeLimitSeconds: 3600, tenant: "team-a")
    }

    static func assignment(_ s: String) -> Assignment {
        Assignment(node: NodeID("vr-0000-01 " + s), pus: CPUSet([0, 1, 2, 3, 176, 200]), numaNodes: NUMASet([0, 1]),
                   gpus: [0, 3], memory: [NUMAMemory(numa: 0, bytes: 1 << 30), NUMAMemory(numa: 1, bytes: 0)], gpuMilli: 250)
    }

    static let ref = TaskRef(job: JobID(Int64.max), task: 7)

    static func exit(_ s: String) -> TaskExit { TaskExit(exitCode: -1, signal: 9, error: s) }

    static func binding() -> HostBinding { HostBinding(cpus: CPUSet([8, 9, 130]), numaNodes: NUMASet([1]), uid: UInt32.max) }

    /// A job with every field, the rare ones (`alternatives`, `rollout`, `rolloutProgress`) included.
    static func job(_ s: String) -> JobInfo {
        var j = JobInfo(id: JobID(Int64.max), spec: spec(s), state: .running, submittedAtMs: 1_764_000_000_123)
        j.startedAtMs = -1
        j.finishedAtMs = Int64.min
        j.assignment = assignment(s)
        j.hostBinding = binding()
        j.pid = Int32.max
        j.exit = exit(s)
        j.reason = s
        j.stdoutPath = "/var/log/" + s + "/out"
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
        j.revision = 4
        j.rollout = RolloutTarget(revision: 5, spec: spec(s))
        j.replacing = true
        j.rolloutProgress = RolloutProgress(revision: 5, updated: 1, total: 3, replacing: JobID(12))
        j.owner = "token:" + s
        j.runAs = "nobody " + s
        return j
    }

    /// `job(s)` without the rare fields: what the hand-written writer takes.
    static func commonJob(_ s: String) -> JobInfo {
        var j = job(s)
        j.spec.alternatives = nil
        j.rollout = nil
        j.rolloutProgress = nil
        return j
    }

    static func record(_ s: String) -> PlacementRecord {
        var e = PlacementExplanation(policy: "best-fit " + s, nodesEvaluated: 4096, nodesFeasible: 4000,
                                     rejections: [RejectionCount(reason: .wrongArch, nodes: 90, requested: 4, bestFree: 2, bestCapacity: 8),
                                                  RejectionCount(reason: .tooFewGPUs, nodes: 6, requested: -1, bestFree: Int64.max, bestCapacity: Int64.min)],
                                     topCandidates: [CandidateScore(node: NodeID("gv-1"), score: 99), CandidateScore(node: NodeID(s), score: -3)])
        e.chosen = ScoreBreakdown(tier: 1, cpuPercentAfter: 50, memoryPercentAfter: 7, gpuPercentAfter: 0)
        e.nodesNotExamined = 12
        var r = PlacementRecord(seq: 17, time: "2026-11-26T22:00:00.123Z", job: JobID(3), jobName: s, request: request(s),
                                decision: .placed(assignment(s), score: 99, e))
        r.shape = 2
        r.tenant = "team " + s
        return r
    }

    static func tokenInfo(_ s: String) -> TokenInfo {
        TokenInfo(id: 7, kind: "client", tenant: "team " + s, role: .tenantAdmin, user: s, createdAtMs: -1,
                  expiresAtMs: Int64.max, usesLeft: 3, revokedAtMs: 5)
    }

    static func nodeInfo(_ s: String) -> NodeInfo {
        NodeInfo(name: NodeID("gpu-01 " + s), status: .draining, arch: "x86_64", cpuModel: s, emulated: true, packages: 2,
                 numaNodes: 2, cores: 64, cpus: 128, cpusUsed: 3, memoryBytes: 1 << 40, memoryUsedBytes: 5, gpus: 8, gpusUsed: 1,
                 gpuModels: ["H100", s], nvlink: true, runningJobs: 4, drainReason: s, lastHeartbeatMs: 1_764_000_000_000,
                 freeMemory: [NUMAMemory(numa: 0, bytes: 1)], labels: mapKeys(s), topology: topology(s))
    }

    static func status(_ s: String) -> SchedulerStatus {
        SchedulerStatus(software: s, protocolVersion: 1, uptimeSeconds: Int64.max, policy: "best-fit", stateDir: "/var/lib/" + s,
                        nodes: ["ready": 3, "down": 0], jobs: ["pending": 1, s: -1], rejectedLines: 2, queues: mapKeys(s),
                        tenants: [s: TenantStatus(holding: TenantQuota(cpus: 4, gpuMilli: 500), quota: TenantQuota(cpus: 8, gpuMilli: 1000),
                                                  decayedUsageCoreSeconds: 12, cap: TenantCap(cpus: 16, gpuMilli: 2000))],
                        limitsHit: ["submit-rate": 3, s: 0], forbiddenAgentLines: 2)
    }

    static func startTask(_ s: String) -> StartTask {
        var t = StartTask(ref: ref, jobName: s, command: ["/bin/sh", "-c", s, ""], env: mapKeys(s), workdir: "/w/" + s,
                          assignment: assignment(s), killGraceSeconds: 30, arrayJob: JobID(1), arrayIndex: 8, user: "u-" + s)
        t.gangNodes = [NodeID("vr-0001-17"), NodeID(s)]
        return t
    }

    static func taskStarted(_ s: String) -> TaskStarted {
        TaskStarted(ref: ref, pid: Int32.min, binding: binding(), stdoutPath: "/var/lib/" + s + "/stdout", stderrPath: s)
    }

    static func explanation(_ s: String) -> Explanation {
        var e = Explanation(job: job(s), latest: record(s), current: record(s), queuePosition: 1, queueLength: 100_000)
        e.held = "tenant cap: " + s
        return e
    }

    /// Every message, every optional field set to a value that is not its default, with `s` in
    /// every string that can hold one.
    static func fullFixtures(_ s: String) -> [Message] {
        [
            .hello(Hello(role: .agent, protocolVersion: 7, software: s, token: "sched_" + s)),
            .welcome(Welcome(protocolVersion: 3, software: s)),
            .error(ErrorReply(.unavailable, s)),
            .ping, .pong,
            .register(Register(node: NodeID(s), topology: topology(s), emulated: true,
                               tasks: [TaskReport(ref: ref, pid: 4242, binding: binding(), exit: exit(s))], labels: mapKeys(s))),
            .heartbeat(Heartbeat(node: NodeID(s), running: 2, freeMemory: [NUMAMemory(numa: 0, bytes: 1024), NUMAMemory(numa: 1, bytes: 0)])),
            .taskStarted(taskStarted(s)),
            .taskExited(TaskExited(ref: ref, exit: exit(s))),
            .registered(Registered(node: NodeID(s), heartbeatIntervalMs: 5000)),
            .startTask(startTask(s)),
            .killTask(KillTask(ref: ref, graceSeconds: 10, reason: s, signal: 10)),
            .ackExit(AckExit(ref: ref)),
            .heartbeatInterval(HeartbeatInterval(heartbeatIntervalMs: 30_000)),
            .submit(Submit(spec: spec(s))),
            .submitBatch(SubmitBatch(specs: [spec(s), spec("second " + s)])),
            .update(UpdateJob(job: JobID(5), spec: spec(s))),
            .listJobs(ListJobs(states: JobState.allCases, limit: 10)),
            .getJob(JobRequest(job: JobID(42))),
            .cancel(JobRequest(job: JobID(-1))),
            .wait(JobRequest(job: JobID(0))),
            .explain(JobRequest(job: JobID(Int64.max))),
            .listNodes(ListNodes(topology: true)),
            .drain(NodeRequest(node: NodeID(s), reason: s)),
            .undrain(NodeRequest(node: NodeID("gpu-01"), reason: "done")),
            .log(LogQuery(job: JobID(42), node: NodeID(s), after: 10, limit: 100, follow: false, tenant: "team " + s)),
            .status,
            .submitted(Submitted(job: JobID(42), count: 16)),
            .submittedBatch(SubmittedBatch(jobs: [Submitted(job: JobID(1), count: 2), Submitted(job: JobID(3), count: 1)])),
            .jobList(JobList(jobs: [job(s), job("second " + s)])),
            .jobInfo(job(s)),
            .nodeList(NodeList(nodes: [nodeInfo(s)])),
            .nodeInfo(nodeInfo(s)),
            .explanation(explanation(s)),
            .logRecord(record(s)),
            .logEnd(LogEnd(count: 3)),
            .statusInfo(status(s)),
            .accepted(Accepted(request: "CANCEL", message: s)),
            .ok,
            .audit(AuditQuery(sinceMs: -5, limit: 10)),
            .auditList(AuditList(records: [AuditRecord(seq: 4, timeMs: Int64.max, tokenID: "t-" + s, tenant: "team " + s,
                                                       role: .tenantAdmin, verb: "CANCEL", object: "job " + s, outcome: "forbidden")])),
            .tokenCreate(TokenCreate(kind: "client", tenant: "team " + s, role: .submitter, user: s, ttlSeconds: 3600, uses: 2)),
            .tokenCreated(TokenCreated(token: "sched_" + s, info: tokenInfo(s))),
            .listTokens,
            .tokenList(TokenList(tokens: [tokenInfo(s)])),
            .tokenRevoke(TokenRevoke(id: Int64.max)),
            .join(Join(node: NodeID(s), csr: "-----BEGIN CERTIFICATE REQUEST-----\n" + s)),
            .joined(Joined(node: NodeID(s), certificate: "-----BEGIN CERTIFICATE-----\n" + s, serial: "00ff" + s, expiresAtMs: Int64.max)),
            .nodeRevoke(NodeRevoke(node: NodeID(s))),
            .nodeRevoked(NodeRevoked(node: NodeID(s), serials: ["ab", s], requeued: [JobID(1), JobID(Int64.max)], ended: [JobID(7)])),
            .listNodeCertificates(NodeCertificateQuery(node: NodeID(s))),
            .nodeCertificateList(NodeCertificateList(certificates: [NodeCertificateInfo(serial: s, node: NodeID(s), issuedAtMs: -1,
                                                                                        expiresAtMs: Int64.max, joinToken: 4,
                                                                                        revokedAtMs: 5)])),
            .whoami,
            .identity(IdentityInfo(token: "t-" + s, tenant: "team " + s, role: .tenantAdmin, user: s)),
        ]
    }

    /// The hand-written paths only take some values (no rare job fields): every field they do take, set.
    static func hotFixtures(_ s: String) -> [Message] {
        var spec = spec(s)
        spec.alternatives = nil
        return [
            .jobList(JobList(jobs: [commonJob(s), commonJob("second " + s)])),
            .jobInfo(commonJob(s)),
            .submit(Submit(spec: spec)),
            .submitBatch(SubmitBatch(specs: [spec, spec])),
        ]
    }

    // MARK: fixtures, every optional nil

    static var minimalSpec: JobSpec { JobSpec(command: ["true"]) }
    static var minimalAssignment: Assignment { Assignment(node: NodeID("n"), pus: CPUSet(), numaNodes: NUMASet()) }
    static var minimalJob: JobInfo { JobInfo(id: JobID(1), spec: minimalSpec, state: .pending, submittedAtMs: 0) }
    static var minimalTopology: NodeTopology { NodeTopology(arch: "x86_64", packages: 1, numaNodes: [], cores: []) }
    static var minimalRecord: PlacementRecord {
        let e = PlacementExplanation(policy: "spread", nodesEvaluated: 0, nodesFeasible: 0, rejections: [], topCandidates: [])
        return PlacementRecord(time: "t", job: JobID(1), jobName: "", request: ResourceRequest(), decision: .unplaceable(e))
    }
    static var minimalNode: NodeInfo {
        NodeInfo(name: NodeID("n"), status: .down, arch: "x86_64", cpuModel: nil, emulated: false, packages: 0, numaNodes: 0,
                 cores: 0, cpus: 0, cpusUsed: 0, memoryBytes: 0, memoryUsedBytes: 0, gpus: 0, gpusUsed: 0, gpuModels: [],
                 nvlink: false, runningJobs: 0, drainReason: nil, lastHeartbeatMs: nil)
    }

    static var minimalFixtures: [Message] {
        [
            .hello(Hello(role: .client, software: nil)),
            .welcome(Welcome()),
            .error(ErrorReply(.malformed, "")),
            .register(Register(node: NodeID(""), topology: minimalTopology, emulated: false, tasks: [TaskReport(ref: TaskRef(job: JobID(0)))])),
            .heartbeat(Heartbeat(node: NodeID("n"), running: 0)),
            .taskStarted(TaskStarted(ref: TaskRef(job: JobID(0)), pid: 0, binding: HostBinding(cpus: CPUSet(), numaNodes: NUMASet()),
                                     stdoutPath: "", stderrPath: "")),
            .taskExited(TaskExited(ref: TaskRef(job: JobID(0)), exit: TaskExit())),
            .registered(Registered(node: NodeID("n"), heartbeatIntervalMs: 0)),
            .startTask(StartTask(ref: TaskRef(job: JobID(0)), jobName: "", command: [], env: [:], workdir: nil,
                                 assignment: minimalAssignment, killGraceSeconds: 0)),
            .killTask(KillTask(ref: TaskRef(job: JobID(0)), graceSeconds: 0, reason: "")),
            .ackExit(AckExit(ref: TaskRef(job: JobID(0)))),
            .heartbeatInterval(HeartbeatInterval(heartbeatIntervalMs: 0)),
            .submit(Submit(spec: minimalSpec)),
            .submitBatch(SubmitBatch(specs: [])),
            .submitBatch(SubmitBatch(specs: [minimalSpec])),
            .update(UpdateJob(job: JobID(0), spec: minimalSpec)),
            .listJobs(ListJobs()),
            .listNodes(ListNodes()),
            .drain(NodeRequest(node: NodeID("n"))),
            .undrain(NodeRequest(node: NodeID("n"))),
            .log(LogQuery()),
            .submitted(Submitted(job: JobID(1))),
            .submittedBatch(SubmittedBatch(jobs: [])),
            .jobList(JobList(jobs: [])),
            .jobList(JobList(jobs: [minimalJob])),
            .jobInfo(minimalJob),
            .nodeList(NodeList(nodes: [])),
            .nodeInfo(minimalNode),
            .explanation(Explanation(job: minimalJob, latest: nil, current: nil)),
            .logRecord(minimalRecord),
            .logEnd(LogEnd(count: 0)),
            .statusInfo(SchedulerStatus(software: "", protocolVersion: 0, uptimeSeconds: 0, policy: "", stateDir: "",
                                        nodes: [:], jobs: [:], rejectedLines: 0)),
            .accepted(Accepted(request: "", message: "")),
            .audit(AuditQuery()),
            .auditList(AuditList(records: [AuditRecord(timeMs: 0, tokenID: "", tenant: nil, role: .viewer, verb: "", object: "", outcome: "")])),
            .tokenCreate(TokenCreate(kind: "")),
            .tokenCreated(TokenCreated(token: "", info: TokenInfo(id: 0, kind: "", createdAtMs: 0))),
            .listTokens,
            .tokenList(TokenList(tokens: [TokenInfo(id: 0, kind: "", createdAtMs: 0)])),
            .tokenRevoke(TokenRevoke(id: 0)),
            .join(Join(node: NodeID(""), csr: "")),
            .joined(Joined(node: NodeID(""), certificate: "", serial: "", expiresAtMs: 0)),
            .nodeRevoke(NodeRevoke(node: NodeID(""))),
            .nodeRevoked(NodeRevoked(node: NodeID(""), serials: [], requeued: [], ended: [])),
            .listNodeCertificates(NodeCertificateQuery()),
            .nodeCertificateList(NodeCertificateList(certificates: [])),
            .nodeCertificateList(NodeCertificateList(certificates: [NodeCertificateInfo(serial: "", node: NodeID(""), issuedAtMs: 0,
                                                                                        expiresAtMs: 0)])),
            .whoami,
            .identity(IdentityInfo(token: "", role: .viewer)),
        ]
    }

    static var allFixtures: [Message] {
        fullFixtures(plain) + fullFixtures(odd) + hotFixtures(plain) + hotFixtures(odd) + minimalFixtures
    }

    // MARK: payloads (exhaustive: a new case does not compile until it is named here)

    /// The JSON body's value, nil for the messages without one.
    static func payload(of m: Message) -> (any Encodable)? {
        switch m {
        case .hello(let p): p
        case .welcome(let p): p
        case .error(let p): p
        case .ping, .pong, .status, .ok, .listTokens, .whoami: nil
        case .register(let p): p
        case .heartbeat(let p): p
        case .taskStarted(let p): p
        case .taskExited(let p): p
        case .registered(let p): p
        case .startTask(let p): p
        case .killTask(let p): p
        case .ackExit(let p): p
        case .heartbeatInterval(let p): p
        case .submit(let p): p
        case .submitBatch(let p): p
        case .update(let p): p
        case .listJobs(let p): p
        case .getJob(let p), .cancel(let p), .wait(let p), .explain(let p): p
        case .listNodes(let p): p
        case .drain(let p), .undrain(let p): p
        case .log(let p): p
        case .submitted(let p): p
        case .submittedBatch(let p): p
        case .jobList(let p): p
        case .jobInfo(let p): p
        case .nodeList(let p): p
        case .nodeInfo(let p): p
        case .explanation(let p): p
        case .logRecord(let p): p
        case .logEnd(let p): p
        case .statusInfo(let p): p
        case .accepted(let p): p
        case .audit(let p): p
        case .auditList(let p): p
        case .tokenCreate(let p): p
        case .tokenCreated(let p): p
        case .tokenList(let p): p
        case .tokenRevoke(let p): p
        case .join(let p): p
        case .joined(let p): p
        case .nodeRevoke(let p): p
        case .nodeRevoked(let p): p
        case .listNodeCertificates(let p): p
        case .nodeCertificateList(let p): p
        case .identity(let p): p
        }
    }

    /// The Codable decoder alone (no scanner) for a body of `m`'s type.
    static func codableDecode(like m: Message, _ json: String) throws -> Message {
        let data = Data(json.utf8)
        func d<T: Decodable>(_ t: T.Type) throws -> T { try JSONDecoder().decode(T.self, from: data) }
        switch m {
        case .hello: return .hello(try d(Hello.self))
        case .welcome: return .welcome(try d(Welcome.self))
        case .error: return .error(try d(ErrorReply.self))
        case .ping, .pong, .status, .ok, .listTokens, .whoami: return m
        case .register: return .register(try d(Register.self))
        case .heartbeat: return .heartbeat(try d(Heartbeat.self))
        case .taskStarted: return .taskStarted(try d(TaskStarted.self))
        case .taskExited: return .taskExited(try d(TaskExited.self))
        case .registered: return .registered(try d(Registered.self))
        case .startTask: return .startTask(try d(StartTask.self))
        case .killTask: return .killTask(try d(KillTask.self))
        case .ackExit: return .ackExit(try d(AckExit.self))
        case .heartbeatInterval: return .heartbeatInterval(try d(HeartbeatInterval.self))
        case .submit: return .submit(try d(Submit.self))
        case .submitBatch: return .submitBatch(try d(SubmitBatch.self))
        case .update: return .update(try d(UpdateJob.self))
        case .listJobs: return .listJobs(try d(ListJobs.self))
        case .getJob: return .getJob(try d(JobRequest.self))
        case .cancel: return .cancel(try d(JobRequest.self))
        case .wait: return .wait(try d(JobRequest.self))
        case .explain: return .explain(try d(JobRequest.self))
        case .listNodes: return .listNodes(try d(ListNodes.self))
        case .drain: return .drain(try d(NodeRequest.self))
        case .undrain: return .undrain(try d(NodeRequest.self))
        case .log: return .log(try d(LogQuery.self))
        case .submitted: return .submitted(try d(Submitted.self))
        case .submittedBatch: return .submittedBatch(try d(SubmittedBatch.self))
        case .jobList: return .jobList(try d(JobList.self))
        case .jobInfo: return .jobInfo(try d(JobInfo.self))
        case .nodeList: return .nodeList(try d(NodeList.self))
        case .nodeInfo: return .nodeInfo(try d(NodeInfo.self))
        case .explanation: return .explanation(try d(Explanation.self))
        case .logRecord: return .logRecord(try d(PlacementRecord.self))
        case .logEnd: return .logEnd(try d(LogEnd.self))
        case .statusInfo: return .statusInfo(try d(SchedulerStatus.self))
        case .accepted: return .accepted(try d(Accepted.self))
        case .audit: return .audit(try d(AuditQuery.self))
        case .auditList: return .auditList(try d(AuditList.self))
        case .tokenCreate: return .tokenCreate(try d(TokenCreate.self))
        case .tokenCreated: return .tokenCreated(try d(TokenCreated.self))
        case .tokenList: return .tokenList(try d(TokenList.self))
        case .tokenRevoke: return .tokenRevoke(try d(TokenRevoke.self))
        case .join: return .join(try d(Join.self))
        case .joined: return .joined(try d(Joined.self))
        case .nodeRevoke: return .nodeRevoke(try d(NodeRevoke.self))
        case .nodeRevoked: return .nodeRevoked(try d(NodeRevoked.self))
        case .listNodeCertificates: return .listNodeCertificates(try d(NodeCertificateQuery.self))
        case .nodeCertificateList: return .nodeCertificateList(try d(NodeCertificateList.self))
        case .identity: return .identity(try d(IdentityInfo.self))
        }
    }

    static func sortedJSON<T: Encodable>(_ v: T) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(v), as: UTF8.self)
    }

    static func split(_ line: String) -> (verb: Substring, json: Substring) {
        let sp = line.firstIndex(of: " ")!
        return (line[..<sp], line[line.index(after: sp)...])
    }

    /// The verbs the scanner reads.
    static let scannedVerbs: Set<String> = ["TASK_STARTED", "TASK_EXITED", "START_TASK", "ACK_EXIT", "SUBMIT_BATCH"]

    /// Whether the scanner must answer this body (it may decline only escapes and rare fields).
    static func scannerMustAnswer(_ m: Message, json: Substring) -> Bool {
        guard scannedVerbs.contains(m.verb), !json.contains("\\") else { return false }
        if case .submitBatch(let b) = m, b.specs.contains(where: { $0.alternatives != nil }) { return false }
        return true
    }

    // MARK: reflection

    /// Every optional (by path) and whether it holds a value; every empty collection.
    static func walk(_ value: Any, _ path: String, optionals: inout [(String, Bool)], empties: inout [String],
                     defaults: inout [String]) {
        let mirror = Mirror(reflecting: value)
        if let r = value as? ResourceRequest, r.gpuMilli == 1000 { defaults.append(path + ".gpuMilli") }
        switch mirror.displayStyle {
        case .optional:
            optionals.append((path, !mirror.children.isEmpty))
        case .collection, .dictionary, .set:
            if mirror.children.isEmpty { empties.append(path) }
        default: break
        }
        for (i, child) in mirror.children.enumerated() {
            walk(child.value, path + "." + (child.label ?? "[\(i)]"), optionals: &optionals, empties: &empties, defaults: &defaults)
        }
    }

    // MARK: tests

    @Test("fixtures: the full ones leave no optional nil, no collection empty, no default; the minimal ones set no optional")
    func fixturesAreComplete() {
        for m in Self.fullFixtures(Self.plain) + Self.fullFixtures(Self.odd) {
            var optionals: [(String, Bool)] = [], empties: [String] = [], defaults: [String] = []
            Self.walk(m, m.verb, optionals: &optionals, empties: &empties, defaults: &defaults)
            let unset = optionals.filter { !$0.1 }.map(\.0)
            #expect(unset.isEmpty, "\(m.verb): optionals left nil: \(unset)")
            #expect(empties.isEmpty, "\(m.verb): empty collections: \(empties)")
            #expect(defaults.isEmpty, "\(m.verb): default values: \(defaults)")
        }
        for m in Self.minimalFixtures {
            var optionals: [(String, Bool)] = [], empties: [String] = [], defaults: [String] = []
            Self.walk(m, m.verb, optionals: &optionals, empties: &empties, defaults: &defaults)
            let set = optionals.filter(\.1).map(\.0)
            #expect(set.isEmpty, "\(m.verb): minimal fixture sets \(set)")
        }
        // The reflection sees a field that is set and one that is not.
        var optionals: [(String, Bool)] = [], empties: [String] = [], defaults: [String] = []
        Self.walk(TaskExit(exitCode: 1), "x", optionals: &optionals, empties: &empties, defaults: &defaults)
        #expect(optionals.map(\.0) == ["x.exitCode", "x.signal", "x.error"] && optionals.map(\.1) == [true, false, false])
    }

    @Test("every verb of Message.verb has a full and a minimal fixture")
    func everyVerbHasFixtures() throws {
        // The verbs as Message.swift spells them (`case .hello: "HELLO"`).
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let source = try String(contentsOf: root.appendingPathComponent("Sources/SchedProtocol/Message.swift"), encoding: .utf8)
        let declared = Set(source.split(separator: "\n").compactMap { line -> String? in
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("case ."), let q = t.firstIndex(of: "\""), let e = t.lastIndex(of: "\""), q < e else { return nil }
            return String(t[t.index(after: q)..<e])
        })
        #expect(declared.count >= 39)
        let full = Set(Self.fullFixtures(Self.plain).map(\.verb))
        let minimal = Set(Self.minimalFixtures.map(\.verb))
        let noBody: Set<String> = ["PING", "PONG", "STATUS", "OK"]
        // JOB, CANCEL, WAIT, EXPLAIN carry one required field: their full fixture is also minimal.
        let noOptional: Set<String> = ["JOB", "CANCEL", "WAIT", "EXPLAIN"]
        #expect(declared.subtracting(full).isEmpty, "no full fixture: \(declared.subtracting(full).sorted())")
        let needMinimal = declared.subtracting(noBody).subtracting(noOptional)
        #expect(needMinimal.subtracting(minimal).isEmpty, "no minimal fixture: \(needMinimal.subtracting(minimal).sorted())")
        #expect(full.subtracting(declared).isEmpty)
    }

    @Test("LineCodec.encode then decode gives the same message")
    func lineRoundTrip() throws {
        for m in Self.allFixtures {
            let line = LineCodec.encode(m)
            #expect(!line.contains("\n") && !line.contains("\r"), "\(m.verb)")
            #expect(try LineCodec.decode(Substring(line)) == m, "\(line)")
            // With the CRLF the framing may leave.
            #expect(try LineCodec.decode(Substring(line + "\r")) == m, "\(m.verb)")
        }
    }

    @Test("every line's body is byte for byte the sorted encoder's (the hand-written writers included)")
    func bytesEqualEncoder() throws {
        for m in Self.allFixtures {
            let line = LineCodec.encode(m)
            if let p = Self.payload(of: m) {
                #expect(line == m.verb + " " + (try Self.sortedJSON(p)), "\(m.verb)")
            } else {
                #expect(line == m.verb + " {}")
            }
        }
    }

    @Test("the hand-written writers take every hot fixture (so the byte comparison tests them, not the fallback)")
    func handPathsEngage() throws {
        func takes(_ j: JobInfo) -> Bool { var w = JSONWriter(); return w.writeSorted(j) }
        for s in [Self.plain, Self.odd] {
            #expect(takes(Self.commonJob(s)))
            #expect(!takes(Self.job(s)), "a job with alternatives or a rollout is the encoder's")
            // The agent lines have no fallback: the writers' own bytes.
            var w = JSONWriter()
            w.writeSorted(Self.startTask(s))
            #expect(w.text == (try Self.sortedJSON(Self.startTask(s))), "START_TASK with env")
            w = JSONWriter()
            w.writeSorted(Self.taskStarted(s))
            #expect(w.text == (try Self.sortedJSON(Self.taskStarted(s))))
            w = JSONWriter()
            w.writeSorted(TaskExited(ref: Self.ref, exit: Self.exit(s)))
            #expect(w.text == (try Self.sortedJSON(TaskExited(ref: Self.ref, exit: Self.exit(s)))))
            w = JSONWriter()
            w.write(Self.record(s))
            #expect(w.text == (try Self.sortedJSON(Self.record(s))))
        }
        #expect(takes(Self.minimalJob))
    }

    @Test("stored records: recordJSON is the sorted encoder's bytes and decodes back",
          arguments: [plain, odd])
    func storedRecords(s: String) throws {
        for j in [Self.job(s), Self.commonJob(s), Self.minimalJob] {
            #expect(j.recordJSON == (try Self.sortedJSON(j)))
            #expect(try LineCodec.fromJSON(JobInfo.self, j.recordJSON) == j)
        }
        for r in [Self.record(s), Self.minimalRecord,
                  PlacementRecord.stopped(time: "t", job: JobID(2), jobName: s, request: Self.request(s), why: s)] {
            #expect(r.recordJSON == (try Self.sortedJSON(r)), "\(r.recordJSON)")
            #expect(try LineCodec.fromJSON(PlacementRecord.self, r.recordJSON) == r)
            // The stored record is the LOG_RECORD body.
            #expect(LineCodec.encode(.logRecord(r)) == "LOG_RECORD " + r.recordJSON)
        }
    }

    @Test("the scanner answers what the Codable decoder answers, and does not decline plain lines")
    func scannerAgreesWithCodable() throws {
        var scanned = 0
        for m in Self.allFixtures {
            let (verb, json) = Self.split(LineCodec.encode(m))
            let fast = HotLineDecoder.decode(verb: verb, json: json)
            if !Self.scannedVerbs.contains(String(verb)) {
                #expect(fast == nil, "\(verb) is not the scanner's")
                continue
            }
            let slow = try Self.codableDecode(like: m, String(json))
            #expect(slow == m)
            if let fast {
                scanned += 1
                #expect(fast == slow, "\(verb) \(json)")
            } else {
                #expect(!Self.scannerMustAnswer(m, json: json), "scanner declined \(verb) \(json)")
            }
        }
        #expect(scanned >= 10)
    }

    // MARK: unknown fields

    /// JSON keys whose object value is a dictionary (string keys of the user's), not a struct: an
    /// unknown key inserted there would be a new entry, not an unknown field.
    static let dictionaryKeys: Set<String> = ["env", "labels", "nodes", "jobs", "queues", "tenants", "limitsHit"]

    /// `json` with `field` added as the first key of the top object, or of every object that is a
    /// struct (`nested`).
    static func inject(_ field: String, into json: Substring, nested: Bool) -> String {
        var out = ""
        var inString = false, escaped = false
        var current = "", lastString = "", keyOfValue: String?
        var objects = 0
        let chars = Array(json)
        for (i, c) in chars.enumerated() {
            out.append(c)
            if inString {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false; lastString = current } else { current.append(c) }
                continue
            }
            switch c {
            case "\"": inString = true; current = ""
            case ":": keyOfValue = lastString
            case ",", "[": keyOfValue = nil
            case "{":
                objects += 1
                let isDictionary = keyOfValue.map { dictionaryKeys.contains($0) } ?? false
                keyOfValue = nil
                guard objects == 1 || (nested && !isDictionary) else { break }
                let rest = chars[(i + 1)...].drop { $0 == " " }
                out += field + (rest.first == "}" ? "" : ",")
            default: break
            }
        }
        return out
    }

    static let unknownFields = [
        // The scanner takes this one (plain values only).
        #""zzUnknown":{"n":[1,-2,"s",null,true,false,{},[]],"o":{"p":"q"}}"#,
        #""aUnknown":null"#,
        // These the scanner declines (a fraction, an escape): the Codable decoder reads them.
        #""zzUnknown":1.5e3"#,
        #""zzUnknown":"a\"b\u00e9""#,
    ]

    @Test("an unknown field, at the top or in any nested object, decodes the same through both paths")
    func unknownFields() throws {
        #expect(Self.inject(#""x":1"#, into: #"{"a":{},"env":{"k":"v"},"l":[{"b":2}]}"#, nested: true)
                == #"{"x":1,"a":{"x":1},"env":{"k":"v"},"l":[{"x":1,"b":2}]}"#)
        var scanned = 0
        for m in Self.allFixtures {
            let (verb, json) = Self.split(LineCodec.encode(m))
            for field in Self.unknownFields {
                for nested in [false, true] {
                    let body = Self.inject(field, into: json, nested: nested)
                    let line = verb + " " + body
                    // Codable ignores unknown keys: the same message.
                    #expect(try Self.codableDecode(like: m, body) == m, "\(line)")
                    #expect(try LineCodec.decode(Substring(line)) == m, "\(line)")
                    guard Self.scannedVerbs.contains(String(verb)) else { continue }
                    let fast = HotLineDecoder.decode(verb: verb, json: Substring(body))
                    if let fast {
                        scanned += 1
                        #expect(fast == m, "\(line)")
                    } else if field == Self.unknownFields[0] || field == Self.unknownFields[1] {
                        // A newer peer's extra field must not push plain lines off the fast path.
                        #expect(!Self.scannerMustAnswer(m, json: json), "scanner declined \(line)")
                    }
                }
            }
        }
        #expect(scanned >= 20)
    }

    @Test("a field of the wrong type (its value moved under an unknown key): both paths give the same answer")
    func bothReject() {
        var rejected = 0
        for m in Self.allFixtures where Self.scannedVerbs.contains(m.verb) {
            let (verb, json) = Self.split(LineCodec.encode(m))
            let body = String(json)
            var broken: [String] = []
            // Each known key: its value replaced by an object (the wrong type for most, a valid
            // empty `TaskExit` for `exit`), the real value moved under an unknown key. Codable
            // rejects or accepts; the scanner declines or answers the same.
            for key in ["ref", "pid", "binding", "stdoutPath", "stderrPath", "exit", "jobName", "command", "env",
                        "assignment", "killGraceSeconds", "specs", "workdir", "arrayJob", "gangNodes"] where body.contains("\"\(key)\":") {
                broken.append(body.replacingOccurrences(of: "\"\(key)\":", with: "\"\(key)\":{\"wrong\":[]},\"was_\(key)\":"))
            }
            for b in broken {
                let fast = HotLineDecoder.decode(verb: verb, json: Substring(b))
                let slow = try? Self.codableDecode(like: m, b)
                if let fast { #expect(fast == slow, "\(verb) \(b)") }
                let viaCodec = try? LineCodec.decode(Substring(verb + " " + b))
                #expect(viaCodec == slow, "\(verb) \(b)")
                if slow == nil { rejected += 1 }
            }
        }
        #expect(rejected >= 20)
    }
}
