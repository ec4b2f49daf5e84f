import Foundation
import SchedClient
import SchedCore
import SchedProtocol
import Testing
import SchedIntegrationSupport

extension Integration {
/// A small load test: a few hundred emulated `--no-exec` agents in one process, a few thousand
/// jobs submitted in pipelined SUBMIT_BATCH lines, with more demand than the fleet holds so PUs
/// and GPUs are handed out again and again.
@Suite(.serialized)
struct LoadIntegrationTests {
    @Test("every job runs exactly once, no PU or GPU share is given twice, schedd's memory stays bounded")
    func fleetLoad() async throws {
        let c = try TestCluster()
        defer { c.shutdown() }
        // 200 nodes at most 100 heartbeats/s: the interval grows from 200 ms to 3.2 s.
        c.scheddArgs = ["--heartbeats-per-second", "100"]
        try await c.startSchedd()
        let fleetFile = c.dir + "/fleet.yaml"
        try """
            kinds:
              - name: kp
                count: 150
                xml: \(TestCluster.fixture("128arm-2pa2n8cluster4co.xml"))
              - name: dgx
                count: 50
                xml: \(TestCluster.fixture("nvidiaDGX2.xml"))
                nvlink-domain-size: 10
            """.write(toFile: fleetFile, atomically: true, encoding: .utf8)
        let stats = c.dir + "/fleet-stats.json"
        let fleet = try c.startFleet(fleetFile, extra: ["--no-exec", "--stats-file", stats, "--wave", "64"])
        _ = try await eventually("200 nodes ready", timeout: .seconds(120)) { () -> Bool? in
            guard case .statusInfo(let st) = try? await c.request(.status) else { return nil }
            return st.nodes["ready"] == 200 ? true : nil
        }

        var rng = SplitMix64(seed: 7)
        var specs: [JobSpec] = []
        for i in 0..<2_400 {
            specs.append(JobSpec(name: "cpu-\(i)", command: ["sleep", "0.2"], resources: ResourceRequest(cpus: 4 + Int(rng.next() % 29))))
        }
        for i in 0..<300 {
            specs.append(JobSpec(name: "gpu-\(i)", command: ["sleep", "0.2"],
                                 resources: ResourceRequest(cpus: 2, gpus: 1 + Int(rng.next() % 4))))
        }
        for i in 0..<100 {
            specs.append(JobSpec(name: "half-\(i)", command: ["sleep", "0.2"], resources: ResourceRequest(cpus: 1, gpus: 1, gpuMilli: 500)))
        }
        for i in 0..<20 {
            specs.append(JobSpec(name: "gang-\(i)", command: ["sleep", "0.2"], resources: ResourceRequest(cpus: 4, gpus: 8),
                                 array: 4, gang: true, nvlink: .required))
        }
        let total = specs.reduce(0) { $0 + ($1.array ?? 1) }
        let stored = try await SchedClient.with(try c.endpoint()) { s -> Int in
            for chunk in stride(from: 0, to: specs.count, by: 500) {
                try await s.send(.submitBatch(SubmitBatch(specs: Array(specs[chunk..<min(specs.count, chunk + 500)]))))
            }
            var n = 0
            for _ in stride(from: 0, to: specs.count, by: 500) {
                guard case .submittedBatch(let b) = try await s.next() else { throw TestFailure("no SUBMITTED_BATCH") }
                n += b.jobs.reduce(0) { $0 + ($1.count ?? 1) }
            }
            return n
        }
        #expect(stored == total)

        var peakRSS = 0
        let jobs = try await eventually("all \(total) jobs terminal", timeout: .seconds(300)) { () -> [JobInfo]? in
            peakRSS = max(peakRSS, c.scheddMemory("VmRSS") ?? 0)
            guard case .statusInfo(let st) = try? await c.request(.status) else { return nil }
            let ended = (st.jobs["completed"] ?? 0) + (st.jobs["failed"] ?? 0) + (st.jobs["cancelled"] ?? 0)
            guard ended == total else { return nil }
            guard case .jobList(let l) = try await c.request(.listJobs(ListJobs(limit: total))) else { return nil }
            return l.jobs
        }
        #expect(jobs.count == total)
        let failed = jobs.filter { $0.state != .completed }
        #expect(failed.isEmpty, "\(failed.prefix(3).map { "\($0.id): \($0.reason ?? "")" })")

        // Exactly once: one `placed` record per job, and the fleet started exactly `total` tasks.
        guard case .logEnd = try await SchedClient.with(try c.endpoint(), { s -> Message in
            try await s.send(.log(LogQuery(limit: 100_000)))
            var placed: [JobID: Int] = [:]
            var records: [PlacementRecord] = []
            while true {
                let m = try await s.next()
                if case .logRecord(let r) = m {
                    records.append(r)
                    if r.outcome == .placed { placed[r.job, default: 0] += 1 }
                    continue
                }
                #expect(placed.count == total)
                #expect(placed.values.allSatisfy { $0 == 1 })
                try checkNoDoubleAllocation(jobs: jobs, records: records)
                return m
            }
        }) else { throw TestFailure("no LOG_END") }
        fleet.terminate()
        fleet.waitUntilExit()
        let counters = try JSONDecoder().decode(FleetCounters.self, from: Data(contentsOf: URL(fileURLWithPath: stats)))
        #expect(counters.nodes == 200)
        #expect(counters.tasks.started == total)
        #expect(counters.tasks.refusedOverlap == 0)
        #expect(counters.tasks.refusedInvalid == 0)
        // Bounded: a few thousand jobs and 200 nodes stay far below this in a debug build.
        let hwm = c.scheddMemory("VmHWM") ?? peakRSS
        #expect(hwm > 0 && hwm < 400 << 20, "schedd peak RSS \(hwm >> 20) MiB")
    }

