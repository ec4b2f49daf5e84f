import Foundation
import SchedNet
import SchedProtocol
import Testing
import SchedIntegrationSupport

extension Integration {
@Suite(.serialized)
struct ProtocolRobustnessTests {
    /// Sends raw lines over a real TLS connection and collects the replies.
    func exchange(_ c: TestCluster, _ payloads: [String], replies: Int) async throws -> [String] {
        let channel = try await LineClient.connect(c.address, tls: try c.endpoint().tls)
        return try await channel.executeThenClose { inbound, outbound in
            for p in payloads { try await outbound.write(p) }
            var out: [String] = []
            for try await frame in inbound {
                if case .line(let l) = frame { out.append(l) }
                if out.count == replies { break }
            }
            return out
        }
    }

    @Test("malformed, unknown and oversized lines get ERR replies; schedd keeps serving")
    func badLinesAreAnsweredNotFatal() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let huge = "SUBMIT " + String(repeating: "x", count: 3 << 20)
        let hello = "HELLO {\"protocol\":1,\"role\":\"client\",\"token\":\"\(try c.adminToken())\"}"
        let replies = try await exchange(c, ["JOBS", hello, "garbage",
                                             "FROB {}", "SUBMIT {\"spec\":{\"command\":42}}", huge, "HEARTBEAT {\"node\":\"x\",\"running\":0}",
                                             "SUBMIT {\"spec\":{\"command\":[\"true\"],\"resources\":{\"cpus\":0}}}", "PING"],
                                         replies: 9)
        #expect(replies[0].hasPrefix("ERR {\"code\":\"handshake_required\""))
        #expect(replies[1].hasPrefix("WELCOME "))
        #expect(replies[2].hasPrefix("ERR {\"code\":\"malformed\""))
        #expect(replies[3].hasPrefix("ERR {\"code\":\"unknown_verb\""))
        #expect(replies[4].hasPrefix("ERR {\"code\":\"malformed\"") && replies[4].contains("command"))
        #expect(replies[5].hasPrefix("ERR {\"code\":\"line_too_long\""))
        #expect(replies[6].hasPrefix("ERR {\"code\":\"wrong_role\""))
        #expect(replies[7].hasPrefix("ERR {\"code\":\"invalid_spec\"") && replies[7].contains("resources.cpus"))
        #expect(replies[8] == "PONG {}")
        // Nothing was stored from the bad lines, and the daemon still works for everyone.
        guard case .jobList(let l) = try await c.request(.listJobs(ListJobs())) else { throw TestFailure("no JOB_LIST") }
        #expect(l.jobs.isEmpty)
        // Five lines broke the protocol (no HELLO, garbage, unknown verb, bad JSON, too long).
        guard case .statusInfo(let status) = try await c.request(.status) else { throw TestFailure("no STATUS_INFO") }
        #expect(status.rejectedLines == 5)
        #expect(try await c.nodes().count == 3)
    }

    @Test("a peer speaking another protocol version is refused")
    func versionMismatchRefused() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let replies = try await exchange(c, ["HELLO {\"protocol\":99,\"role\":\"client\"}"], replies: 1)
        #expect(replies[0].hasPrefix("ERR {\"code\":\"unsupported_version\""))
    }
}
}
