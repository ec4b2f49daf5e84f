/// What `sched-bench e2e` measured.
struct E2EResult {
    var nodes: Int
    var jobs: Int
    var mix: String
    /// First submit → the last job reported running (schedd's `startedAtMs`).
    var seconds: Double
    /// First submit → the poll that saw no job pending or starting (polled every 250 ms).
    var polledSeconds: Double
    var submitSeconds: Double
    var registerSeconds: Double
    var scheddRSS: Int
    var scheddPeakRSS: Int
    var scheddRSSBeforeSubmit: Int
    var fleetRSS: Int
    var failed: Int
    var refusedOverlap: Int?
    var tasksStarted: Int?

    var jobsPerSecond: Double { Double(jobs) / seconds }
    static func mib(_ b: Int) -> Double { (Double(b) / 1_048_576 * 10).rounded() / 10 }
    static func r(_ x: Double, _ places: Double = 1000) -> Double { (x * places).rounded() / places }

    var json: String {
        func opt(_ v: Int?) -> String { v.map(String.init) ?? "null" }
        return "{\"nodes\": \(nodes), \"jobs\": \(jobs), \"seconds\": \(Self.r(seconds)), \"jobs_per_second\": \(Self.r(jobsPerSecond, 10)), "
            + "\"schedd_rss_mib\": \(Self.mib(scheddRSS)), \"mix\": \"\(mix)\", \"polled_seconds\": \(Self.r(polledSeconds)), "
            + "\"submit_seconds\": \(Self.r(submitSeconds)), \"register_seconds\": \(Self.r(registerSeconds)), "
            + "\"schedd_peak_rss_mib\": \(Self.mib(scheddPeakRSS)), \"schedd_rss_before_submit_mib\": \(Self.mib(scheddRSSBeforeSubmit)), "
            + "\"fleet_rss_mib\": \(Self.mib(fleetRSS)), \"failed\": \(failed), \"refused_overlap\": \(opt(refusedOverlap)), "
            + "\"tasks_started\": \(opt(tasksStarted))}"
    }

    var text: String {
        """
        e2e: \(nodes) nodes, \(jobs) jobs (\(mix) mix)
          first submit → last job running: \(Self.r(seconds)) s  (\(Self.r(jobsPerSecond, 10)) jobs/s)
          submit (all SUBMIT_BATCH replies): \(Self.r(submitSeconds)) s; fleet registration: \(Self.r(registerSeconds)) s
          schedd RSS: \(Self.mib(scheddRSS)) MiB (peak \(Self.mib(scheddPeakRSS)), before submit \(Self.mib(scheddRSSBeforeSubmit))); fleet RSS \(Self.mib(fleetRSS)) MiB
          failed jobs: \(failed); tasks refused for overlap: \(refusedOverlap.map(String.init) ?? "?")
        """
    }
}