    /// From schedd's own records: on each node, jobs whose [placed, finished] times overlap
    /// share no PU and hold at most one whole GPU between them on each GPU.
    func checkNoDoubleAllocation(jobs: [JobInfo], records: [PlacementRecord]) throws {
        var placedAt: [JobID: Int64] = [:]
        for r in records where r.outcome == .placed { placedAt[r.job] = try Self.ms(r.time) }
        var byNode: [NodeID: [(start: Int64, end: Int64, a: Assignment)]] = [:]
        for j in jobs {
            guard let a = j.assignment, let start = placedAt[j.id], let end = j.finishedAtMs else {
                Issue.record("job \(j.id) lacks placement or finish time")
                continue
            }
            byNode[a.node, default: []].append((start, end, a))
        }
        var clashes = 0
        for (_, list) in byNode {
            let sorted = list.sorted { $0.start < $1.start }
            for (i, x) in sorted.enumerated() {
                for y in sorted[(i + 1)...] {
                    if y.start >= x.end { continue }
                    if !x.a.pus.isDisjoint(with: y.a.pus) { clashes += 1 }
                    for g in Set(x.a.gpus).intersection(y.a.gpus) where x.a.milliPerGPU + y.a.milliPerGPU > 1000 {
                        _ = g
                        clashes += 1
                    }
                }
            }
        }
        #expect(clashes == 0)
    }

    /// Milliseconds since 1970 of `2026-11-26T21:16:32.123Z`.
    static func ms(_ t: String) throws -> Int64 {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let d = f.date(from: t) else { throw TestFailure("bad time \(t)") }
        return Int64((d.timeIntervalSince1970 * 1000).rounded())
    }
}
}

/// The `--stats-file` JSON of an emulated fleet.
struct FleetCounters: Decodable {
    struct Tasks: Decodable {
        var started: Int
        var refusedOverlap: Int
        var refusedInvalid: Int
    }
    var nodes: Int
    var tasks: Tasks
}
