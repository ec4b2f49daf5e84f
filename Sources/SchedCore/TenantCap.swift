/// The most a tenant may hold at once (Kueue's borrowingLimit on top of the nominal quota, Slurm's
/// GrpTRES): a job that would take the tenant past it waits, however idle the fleet is.
/// A dimension left nil is not capped.
public struct TenantCap: Sendable, Codable, Hashable {
    public var cpus: Int?
    /// GPUs in thousandths (1000 = one GPU).
    public var gpuMilli: Int?
    public init(cpus: Int? = nil, gpuMilli: Int? = nil) {
        self.cpus = cpus
        self.gpuMilli = gpuMilli
    }

    /// nil when `usage` plus `tasks` tasks of `request` stays within the cap; otherwise why not,
    /// e.g. `tenant cap: research holds 6 of max 8 cpus, needs 4 more`.
    public func excess(tenant: String, usage: TenantQuota, request: ResourceRequest, tasks: Int = 1) -> String? {
        let needCPUs = request.cpus * tasks
        let needGPUs = request.gpuDemandMilli * tasks
        if let max = cpus, usage.cpus + needCPUs > max {
            return "tenant cap: \(tenant) holds \(usage.cpus) of max \(max) cpus, needs \(needCPUs) more"
        }
        if let max = gpuMilli, usage.gpuMilli + needGPUs > max {
            return "tenant cap: \(tenant) holds \(Self.gpus(usage.gpuMilli)) of max \(Self.gpus(max)) gpus, needs \(Self.gpus(needGPUs)) more"
        }
        return nil
    }

    /// Thousandths of GPUs as `2`, `0.5`.
    static func gpus(_ milli: Int) -> String {
        milli % 1000 == 0 ? "\(milli / 1000)" : "\(Double(milli) / 1000)"
    }
}

extension TenantQuota {
    /// This holding with `a`'s PUs and GPU share added.
    public func adding(_ a: Assignment) -> TenantQuota {
        TenantQuota(cpus: cpus + a.pus.count, gpuMilli: gpuMilli + a.gpus.count * a.milliPerGPU)
    }
}
