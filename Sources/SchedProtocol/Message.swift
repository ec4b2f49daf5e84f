import SchedCore

/// Every message of the line protocol. One message is one line: `VERB {json}`.
/// The catalogue with an example line per message is docs/protocol.md.
/// `indirect`: every payload is boxed, so a message is one pointer wide. Inline, the largest payload
/// made every `Message` 1,792 bytes, and every async frame and action array holding one that much
/// (schedd held about 35 KiB of task frames per agent connection: 144 MB at 4,096 nodes).
public indirect enum Message: Sendable, Hashable {
    // handshake and errors (both directions)
    case hello(Hello)
    case welcome(Welcome)
    case error(ErrorReply)
    case ping
    case pong
    // agent → schedd
    case register(Register)
    case heartbeat(Heartbeat)
    case taskStarted(TaskStarted)
    case taskExited(TaskExited)
    // schedd → agent
    case registered(Registered)
    case startTask(StartTask)
    case killTask(KillTask)
    case ackExit(AckExit)
    case heartbeatInterval(HeartbeatInterval)
    // schedctl → schedd
    case submit(Submit)
    case submitBatch(SubmitBatch)
    case update(UpdateJob)
    case listJobs(ListJobs)
    case getJob(JobRequest)
    case cancel(JobRequest)
    case wait(JobRequest)
    case explain(JobRequest)
    case listNodes(ListNodes)
    case drain(NodeRequest)
    case undrain(NodeRequest)
    case log(LogQuery)
    case status
    // schedd → schedctl
    case submitted(Submitted)
    case submittedBatch(SubmittedBatch)
    case jobList(JobList)
    case jobInfo(JobInfo)
    case nodeList(NodeList)
    case nodeInfo(NodeInfo)
    case explanation(Explanation)
    case logRecord(PlacementRecord)
    case logEnd(LogEnd)
    case statusInfo(SchedulerStatus)
    /// A change schedd keeps and will make, but could not store in time: not an error, not confirmed.
    case accepted(Accepted)
    case ok
    /// schedctl → schedd: the audit log (cluster admins); answered `AUDIT_LIST`.
    case audit(AuditQuery)
    case auditList(AuditList)
    /// schedctl → schedd: tokens (cluster admins; tenant admins for their tenant's client tokens).
    case tokenCreate(TokenCreate)
    case tokenCreated(TokenCreated)
    case listTokens
    case tokenList(TokenList)
    case tokenRevoke(TokenRevoke)
    /// agent → schedd on a join-token connection: a node certificate for a CSR; answered `JOINED`.
    case join(Join)
    case joined(Joined)
    /// schedctl → schedd: node certificates (cluster admins).
    case nodeRevoke(NodeRevoke)
    case nodeRevoked(NodeRevoked)
    case listNodeCertificates(NodeCertificateQuery)
    case nodeCertificateList(NodeCertificateList)
    /// schedctl → schedd: who this connection's token is; answered `IDENTITY` (any role).
    case whoami
    case identity(IdentityInfo)

    /// The verb that starts the line.
    public var verb: String {
        switch self {
        case .hello: "HELLO"
        case .welcome: "WELCOME"
        case .error: "ERR"
        case .ping: "PING"
        case .pong: "PONG"
        case .register: "REGISTER"
        case .heartbeat: "HEARTBEAT"
        case .taskStarted: "TASK_STARTED"
        case .taskExited: "TASK_EXITED"
        case .registered: "REGISTERED"
        case .startTask: "START_TASK"
        case .killTask: "KILL_TASK"
        case .ackExit: "ACK_EXIT"
        case .heartbeatInterval: "HEARTBEAT_INTERVAL"
        case .submit: "SUBMIT"
        case .submitBatch: "SUBMIT_BATCH"
        case .update: "UPDATE"
        case .listJobs: "JOBS"
        case .getJob: "JOB"
        case .cancel: "CANCEL"
        case .wait: "WAIT"
        case .explain: "EXPLAIN"
        case .listNodes: "NODES"
        case .drain: "DRAIN"
        case .undrain: "UNDRAIN"
        case .log: "LOG"
        case .status: "STATUS"
        case .statusInfo: "STATUS_INFO"
        case .submitted: "SUBMITTED"
        case .submittedBatch: "SUBMITTED_BATCH"
        case .jobList: "JOB_LIST"
        case .jobInfo: "JOB_INFO"
        case .nodeList: "NODE_LIST"
        case .nodeInfo: "NODE_INFO"
        case .explanation: "EXPLANATION"
        case .logRecord: "LOG_RECORD"
        case .logEnd: "LOG_END"
        case .accepted: "ACCEPTED"
        case .audit: "AUDIT"
        case .auditList: "AUDIT_LIST"
        case .tokenCreate: "TOKEN_CREATE"
        case .tokenCreated: "TOKEN_CREATED"
        case .listTokens: "TOKENS"
        case .tokenList: "TOKEN_LIST"
        case .tokenRevoke: "TOKEN_REVOKE"
        case .join: "JOIN"
        case .joined: "JOINED"
        case .nodeRevoke: "NODE_REVOKE"
        case .nodeRevoked: "NODE_REVOKED"
        case .listNodeCertificates: "NODE_CERTS"
        case .nodeCertificateList: "NODE_CERT_LIST"
        case .whoami: "WHOAMI"
        case .identity: "IDENTITY"
        case .ok: "OK"
        }
    }
}
