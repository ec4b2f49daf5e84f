import SchedCore
import SchedProtocol

extension ControlPlane {
    /// What each tenant holds now: PUs and thousandths of GPUs of its active jobs (from the
    /// active-job index, so finished jobs held in memory cost nothing here).
    mutating func tenantHoldings() -> [String: TenantQuota] {
        var out: [String: TenantQuota] = [:]
        jobs.forEachActive { j in
            guard let a = j.assignment else { return }
            out[j.spec.tenantName, default: TenantQuota()].cpus += a.pus.count
            out[j.spec.tenantName, default: TenantQuota()].gpuMilli += a.gpus.count * a.milliPerGPU
        }
        return out
    }

    /// Brings the fair-share usage up to now (call before ordering the queue).
    /// At most every 250 ms: a pass after each event would otherwise sum every job's holdings
    /// each time, and usage decays over minutes.
    mutating func advanceFairShare() {
        let now = monoNow
        if let last = fairShareClockMs, now - last < 250, now >= last { return }
        fairShare.advance(elapsedMs: now - (fairShareClockMs ?? now), holding: tenantHoldings())
        fairShareClockMs = now
    }

    /// Queue order, the one the pass and `explain` both use: jobs whose preemption victims are
    /// stopping first (the room they free is theirs), then priority (high first), then the
    /// tenant's decayed usage (low first), then age.
    mutating func queueKey(_ j: JobInfo) -> QueueKey {
        QueueKey(preemptorFirst: preemptors[j.id] != nil ? 0 : 1, negPriority: -(j.spec.priority ?? 0),
                 usage: fairShare.usage(of: j.spec.tenantName), id: j.id)
    }

    /// Whether the job's tenant still has guaranteed quota for it (and so may reclaim borrowed capacity).
    /// `tasks` counts a gang's members.
    mutating func mayReclaim(_ job: JobInfo, tasks: Int = 1, holdings: [String: TenantQuota]) -> Bool {
        guard let quota = config.tenants[job.spec.tenantName] else { return false }
        let usage = holdings[job.spec.tenantName] ?? TenantQuota()
        return usage.cpus + job.spec.resources.cpus * tasks <= quota.cpus
            && usage.gpuMilli + job.spec.resources.gpuDemandMilli * tasks <= quota.gpuMilli
    }

    /// Whether a tenant uses more than its guaranteed quota (its jobs run on borrowed capacity).
    func isBorrowing(_ tenant: String, holdings: [String: TenantQuota]) -> Bool {
        Self.isBorrowing(tenant, quotas: config.tenants, holdings: holdings)
    }

    static func isBorrowing(_ tenant: String, quotas: [String: TenantQuota], holdings: [String: TenantQuota]) -> Bool {
        (quotas[tenant] ?? TenantQuota()).exceeded(by: holdings[tenant] ?? TenantQuota())
    }

    /// Per-tenant figures for `schedctl status`.
    mutating func tenantStatus() -> [String: TenantStatus] {
        let holdings = tenantHoldings()
        var names = Set(holdings.keys).union(config.tenants.keys).union(config.tenantCaps.keys)
        for j in jobs.values where j.state == .pending { names.insert(j.spec.tenantName) }
        var out: [String: TenantStatus] = [:]
        for t in names {
            out[t] = TenantStatus(holding: holdings[t] ?? TenantQuota(), quota: config.tenants[t],
                                  decayedUsageCoreSeconds: Int64(fairShare.usage(of: t)), cap: config.tenantCaps[t])
        }
        return out
    }
}

/// A job's place in the queue (see `queueKey`), compared field by field.
struct QueueKey: Comparable {
    var preemptorFirst: Int
    var negPriority: Int
    var usage: Double
    var id: JobID
    static func < (a: QueueKey, b: QueueKey) -> Bool {
        (a.preemptorFirst, a.negPriority, a.usage, a.id) < (b.preemptorFirst, b.negPriority, b.usage, b.id)
    }
}
