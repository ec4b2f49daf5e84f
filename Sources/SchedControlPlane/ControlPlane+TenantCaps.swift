import SchedCore
import SchedProtocol

extension ControlPlane {
    /// Why `tasks` tasks of `job` would take its tenant past its cap, or nil. Computes the
    /// holdings into `holdings` when they are not known yet.
    mutating func capExcess(_ job: JobInfo, tasks: Int, holdings: inout [String: TenantQuota]?) -> String? {
        guard let cap = config.tenantCaps[job.spec.tenantName] else { return nil }
        let h = holdings ?? tenantHoldings()
        holdings = h
        return cap.excess(tenant: job.spec.tenantName, usage: h[job.spec.tenantName] ?? TenantQuota(),
                          request: job.spec.resources, tasks: tasks)
    }

    /// Keeps a job waiting because of its tenant's cap; stores the reason when it changed.
    mutating func holdForCap(_ job: JobInfo, _ why: String) {
        guard var j = jobs[job.id], j.reason != why || j.estimatedStartMs != nil else { return }
        j.reason = why
        j.estimatedStartMs = nil
        lastPendingSummary[j.id] = nil
        save(j)
    }

    /// Adds a placement to known holdings (unknown holdings stay unknown: computed when needed).
    static func hold(_ a: Assignment, tenant: String, in holdings: inout [String: TenantQuota]?) {
        guard var h = holdings else { return }
        h[tenant] = (h[tenant] ?? TenantQuota()).adding(a)
        holdings = h
    }

    /// For `explain`: the cap that keeps a pending job (or its whole gang) waiting now, if any.
    mutating func capHold(_ job: JobInfo) -> String? {
        guard job.state == .pending, config.tenantCaps[job.spec.tenantName] != nil else { return nil }
        var tasks = 1
        if job.spec.isGang, let g = job.arrayJob { tasks = jobs.values.filter { $0.arrayJob == g && $0.state == .pending }.count }
        var holdings: [String: TenantQuota]?
        return capExcess(job, tasks: tasks, holdings: &holdings)
    }
}
