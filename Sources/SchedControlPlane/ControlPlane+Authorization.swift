import SchedCore
import SchedProtocol

/// Authorization of client requests, on the server, from the authenticated principal only.
///
/// - Each request needs a least role (`leastRole`); below it: `ERR forbidden`.
/// - A tenant never sees another tenant's jobs: naming one is answered `not_found`, as for a job
///   that does not exist, so ids of other tenants cannot be probed.
/// - A submitter changes (cancels, updates) only the jobs it submitted; a tenant admin any job of
///   its tenant; a cluster admin any job.
/// - Jobs are accounted to the principal's tenant (quotas, fair share), never to a tenant field
///   the client sends; a cluster admin may submit for any tenant.
extension ControlPlane {
    /// The least role a request needs.
    static func leastRole(for request: ClientRequest) -> Role {
        switch request {
        case .submit, .update, .cancel: .submitter
        case .drain, .undrain, .revokeNode: .clusterAdmin
        case .listJobs, .getJob, .wait, .explain, .listNodes, .status, .commitBarrier: .viewer
        }
    }

    /// Refuses a request the principal's role does not allow.
    func authorize(_ request: ClientRequest, _ p: Principal) throws(ErrorReply) {
        let needed = Self.leastRole(for: request)
        guard p.role >= needed else {
            throw ErrorReply(.forbidden, "\(Self.verb(of: request)) needs role \(needed.rawValue); this token's role is \(p.role.rawValue)")
        }
    }

    /// The job if the principal may see it; else `not_found`, worded as for an unknown job.
    func visible(_ job: JobInfo?, _ id: JobID, to p: Principal) throws(ErrorReply) -> JobInfo {
        guard let job, p.sees(tenant: job.spec.tenantName) else { throw ErrorReply(.notFound, "no job \(id)") }
        return job
    }

    /// Refuses a change to a job the principal sees but may not change (a submitter, another's job).
    func mayChange(_ job: JobInfo, _ p: Principal) throws(ErrorReply) {
        guard p.role == .submitter else { return }
        guard job.owner == p.ownerName else {
            throw ErrorReply(.forbidden, "job \(job.id) was submitted by \(job.owner ?? "another token"); a submitter changes only its own jobs (a tenant-admin token changes any of the tenant's)")
        }
    }

    /// The specs as the principal submits them: accounted to its tenant. A tenant other than its
    /// own is refused (only a cluster admin submits for any tenant).
    func ownSpecs(_ specs: [JobSpec], _ p: Principal) throws(ErrorReply) -> [JobSpec] {
        guard p.role != .clusterAdmin, let tenant = p.tenant else { return specs }
        return try specs.enumerated().map { (i, spec) throws(ErrorReply) -> JobSpec in
            if let t = spec.tenant, t != tenant {
                throw ErrorReply(.forbidden, "\(specs.count == 1 ? "" : "specs[\(i)].")tenant: '\(t)' is not this token's tenant ('\(tenant)')")
            }
            var own = spec
            own.tenant = tenant
            return own
        }
    }

    /// The Unix user the principal's tasks run as: its token's user, `nobody` without one; root
    /// only where the tenant allows it.
    func runAs(_ p: Principal) throws(ErrorReply) -> String {
        let user = p.user ?? "nobody"
        if user == "root", !p.mayRunAsRoot {
            throw ErrorReply(.forbidden, "tenant \(p.tenant ?? "-") may not run tasks as root (allow-root is off)")
        }
        return user
    }

    /// The admission limits on a submission (`AdmissionLimits`): jobs per request for everyone;
    /// the submit rate and pending jobs per tenant for everyone but a cluster admin.
    mutating func admit(_ specs: [JobSpec], _ p: Principal) throws(ErrorReply) {
        let limits = config.limits
        let jobs = specs.reduce(0) { $0 + max(1, $1.array ?? 1) }
        func refuse(_ limit: String, _ why: String) -> ErrorReply {
            limitsHit[limit, default: 0] += 1
            return ErrorReply(.limitExceeded, why)
        }
        guard jobs <= limits.maxJobsPerRequest else {
            throw refuse("jobs-per-request", "\(jobs) jobs in one request; the limit is \(limits.maxJobsPerRequest) (submit them in several)")
        }
        guard p.role != .clusterAdmin else { return }
        var bucket = submitBuckets[p.tokenID] ?? TokenBucket(tokens: limits.submitBurst, lastMs: monoNow)
        let allowed = bucket.take(nowMs: monoNow, rate: limits.submitsPerSecond, burst: limits.submitBurst)
        submitBuckets[p.tokenID] = bucket
        guard allowed else {
            throw refuse("submit-rate", "this token submits faster than \(limits.submitsPerSecond) requests a second (burst \(Int(limits.submitBurst))); retry later")
        }
        var pending: [String: Int] = [:]
        for s in specs { pending[s.tenantName, default: 0] += max(1, s.array ?? 1) }
        for (tenant, more) in pending {
            let held = pendingCount(of: tenant)
            guard held + more <= limits.maxPendingPerTenant else {
                throw refuse("pending-per-tenant", "tenant \(tenant) has \(held) pending jobs; \(more) more would pass the limit of \(limits.maxPendingPerTenant)")
            }
        }
    }

    /// Pending jobs of a tenant.
    func pendingCount(of tenant: String) -> Int { jobs.pendingByTenant[tenant] ?? 0 }

    static func verb(of request: ClientRequest) -> String {
        switch request {
        case .submit: "SUBMIT"
        case .update: "UPDATE"
        case .listJobs: "LIST_JOBS"
        case .getJob: "GET_JOB"
        case .cancel: "CANCEL"
        case .wait: "WAIT"
        case .explain: "EXPLAIN"
        case .listNodes: "LIST_NODES"
        case .drain: "DRAIN"
        case .undrain: "UNDRAIN"
        case .revokeNode: "NODE_REVOKE"
        case .status: "STATUS"
        case .commitBarrier: "COMMIT"
        }
    }
}

/// A job's environment holds its secrets (API keys, passwords): only the job's own tenant and
/// the token that submitted it read the values. Anyone else who may see the job (a cluster admin
/// of the fleet) gets the names with `hiddenValue` instead, so the job can still be debugged.
public enum JobSecrets {
    /// What a hidden value reads as.
    public static let hiddenValue = "(hidden)"

    /// Whether `p` reads the values of `job`'s environment.
    public static func readable(_ job: JobInfo, by p: Principal) -> Bool {
        p.tenant == job.spec.tenantName || job.owner == p.ownerName
    }

    /// `job` as `p` may read it.
    public static func visible(_ job: JobInfo, to p: Principal) -> JobInfo {
        guard !job.spec.env.isEmpty, !readable(job, by: p) else { return job }
        var hidden = job
        hidden.spec.env = job.spec.env.mapValues { _ in hiddenValue }
        return hidden
    }

    /// A reply to `p` with every job in it as `p` may read it.
    public static func visible(_ reply: Message, to p: Principal) -> Message {
        switch reply {
        case .jobInfo(let j):
            return .jobInfo(visible(j, to: p))
        case .jobList(var l):
            if l.jobs.contains(where: { !$0.spec.env.isEmpty }) { l.jobs = l.jobs.map { visible($0, to: p) } }
            return .jobList(l)
        default:
            return reply
        }
    }
}
