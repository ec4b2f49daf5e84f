import Foundation
import SchedClient
import SchedCore
import SchedNet
import SchedProtocol

/// `sched-bench e2e`: schedd and an emulated `--no-exec` fleet on 127.0.0.1, jobs submitted
/// with pipelined SUBMIT_BATCH lines over one connection; measures from the first submit until
/// every job was reported running by its agent (the latest `startedAtMs` schedd recorded).
enum E2EBenchmark {
    static func main(_ args: [String]) async -> Int32 {
        do {
            let options = try E2EOptions(args)
            let result = try await run(options)
            print(options.json ? result.json : result.text)
            return 0
        } catch {
            FileHandle.standardError.write(Data("sched-bench e2e: \(error)\n".utf8))
            return 1
        }
    }

    static func run(_ o: E2EOptions) async throws -> E2EResult {
        let bin = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sched-e2e-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var procs = E2EProcesses(bin: bin, dir: dir)
        defer {
            procs.stopAll()
            if o.keep { FileHandle.standardError.write(Data("sched-bench e2e: kept \(dir)\n".utf8)) }
            else { try? FileManager.default.removeItem(atPath: dir) }
        }
        let trays = (o.nodes + 1) / 2, graviton = o.nodes / 2
        var fleet = "kinds:\n  - name: vr\n    count: \(trays)\n    builtin: vera-rubin-tray\n    nvlink-domain-size: 18\n"
        if graviton > 0 { fleet += "  - name: gv\n    count: \(graviton)\n    builtin: graviton-192\n" }
        try fleet.write(toFile: dir + "/fleet.yaml", atomically: true, encoding: .utf8)

        let port = try await procs.startSchedd(extra: o.minJobAge.map { ["--min-job-age", String($0)] } ?? [])
        // schedd wrote its CA and admin token before listening; the fleet and this client use both.
        let address = try SchedEndpoint(address: HostPort(host: "127.0.0.1", port: port), caFile: procs.caFile,
                                        token: SchedEndpoint.readToken(file: procs.tokenFile))
        let clock = ContinuousClock()
        let registerStart = clock.now
        try procs.startFleet(port: port)
        try await waitFor("\(o.nodes) nodes ready", timeoutSeconds: 600, procs: procs) {
            try await status(address).nodes["ready"] == o.nodes
        }
        let registerSeconds = seconds(clock.now - registerStart)
        let specs = E2EWorkload.specs(count: o.jobs, gpuMix: o.gpuMix, seed: o.seed)
        let rssBefore = procs.scheddRSS()

        // Submit: every batch line is written before any reply is read (no round trip per batch).
        let t0 = Date()
        let submitStart = clock.now
        let stored = try await SchedClient.with(address) { s -> Int in
            var i = 0
            while i < specs.count {
                let end = min(specs.count, i + o.batch)
                try await s.send(.submitBatch(SubmitBatch(specs: Array(specs[i..<end]))))
                i = end
            }
            var jobs = 0
            for _ in stride(from: 0, to: specs.count, by: o.batch) {
                switch try await s.next() {
                case .submittedBatch(let b): jobs += b.jobs.reduce(0) { $0 + ($1.count ?? 1) }
                case .error(let e): throw E2EError("SUBMIT_BATCH refused: \(e.message)")
                default: throw E2EError("unexpected reply to SUBMIT_BATCH")
                }
            }
            return jobs
        }
        let submitSeconds = seconds(clock.now - submitStart)
        guard stored == o.jobs else { throw E2EError("schedd stored \(stored) jobs, expected \(o.jobs)") }

        // Done when no job is pending or starting any more (each has been reported running).
        // Every job was stored before its SUBMITTED_BATCH, so none can appear later; finished
        // ones may already have left schedd's memory (--min-job-age).
        var peakPolled = 0
        try await waitFor("every job reported running", timeoutSeconds: 3600, procs: procs, pollMs: 250) {
            let st = try await status(address)
            peakPolled = max(peakPolled, procs.scheddRSS() ?? 0)
            return (st.jobs["pending"] ?? 0) + (st.jobs["starting"] ?? 0) == 0
        }
        let polledSeconds = Date().timeIntervalSince(t0)
        let rssAfter = procs.scheddRSS()
        let list: [JobInfo] = try await SchedClient.with(address) { s in
            guard case .jobList(let l) = try await s.request(.listJobs(ListJobs(limit: o.jobs))) else { throw E2EError("no JOB_LIST") }
            return l.jobs
        }
        let started = list.compactMap(\.startedAtMs)
        guard started.count == o.jobs, let last = started.max() else {
            throw E2EError("\(started.count) of \(o.jobs) jobs have a start time")
        }
        let failed = list.filter { $0.state == .failed }.count
        let fleetRSS = procs.fleetRSS()
        procs.stopFleet()
        let stats = procs.fleetStats()
        let secondsToLast = Double(last) / 1000 - t0.timeIntervalSince1970
        return E2EResult(nodes: o.nodes, jobs: o.jobs, mix: o.gpuMix ? "gpu" : "cpu", seconds: secondsToLast,
                         polledSeconds: polledSeconds, submitSeconds: submitSeconds, registerSeconds: registerSeconds,
                         scheddRSS: rssAfter ?? 0, scheddPeakRSS: max(procs.scheddPeakRSS() ?? 0, peakPolled),
                         scheddRSSBeforeSubmit: rssBefore ?? 0, fleetRSS: fleetRSS ?? 0, failed: failed,
                         refusedOverlap: stats?.refusedOverlap, tasksStarted: stats?.started)
    }

    static func status(_ address: SchedEndpoint) async throws -> SchedulerStatus {
        try await SchedClient.with(address) { s in
            guard case .statusInfo(let st) = try await s.request(.status) else { throw E2EError("no STATUS_INFO") }
            return st
        }
    }

    static func waitFor(_ what: String, timeoutSeconds: Double, procs: E2EProcesses, pollMs: Int = 200,
                        _ done: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if let dead = procs.exited() { throw E2EError("\(dead) exited while waiting for \(what); logs in \(procs.dir)") }
            if (try? await done()) == true { return }
            try await Task.sleep(for: .milliseconds(pollMs))
        }
        throw E2EError("timed out after \(Int(timeoutSeconds)) s waiting for \(what)")
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
