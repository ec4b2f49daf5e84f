import Foundation
import SchedCore
import SchedProtocol
import Testing
import SchedIntegrationSupport

/// The real schedctl binary against the real daemon.
extension Integration {
@Suite(.serialized)
struct SchedCtlCLITests {
    @Test("run --wait exits with the job's status; listings have tables and JSON")
    func runWaitAndListings() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let (status, out, _) = try c.schedctl(["run", "--name", "seven", "--wait", "--", "sh", "-c", "exit 7"])
        #expect(status == 7)
        #expect(out.contains("job 1 failed: exit 7"))
        #expect(out.contains("ran on node "))

        let (s2, id, _) = try c.schedctl(["run", "--cpus", "2", "--memory", "1GiB", "--", "true"])
        #expect(s2 == 0)
        #expect(id.trimmingCharacters(in: .whitespacesAndNewlines) == "2")
        _ = try await c.waitTerminal(JobID(2))

        let (s3, table, _) = try c.schedctl(["jobs"])
        #expect(s3 == 0)
        #expect(table.hasPrefix("ID  NAME"))
        #expect(table.contains("seven"))
        let (_, json, _) = try c.schedctl(["jobs", "-o", "json"])
        let jobs = try JSONDecoder().decode([JobInfo].self, from: Data(json.utf8))
        #expect(jobs.map(\.id.rawValue) == [2, 1])
        #expect(jobs[0].spec.resources.memoryBytes == 1 << 30)

        let (_, nodesJSON, _) = try c.schedctl(["nodes", "-o", "json"])
        let nodes = try JSONDecoder().decode([NodeInfo].self, from: Data(nodesJSON.utf8))
        #expect(nodes.map(\.name.rawValue) == ["dgx2", "host", "kunpeng"])
        #expect(nodes.first { $0.name == "dgx2" }?.gpus == 16)

        let (_, logJSON, _) = try c.schedctl(["log", "-o", "json"])
        let records = try logJSON.split(separator: "\n").map { try JSONDecoder().decode(PlacementRecord.self, from: Data($0.utf8)) }
        #expect(records.map(\.job.rawValue) == [1, 2])
        #expect(records.allSatisfy { $0.outcome == .placed })
        let (_, jobLog, _) = try c.schedctl(["log", "--job", "2"])
        #expect(jobLog.split(separator: "\n").count == 2)   // header + one record
    }

