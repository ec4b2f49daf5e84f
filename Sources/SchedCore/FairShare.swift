/// A tenant's guaranteed share of the fleet (Kueue's nominal quota): what it can always reclaim.
public struct TenantQuota: Sendable, Codable, Hashable {
    public var cpus: Int
    /// GPUs in thousandths (1000 = one GPU).
    public var gpuMilli: Int
    public init(cpus: Int = 0, gpuMilli: Int = 0) {
        self.cpus = cpus
        self.gpuMilli = gpuMilli
    }
    /// Whether `usage` plus `request` stays within the quota.
    public func covers(usage: TenantQuota, plus request: ResourceRequest) -> Bool {
        usage.cpus + request.cpus <= cpus && usage.gpuMilli + request.gpuDemandMilli <= gpuMilli
    }
    /// Whether `usage` is beyond the quota in any dimension (the tenant is borrowing).
    public func exceeded(by usage: TenantQuota) -> Bool { usage.cpus > cpus || usage.gpuMilli > gpuMilli }
}

/// Fair-share accounting: each tenant's usage over time, decayed with a half-life, so tenants that
/// used little lately go first among jobs of equal priority (as Slurm's fair-share factor).
/// Pure: the caller passes the elapsed time and what each tenant holds.
public struct FairShare: Sendable {
    /// Half-life of past usage in milliseconds.
    public let halfLifeMs: Int64
    /// Decayed usage per tenant, in core-seconds (a GPU counts as `gpuWeight` cores).
    public private(set) var usage: [String: Double] = [:]
    public let gpuWeight: Double

    public init(halfLifeMs: Int64 = 3_600_000, gpuWeight: Double = 32) {
        self.halfLifeMs = halfLifeMs
        self.gpuWeight = gpuWeight
    }

    /// Advances `elapsedMs` during which each tenant held `holding`.
    public mutating func advance(elapsedMs: Int64, holding: [String: TenantQuota]) {
        guard elapsedMs > 0 else { return }
        let decay = pow2(-Double(elapsedMs) / Double(halfLifeMs))
        for (t, u) in usage { usage[t] = u * decay }
        for (t, h) in holding {
            let cores = Double(h.cpus) + Double(h.gpuMilli) / 1000 * gpuWeight
            usage[t, default: 0] += cores * Double(elapsedMs) / 1000
        }
    }

    /// The tenant's decayed usage (0 for one never seen).
    public func usage(of tenant: String) -> Double { usage[tenant] ?? 0 }

    /// 2^x without Foundation.
    func pow2(_ x: Double) -> Double {
        // exp(x ln 2) by range reduction: 2^x = 2^n * 2^f, f in [0,1).
        let n = x.rounded(.down)
        let f = x - n
        // 2^f ≈ e^(f ln2) with a short Taylor series (f ln2 < 0.7, error < 1e-7).
        let y = f * 0.6931471805599453
        var term = 1.0, sum = 1.0
        for k in 1...12 {
            term *= y / Double(k)
            sum += term
        }
        return n < -1000 ? 0 : sum * Double(sign: .plus, exponent: Int(n), significand: 1)
    }
}
