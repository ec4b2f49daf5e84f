import Foundation
import SchedClient
import SchedCore
import SchedNet
import SchedProtocol
import SchedTrust
import Testing
import SchedIntegrationSupport

extension Integration {
/// Agent identity through the real binaries: joining with a join token, mutual TLS with the node
/// certificate from then on, and the attacks the node authorizer and revocation are for.
@Suite(.serialized)
struct NodeJoinIntegrationTests {
    static let dgx2 = "nvidiaDGX2.xml"

    /// schedd alone.
    func schedd() async throws -> TestCluster {
        let c = try TestCluster()
        try await c.startSchedd()
        return c
    }

    /// Starts an emulated agent `name` (no processes) that joins with `credential`; waits until it is ready.
    func join(_ c: TestCluster, _ name: String, _ credential: TestCluster.AgentCredential) async throws {
        try c.startAgent(name, xml: Self.dgx2, extra: ["--no-exec"], credential: credential)
        try await c.waitForNodes([name], status: .ready)
    }

    /// TLS settings presenting the node certificate the agent `name` keeps in its work directory.
    func nodeTLS(_ c: TestCluster, _ name: String) throws -> TLSClientConfiguration {
        let dir = c.agentWorkDir(name)
        return try TLSClientConfiguration(trustRootsPEM: c.read(c.caFile), certificateChainPEM: c.read(dir + "/node.pem"),
                                          privateKeyPEM: c.read(dir + "/node.key"))
    }

    /// Sends `lines` and reads until schedd closes the connection or `replies` lines came.
    func exchange(_ c: TestCluster, tls: TLSClientConfiguration, _ lines: [String], replies wanted: Int = .max) async throws
        -> (replies: [String], closed: Bool) {
        let connection = try await LineClient.connect(c.address, tls: tls)
        return try await connection.executeThenClose { inbound, outbound in
            for l in lines { try await outbound.write(l) }
            var replies: [String] = []
            for try await frame in inbound {
                if case .line(let l) = frame { replies.append(l) }
                if replies.count >= wanted { return (replies, false) }
            }
            return (replies, true)
        }
    }

    /// A complete, minimal REGISTER for `node` (docs/protocol.md's hand-written one).
    static func register(_ node: String) -> String {
        #"REGISTER {"node":"\#(node)","topology":{"arch":"x86_64","cpuModel":"Fake CPU","packages":1,"numaNodes":[{"id":0,"memoryBytes":8589934592,"cpus":"0-3"}],"cores":[{"id":0,"pus":"0-1","numa":0,"l3":0,"package":0},{"id":1,"pus":"2-3","numa":0,"l3":0,"package":0}],"gpus":[]},"emulated":true,"tasks":[]}"#
    }

    static let agentHello = #"HELLO {"protocol":1,"role":"agent"}"#

    func tokens(_ c: TestCluster) throws -> [TokenInfo] {
        let (_, out, _) = try c.schedctl(["token", "list", "-o", "json"])
        return try JSONDecoder().decode([TokenInfo].self, from: Data(out.utf8))
    }

    func certificates(_ c: TestCluster, _ node: String? = nil) async throws -> [NodeCertificateInfo] {
        guard case .nodeCertificateList(let l) = try await c.request(.listNodeCertificates(NodeCertificateQuery(node: node.map { NodeID($0) })))
        else { throw TestFailure("no NODE_CERT_LIST") }
        return l.certificates
    }

