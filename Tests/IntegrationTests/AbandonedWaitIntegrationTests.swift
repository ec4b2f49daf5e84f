import Foundation
import SchedClient
import SchedCore
import SchedProtocol
import Testing
import SchedIntegrationSupport

extension Integration {
@Suite(.serialized)
struct AbandonedWaitIntegrationTests {
    /// Open descriptors of a process (its sockets among them).
    static func openFiles(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    @Test("clients that send WAIT and go away leave no socket behind; a WAIT that stays is still answered")
    func abandonedWaitsReleaseTheirConnections() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let pid = try #require(c.schedd?.processIdentifier)
        let long = try await c.submit(JobSpec(command: ["sleep", "600"], resources: ResourceRequest(cpus: 1)))
        _ = try await c.waitForState(long, .running)
        let before = Self.openFiles(pid)

        // 60 clients ask to WAIT for the long job and close their connections.
        for _ in 0..<60 {
            try await SchedClient.with(try c.endpoint()) { s in try await s.send(.wait(JobRequest(job: long))) }
        }
        // Every one of their sockets is closed by schedd (it would hold 60 until the job ended).
        let after = try await eventually("schedd to close the abandoned WAIT connections") { () -> Int? in
            let n = Self.openFiles(pid)
            return n <= before + 2 ? n : nil
        }
        #expect(after <= before + 2)

        // A client that keeps its connection gets its answer when the job ends.
        let waiting = Task { try await SchedClient.with(try c.endpoint()) { s in try await s.request(.wait(JobRequest(job: long))) } }
        _ = try await SchedClient.with(try c.endpoint()) { s in try await s.request(.cancel(JobRequest(job: long))) }
        guard case .jobInfo(let j) = try await waiting.value else { throw TestFailure("WAIT got no JOB_INFO") }
        #expect(j.state == .cancelled)
    }

    @Test("SIGTERM with clients in WAIT ends schedd: their connections close and it exits 0")
    func sigtermWithWaitersExits() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let schedd = try #require(c.schedd)
        let long = try await c.submit(JobSpec(command: ["sleep", "600"], resources: ResourceRequest(cpus: 1)))
        _ = try await c.waitForState(long, .running)
        let pid = schedd.processIdentifier
        let base = Self.openFiles(pid)
        let waiters = (0..<20).map { _ in
            Task { try await SchedClient.with(try c.endpoint()) { s in try await s.request(.wait(JobRequest(job: long))) } }
        }
        // The WAITs are in schedd (each holds a socket there) before it is told to stop.
        _ = try await eventually("most of the 20 WAITs connected") { Self.openFiles(pid) >= base + 15 ? true : nil }
        kill(pid, SIGTERM)
        _ = try await eventually("schedd to exit after SIGTERM", timeout: .seconds(20)) { schedd.isRunning ? nil : true }
        #expect(schedd.terminationReason == .exit && schedd.terminationStatus == 0,
                "schedd ended with \(schedd.terminationReason == .exit ? "exit" : "signal") \(schedd.terminationStatus): \(c.read(c.dir + "/schedd.log").suffix(20000))")
        for w in waiters {
            // Closed without an answer: the client sees the connection end.
            await #expect(throws: (any Error).self) { try await w.value }
        }
    }
}
}