    @Test("submit FILE runs a YAML spec; a broken spec names the line and field")
    func submitSpecFile() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let good = c.dir + "/good.yaml", bad = c.dir + "/bad.yaml"
        try "name: hello\ncommand: [\"echo\", \"hi\"]\nresources:\n  cpus: 2\n  arch: x86_64\n".write(toFile: good, atomically: true, encoding: .utf8)
        try "name: broken\ncommand: [\"true\"]\nresources:\n  gpus: two\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let (s1, out, _) = try c.schedctl(["submit", good, "--wait"])
        #expect(s1 == 0)
        #expect(out.contains("job 1 completed"))
        let (s2, _, err) = try c.schedctl(["submit", bad])
        #expect(s2 != 0)
        #expect(err.contains("bad.yaml:4: resources.gpus"))
        guard case .jobList(let l) = try await c.request(.listJobs(ListJobs())) else { throw TestFailure("no JOB_LIST") }
        #expect(l.jobs.count == 1)
        // Several files: one SUBMIT_BATCH; a bad file among them submits none.
        let arr = c.dir + "/arr.yaml"
        try "command: [\"true\"]\narray: 3\n".write(toFile: arr, atomically: true, encoding: .utf8)
        let (s3, _, err3) = try c.schedctl(["submit", good, bad, arr])
        #expect(s3 != 0 && err3.contains("bad.yaml:4"))
        let (s4, out4, _) = try c.schedctl(["submit", good, arr])
        #expect(s4 == 0)
        #expect(out4 == "2\n3-5\n")
        guard case .jobList(let l2) = try await c.request(.listJobs(ListJobs())) else { throw TestFailure("no JOB_LIST") }
        #expect(l2.jobs.count == 5)
    }

    @Test("drain and undrain through the CLI; unknown nodes get a clear error")
    func drainCLI() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let (s1, out, _) = try c.schedctl(["drain", "dgx2", "--reason", "gpu swap"])
        #expect(s1 == 0 && out.contains("node dgx2 drained"))
        let (_, table, _) = try c.schedctl(["nodes"])
        #expect(table.contains("gpu swap"))
        let (s2, _, err) = try c.schedctl(["drain", "nope"])
        #expect(s2 != 0 && err.contains("no node 'nope'"))
        let (s3, out3, _) = try c.schedctl(["undrain", "dgx2"])
        #expect(s3 == 0 && out3.contains("node dgx2 ready"))

        // Every change is in the audit log, the refused one too, oldest first.
        let (s4, auditJSON, _) = try c.schedctl(["audit", "--since", "1h", "-o", "json"])
        #expect(s4 == 0)
        let audit = try JSONDecoder().decode([AuditRecord].self, from: Data(auditJSON.utf8))
        #expect(audit.map { "\($0.verb) \($0.object) \($0.outcome)" } == ["DRAIN node dgx2 ok", "DRAIN node nope not_found", "UNDRAIN node dgx2 ok"])
        #expect(audit.allSatisfy { $0.role == .clusterAdmin })
        let (_, table2, _) = try c.schedctl(["audit"])
        #expect(table2.hasPrefix("TIME"))
        #expect(table2.contains("UNDRAIN"))
        let (s5, _, err5) = try c.schedctl(["audit", "--since", "yesterday"])
        #expect(s5 != 0 && err5.contains("--since: expected a duration"))
    }

    @Test("run --array 4 submits four jobs in one request; each knows its index")
    func jobArray() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let (status, out, _) = try c.schedctl(["run", "--array", "4", "--wait", "--", "sh", "-c", "echo $SCHED_ARRAY_JOB_ID $SCHED_ARRAY_TASK_ID"])
        #expect(status == 0)
        #expect(out.contains("jobs 1-4 submitted (array of 4)"))
        var seen: [String] = []
        for id in 1...4 {
            let j = try await c.job(JobID(Int64(id)))
            #expect(j.state == .completed && j.arrayJob == JobID(1) && j.arrayIndex == id - 1)
            seen.append(c.read(try #require(j.stdoutPath)).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        #expect(seen == ["1 0", "1 1", "1 2", "1 3"])
        let (_, table, _) = try c.schedctl(["jobs"])
        #expect(table.contains("sh[3]"))
    }

    @Test("log --follow prints new decisions as they happen; status counts jobs")
    func logFollowAndStatus() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestCluster.binDir + "/schedctl")
        p.arguments = ["log", "--follow", "-o", "json", "--scheduler", "127.0.0.1:\(c.port)", "--ca", c.caFile, "--token-file", c.tokenFile]
        let out = Pipe()
        p.standardOutput = out
        let collected = Collected()
        out.fileHandleForReading.readabilityHandler = { h in collected.append(h.availableData) }
        try p.run()
        defer { p.terminate(); p.waitUntilExit() }
        let first = try await c.submit(JobSpec(command: ["true"]))
        _ = try await c.waitTerminal(first)
        let second = try await c.submit(JobSpec(command: ["true"], resources: ResourceRequest(gpus: 2)))
        let records = try await eventually("both records followed") { () -> [PlacementRecord]? in
            let rs = collected.text.split(separator: "\n").compactMap { try? JSONDecoder().decode(PlacementRecord.self, from: Data($0.utf8)) }
            return rs.count >= 2 ? rs : nil
        }
        #expect(records.map(\.job) == [first, second])
        #expect(records[1].node == "dgx2" && records[1].gpus?.count == 2)

        _ = try await c.waitTerminal(second)
        let (status, text, _) = try c.schedctl(["status"])
        #expect(status == 0)
        #expect(text.contains("nodes:           3 ready"))
        #expect(text.contains("jobs:            2 completed"))
    }
}

/// Bytes from a pipe's readability handler, safe to read from the test.
final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func append(_ d: Data) { lock.lock(); data.append(d); lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
}
}