    @Test("a join token (single use, 1 h) joins one agent: key 0600 and certificate in its work dir, mutual TLS, audited; the same token again is refused and that agent exits non-zero")
    func joinOnceThenReplayRefused() async throws {
        let c = try await schedd()
        defer { c.shutdown() }
        let (file, token) = try c.createJoinToken()
        let info = try #require(try tokens(c).first { $0.kind == "agent" })
        #expect(info.usesLeft == 1)
        #expect(info.expiresAtMs.map { $0 - info.createdAtMs } == 3_600_000)

        try await join(c, "n1", .joinTokenFile(file))
        let dir = c.agentWorkDir("n1")
        #expect(SecretFile.mode(of: dir + "/node.key") == 0o600)
        #expect(SecretFile.mode(of: dir + "/node.pem") == 0o644)
        let cert = try NodeCertificate(pem: c.read(dir + "/node.pem"))
        #expect(cert.nodeName == "n1")
        let recorded = try await certificates(c)
        #expect(recorded.map(\.serial) == [cert.serial] && recorded.first?.node == "n1" && recorded.first?.joinToken == info.id)
        #expect(try tokens(c).first { $0.id == info.id }?.usesLeft == 0)
        #expect(c.agentLog("n1").contains("joined the cluster"))

        // Replayed: the used token gets a second agent nowhere; it says why and exits non-zero.
        try c.startAgent("n2", xml: Self.dgx2, extra: ["--no-exec"], credential: .joinTokenFile(file))
        let status = try await c.waitForExit("n2")
        #expect(status != 0)
        #expect(c.agentLog("n2").contains("join token \(info.id) is used up"), "\(c.agentLog("n2"))")
        #expect(try await c.nodes().map(\.name.rawValue) == ["n1"])
        #expect(try await certificates(c).count == 1)

        let (_, auditJSON, _) = try c.schedctl(["audit", "-o", "json"])
        let audit = try JSONDecoder().decode([AuditRecord].self, from: Data(auditJSON.utf8))
        #expect(audit.contains { $0.verb == "JOIN" && $0.object == "node n1 (certificate \(cert.serial))" && $0.outcome == "ok" && $0.tokenID == "\(info.id)" })
        // No token in any log, and none in the agents' argv.
        for log in [c.read(c.dir + "/schedd.log"), c.agentLog("n1"), c.agentLog("n2")] { #expect(!log.contains(token)) }
        if let pid = c.agents["n1"]?.processIdentifier {
            #expect(!c.read("/proc/\(pid)/cmdline").contains("sched_"))
        }
    }

    @Test("an expired join token is refused: the agent (token in SCHED_JOIN_TOKEN) says so and exits non-zero")
    func expiredTokenRefused() async throws {
        let c = try await schedd()
        defer { c.shutdown() }
        let (_, token) = try c.createJoinToken(["--ttl", "1s"])
        let expires = try #require(try tokens(c).first { $0.kind == "agent" }?.expiresAtMs)
        // Wait for the token's expiry to pass on the wall clock (the condition, not a guess at it).
        _ = try await eventually("the join token to expire") { Int64(Date().timeIntervalSince1970 * 1000) > expires ? true : nil }
        try c.startAgent("late", xml: Self.dgx2, extra: ["--no-exec"], credential: .joinTokenEnvironment(token))
        #expect(try await c.waitForExit("late") != 0)
        #expect(c.agentLog("late").contains("expired"), "\(c.agentLog("late"))")
        #expect(try await c.nodes().isEmpty)
    }

    @Test("a node certificate used to register or heartbeat for another node gets ERR forbidden and its connection closed; its reports cannot touch another node's jobs")
    func certificateForAnotherNode() async throws {
        let c = try await schedd()
        defer { c.shutdown() }
        let (file, _) = try c.createJoinToken(["--uses", "2"])
        try await join(c, "n1", .joinTokenFile(file))
        try await join(c, "n2", .joinTokenFile(file))
        let job = try await c.submit(JobSpec(command: ["sleep", "600"], resources: ResourceRequest(cpus: 1)))
        let running = try await c.waitForState(job, .running)
        let victim = try #require(running.node?.rawValue)
        let attacker = victim == "n1" ? "n2" : "n1"
        let tls = try nodeTLS(c, attacker)

        let (registered, closed1) = try await exchange(c, tls: tls, [Self.agentHello, Self.register(victim)])
        #expect(registered.count == 2 && registered[0].hasPrefix("WELCOME "), "\(registered)")
        #expect(registered.last?.hasPrefix(#"ERR {"code":"forbidden""#) == true)
        #expect(registered.last?.contains("node certificate is for node \(attacker)") == true)
        #expect(closed1)
        let (beat, closed2) = try await exchange(c, tls: tls, [Self.agentHello, #"HEARTBEAT {"node":"\#(victim)","running":0}"#])
        #expect(beat.last?.hasPrefix(#"ERR {"code":"forbidden""#) == true, "\(beat)")
        #expect(closed2)
        // A report for the victim's job, sent as the attacker's own node: acknowledged, and ignored.
        let exited = #"TASK_EXITED {"exit":{"exitCode":1},"ref":{"job":\#(job.rawValue),"task":0}}"#
        let (report, _) = try await exchange(c, tls: tls, [Self.agentHello, Self.register(attacker), exited], replies: 3)
        #expect(report.last == #"ACK_EXIT {"ref":{"job":\#(job.rawValue),"task":0}}"#, "\(report)")
        #expect(try await c.job(job).state == .running)
        #expect(try await c.job(job).node?.rawValue == victim)
        try await c.waitForNodes([victim], status: .ready)
        guard case .statusInfo(let s) = try await c.request(.status) else { throw TestFailure("no STATUS_INFO") }
        #expect(s.forbiddenAgentLines == 2)
        #expect(c.read(c.dir + "/schedd.log").contains("agent line forbidden"))
    }

    @Test("a second connection registering under a connected node's name without that node's certificate is refused: not with the admin token, not with another node's certificate")
    func noTakeoverOfAConnectedNode() async throws {
        let c = try await schedd()
        defer { c.shutdown() }
        let (file, _) = try c.createJoinToken(["--uses", "2"])
        try await join(c, "n1", .joinTokenFile(file))
        try await join(c, "n2", .joinTokenFile(file))
        let admin = try c.endpoint().tls
        let adminHello = #"HELLO {"protocol":1,"role":"agent","token":"\#(try c.adminToken())"}"#
        let (byAdmin, closed) = try await exchange(c, tls: admin, [adminHello, Self.register("n1")])
        #expect(byAdmin.last?.hasPrefix(#"ERR {"code":"forbidden""#) == true, "\(byAdmin)")
        #expect(byAdmin.last?.contains("connected with its node certificate") == true)
        #expect(closed)
        let (byOther, _) = try await exchange(c, tls: try nodeTLS(c, "n2"), [Self.agentHello, Self.register("n1")])
        #expect(byOther.last?.hasPrefix(#"ERR {"code":"forbidden""#) == true)
        // n1 kept its own connection all along.
        #expect(!c.agentLog("n1").contains("schedd closed the connection"))
        try await c.waitForNodes(["n1", "n2"], status: .ready)
        // The admin token still registers a name nobody holds (a cluster admin acts for any node).
        let (free, _) = try await exchange(c, tls: admin, [adminHello, Self.register("spare")], replies: 2)
        #expect(free.last?.hasPrefix("REGISTERED ") == true, "\(free)")
    }

    @Test("schedctl node revoke: the node's connection closes, its job is requeued and runs elsewhere, the agent stops the task (even with --keep-tasks-on-stop) and exits non-zero, and the certificate is refused from then on")
    func revokeNode() async throws {
        let c = try await schedd()
        defer { c.shutdown() }
        let (file, _) = try c.createJoinToken()
        // This agent runs its task for real, and would leave it running when it stops.
        try c.startAgent("n1", xml: Self.dgx2, extra: ["--keep-tasks-on-stop"], credential: .joinTokenFile(file))
        try await c.waitForNodes(["n1"], status: .ready)
        let marker = c.dir + "/task.pid"
        let job = try await c.submit(JobSpec(command: ["sh", "-c", "echo $$ > \(marker); exec sleep 600"], resources: ResourceRequest(cpus: 1)))
        #expect(try await c.waitForState(job, .running).node == "n1")
        let pid = try await eventually("the task to write its pid") { Int32(c.read(marker).trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(kill(pid, 0) == 0)
        let serial = try NodeCertificate(pem: c.read(c.agentWorkDir("n1") + "/node.pem")).serial

        let (status, out, err) = try c.schedctl(["node", "revoke", "n1"])
        #expect(status == 0, "\(err)")
        #expect(out.contains("node n1 revoked (certificate \(serial)); 1 job requeued, 0 jobs ended"), "\(out)")
        // The agent's connection was closed; its certificate is refused and it has no join token
        // left (it used its own), so it stops its tasks and exits non-zero.
        #expect(try await c.waitForExit("n1") != 0)
        #expect(c.agentLog("n1").contains("was revoked"))
        // Its task was stopped: it would otherwise run twice, here and where it is requeued.
        _ = try await eventually("the revoked node's task to be gone") { kill(pid, 0) != 0 ? true : nil }
        let requeued = try await c.job(job)
        #expect(requeued.state == .pending && requeued.node == nil)
        #expect(try await c.nodes().first { $0.name == "n1" }?.status == .down)
        #expect(try await certificates(c, "n1").first?.revokedAtMs != nil)

        // The job runs on another node once there is one (held by --no-exec, it ends at once there).
        try c.startAgent("spare", xml: Self.dgx2, extra: ["--no-exec"])
        #expect(try await c.waitTerminal(job).node == "spare")

        // The certificate cannot come back: not through the agent, not by hand.
        try c.startAgent("n1", xml: Self.dgx2, extra: ["--no-exec"], credential: .none)
        #expect(try await c.waitForExit("n1") != 0)
        #expect(c.agentLog("n1").contains("revoked"))
        let (replies, closed) = try await exchange(c, tls: try nodeTLS(c, "n1"), [Self.agentHello, Self.register("n1")])
        #expect(replies.count == 1 && replies[0].hasPrefix(#"ERR {"code":"unauthenticated""#) && replies[0].contains("revoked"), "\(replies)")
        #expect(closed)
        let (_, auditJSON, _) = try c.schedctl(["audit", "-o", "json"])
        let audit = try JSONDecoder().decode([AuditRecord].self, from: Data(auditJSON.utf8))
        #expect(audit.contains { $0.verb == "NODE_REVOKE" && $0.object == "node n1 (certificates \(serial))" && $0.outcome == "ok" })

        // A new join token brings it back under its name, with a new certificate.
        let (again, _) = try c.createJoinToken(file: "join2.token")
        try await join(c, "n1", .joinTokenFile(again))
        #expect(try NodeCertificate(pem: c.read(c.agentWorkDir("n1") + "/node.pem")).serial != serial)
        #expect(try await certificates(c, "n1").count == 2)
        // Only a cluster admin revokes.
        let viewer = try c.schedctl(["token", "create", "--tenant", "t", "--role", "viewer"]).1.trimmingCharacters(in: .whitespacesAndNewlines)
        let (s2, _, err2) = try c.schedctl(["node", "revoke", "n1"], environment: ["SCHED_TOKEN": viewer])
        #expect(s2 != 0 && err2.contains("NODE_REVOKE needs role cluster-admin"), "\(err2)")
    }

    @Test("an agent restarted after joining uses its certificate: no token, no new join")
    func restartReusesTheCertificate() async throws {
        let c = try await schedd()
        defer { c.shutdown() }
        let (file, _) = try c.createJoinToken()
        try await join(c, "n1", .joinTokenFile(file))
        let serial = try await certificates(c).first?.serial
        let agent = try #require(c.agents["n1"])
        agent.terminate()
        agent.waitUntilExit()
        try await c.waitForNodes(["n1"], status: .down)
        try c.startAgent("n1", xml: Self.dgx2, extra: ["--no-exec"], credential: .none)
        try await c.waitForNodes(["n1"], status: .ready)
        #expect(c.agentLog("n1").contains("using the node certificate"))
        #expect(try await certificates(c).map(\.serial) == [serial].compactMap { $0 })
        // The join token was used once, by the first start.
        #expect(try tokens(c).first { $0.kind == "agent" }?.usesLeft == 0)
    }

    @Test("--emulate 3 with one --uses 3 join token: each node joins with its own key and certificate in its own directory")
    func emulatedFleetJoins() async throws {
        let c = try await schedd()
        defer { c.shutdown() }
        let (_, token) = try c.createJoinToken(["--uses", "3"])
        _ = try c.startEmulated("emu", count: 3, prefix: "emu", xml: Self.dgx2, credential: .joinTokenEnvironment(token))
        let names = ["emu-00000", "emu-00001", "emu-00002"]
        try await c.waitForNodes(Set(names), status: .ready)
        var serials = Set<String>()
        for n in names {
            let dir = c.dir + "/emu/" + n
            let cert = try NodeCertificate(pem: c.read(dir + "/node.pem"))
            #expect(cert.nodeName == n)
            #expect(SecretFile.mode(of: dir + "/node.key") == 0o600)
            serials.insert(cert.serial)
        }
        #expect(serials.count == 3)
        #expect(Set(try await certificates(c).map(\.serial)) == serials)
        #expect(try tokens(c).first { $0.kind == "agent" }?.usesLeft == 0)
        #expect(!c.processLog("emu").contains(token))
    }
}
}
