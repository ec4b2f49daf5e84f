import SchedProtocol

/// Limits on what one client may ask of schedd, so that one short line cannot take the daemon's
/// memory (one `SUBMIT_BATCH` of 3 × `array: 100000` once created 400,000 jobs and 2.46 GB).
/// A request past a limit is refused whole with `ERR limit_exceeded`; each refusal is counted in
/// `schedctl status`. A cluster admin is held only to the per-request limit.
public struct AdmissionLimits: Sendable, Hashable {
    /// Jobs one `SUBMIT` or `SUBMIT_BATCH` may create (array members counted).
    public var maxJobsPerRequest = 10_000
    /// Pending jobs one tenant may hold; a submission that would pass it is refused.
    public var maxPendingPerTenant = 100_000
    /// Submissions per second one token may make on average (a token bucket), and its burst.
    public var submitsPerSecond = 100.0
    public var submitBurst = 1_000.0
    public init() {}
}

/// One token's submission bucket: refilled at `rate` per second up to `burst`.
struct TokenBucket {
    var tokens: Double
    var lastMs: Int64

    /// Takes one token at `nowMs` (monotonic) if there is one.
    mutating func take(nowMs: Int64, rate: Double, burst: Double) -> Bool {
        tokens = min(burst, tokens + Double(max(0, nowMs - lastMs)) / 1000 * rate)
        lastMs = nowMs
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
