import Foundation
import SchedClient
import SchedNet
import SchedProtocol
import SchedTrust
import X509
import Testing
import SchedIntegrationSupport

extension Integration {
/// TLS and tokens at the real schedd: what a peer gets without TLS, without a token, with a
/// wrong one, trusting another CA, or never finishing the handshake; the files schedd writes.
@Suite(.serialized)
struct TrustIntegrationTests {
    /// schedd alone (no agents): what these tests talk to.
    func schedd(_ args: [String] = []) async throws -> TestCluster {
        let c = try TestCluster()
        c.scheddArgs = args
        try await c.startSchedd()
        return c
    }

    /// Sends `lines` over TLS (trusting schedd's CA) and reads until schedd closes, or until
    /// `replies` lines arrived.
    func tlsExchange(_ c: TestCluster, _ lines: [String], replies wanted: Int = .max) async throws -> (replies: [String], closed: Bool) {
        let connection = try await LineClient.connect(c.address, tls: try c.endpoint().tls)
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

    @Test("plain TCP is refused: a HELLO line without TLS is answered with no line and the connection closed")
    func plainTCPRefused() async throws {
        let c = try await schedd()
        defer { c.shutdown() }
        let raw = try RawTCP(port: c.port)
        try raw.send("HELLO {\"protocol\":1,\"role\":\"client\",\"token\":\"\(try c.adminToken())\"}\nSTATUS\n")
        let result = try #require(await raw.readUntilClosed())
        // At most a TLS alert record (content type 21), never a protocol line.
        #expect(result.bytes.isEmpty || result.bytes.first == 21)
        #expect(!String(decoding: result.bytes, as: UTF8.self).contains("WELCOME"))
        #expect(!result.bytes.contains(UInt8(ascii: "\n")))
        // schedd still serves TLS clients.
        guard case .statusInfo = try await c.request(.status) else { throw TestFailure("no STATUS_INFO") }
    }

    @Test("a peer that opens TCP and never handshakes is closed after --tls-handshake-timeout-ms")
    func handshakeDeadline() async throws {
        let c = try await schedd(["--tls-handshake-timeout-ms", "400"])
        defer { c.shutdown() }
        let raw = try RawTCP(port: c.port)
        let result = try #require(await raw.readUntilClosed(), "schedd did not close a silent peer")
        #expect(result.bytes.isEmpty)
        #expect(result.after >= .milliseconds(350))
        #expect(result.after < .seconds(4), "closed after \(result.after), long after the 400 ms deadline")
    }

    @Test("TLS with no token, or a token schedd does not know, gets ERR unauthenticated and is closed")
    func tokenRequired() async throws {
        let c = try await schedd()
        defer { c.shutdown() }
        for hello in ["HELLO {\"protocol\":1,\"role\":\"client\"}",
                      "HELLO {\"protocol\":1,\"role\":\"agent\",\"token\":\"\(BearerToken.generate().secret)\"}",
                      "HELLO {\"protocol\":1,\"role\":\"client\",\"token\":\"\"}"] {
            let (replies, closed) = try await tlsExchange(c, [hello, "STATUS"])
            #expect(replies.count == 1, "\(replies)")
            #expect(replies.first?.hasPrefix("ERR {\"code\":\"unauthenticated\"") == true, "\(replies)")
            #expect(closed)
        }
        // The admin token works, on the same schedd.
        let (replies, _) = try await tlsExchange(c, ["HELLO {\"protocol\":1,\"role\":\"client\",\"token\":\"\(try c.adminToken())\"}", "PING"], replies: 2)
        #expect(replies == ["WELCOME {\"protocol\":1,\"software\":\"\(WireProtocol.software)\"}", "PONG {}"])
        // Neither the wrong token nor the admin token appears in schedd's log.
        #expect(!c.read(c.dir + "/schedd.log").contains(try c.adminToken()))
        #expect(!c.read(c.dir + "/schedd.log").contains("sched_"))
    }

    @Test("schedctl: the admin token works from SCHED_TOKEN, --token and --token-file; without one it says where to get one")
    func schedctlCredentials() async throws {
        let c = try await schedd()
        defer { c.shutdown() }
        let (s1, out1, _) = try c.schedctl(["status"])
        #expect(s1 == 0 && out1.contains("nodes"), "\(out1)")
        let (s2, _, _) = try c.schedctl(["status", "--token-file", c.tokenFile], environment: ["SCHED_TOKEN": nil])
        #expect(s2 == 0)
        let (s3, _, _) = try c.schedctl(["status", "--token", try c.adminToken()], environment: ["SCHED_TOKEN": nil])
        #expect(s3 == 0)
        let (s4, _, err4) = try c.schedctl(["status"], environment: ["SCHED_TOKEN": nil])
        #expect(s4 != 0)
        #expect(err4.contains("no token") && err4.contains("admin.token") && err4.contains("SCHED_TOKEN"), "\(err4)")
        let (s5, _, err5) = try c.schedctl(["status"], environment: ["SCHED_TOKEN": BearerToken.generate().secret])
        #expect(s5 != 0)
        #expect(err5.contains("unknown token") && err5.contains("admin.token"), "\(err5)")
    }

    @Test("a client that trusts another CA fails with 'certificate not trusted' naming its CA file")
    func wrongCA() async throws {
        let c = try await schedd()
        defer { c.shutdown() }
        let otherCA = c.dir + "/other-ca.pem"
        try SecretFile.write(try ClusterCA.generate().certificatePEM, to: otherCA, mode: SecretFile.publicMode)
        let (status, _, err) = try c.schedctl(["status"], environment: ["SCHED_CA": otherCA])
        #expect(status != 0)
        #expect(err.contains("certificate not trusted") && err.contains(otherCA), "\(err)")
        // The same through the client library: the error names the file too.
        let endpoint = try SchedEndpoint(address: c.address, caFile: otherCA, token: try c.adminToken())
        await #expect { try await SchedClient.with(endpoint) { s in try await s.request(.status) } } throws: { e in
            "\(e)".contains("certificate not trusted by the CA in \(otherCA)")
        }
    }

    @Test("an agent with a token schedd does not know is refused and never registers; with the admin token it does")
    func agentToken() async throws {
        let c = try await schedd()
        defer { c.shutdown() }
        let bad = c.dir + "/bad.token"
        try SecretFile.write(BearerToken.generate().secret + "\n", to: bad, mode: SecretFile.secretMode)
        try c.startAgent("intruder", xml: "nvidiaDGX2.xml", extra: ["--token-file", bad])
        _ = try await eventually("the agent to be refused") {
            c.read(c.dir + "/agent-intruder.log").contains("unauthenticated") ? true : nil
        }
        #expect(try await c.nodes().isEmpty)
        try c.startAgent("dgx2", xml: "nvidiaDGX2.xml")
        try await c.waitForNodes(["dgx2"], status: .ready)
        #expect(try await c.nodes().map(\.name.rawValue) == ["dgx2"])
        // The agent logs at debug level (its services and config included): never the token.
        #expect(!c.read(c.dir + "/agent-dgx2.log").contains(try c.adminToken()))
        #expect(!c.read(c.dir + "/agent-intruder.log").contains(c.read(bad).trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    @Test("the state directory: ca.pem 0644, keys, token and store 0600; reused on restart; a new --tls-san reissues server.pem; deleting admin.token rotates it")
    func stateFiles() async throws {
        let c = try await schedd()
        defer { c.shutdown() }
        let s = c.stateDir
        #expect(SecretFile.mode(of: s + "/ca.pem") == 0o644)
        #expect(SecretFile.mode(of: s + "/server.pem") == 0o644)
        for f in ["ca.key", "server.key", "admin.token", "schedd.sqlite"] {
            #expect(SecretFile.mode(of: s + "/" + f) == 0o600, "\(f)")
        }
        let ca = c.read(s + "/ca.pem"), server = c.read(s + "/server.pem"), token = try c.adminToken()
        #expect(BearerToken(token) != nil)

        // A restart reuses everything.
        c.killSchedd9()
        try await c.startSchedd()
        let tokenAfterRestart = try c.adminToken()
        #expect(c.read(s + "/ca.pem") == ca && c.read(s + "/server.pem") == server && tokenAfterRestart == token)
        guard case .statusInfo = try await c.request(.status) else { throw TestFailure("no STATUS_INFO") }

        // Another name: the same CA signs a new serving certificate that carries it.
        c.scheddArgs = ["--tls-san", "schedd.example", "--tls-san", "192.0.2.7"]
        c.killSchedd9()
        try await c.startSchedd()
        #expect(c.read(s + "/ca.pem") == ca)
        let reissued = c.read(s + "/server.pem")
        #expect(reissued != server)
        let names = ServerNames(of: try Certificate(pemEncoded: reissued))
        #expect(names.dnsNames.contains("schedd.example") && names.ipAddresses.contains("192.0.2.7"))
        #expect(names.dnsNames.contains("localhost") && names.ipAddresses.contains("127.0.0.1"))
        var byName = try c.endpoint()
        byName.tls.serverName = "schedd.example"
        guard case .statusInfo = try await SchedClient.with(byName, { try await $0.request(.status) }) else { throw TestFailure("no STATUS_INFO") }

        // Rotation: delete admin.token and restart; the old token is refused, the new one works.
        try FileManager.default.removeItem(atPath: c.tokenFile)
        c.killSchedd9()
        try await c.startSchedd()
        let rotated = try c.adminToken()
        #expect(rotated != token)
        #expect(SecretFile.mode(of: c.tokenFile) == 0o600)
        await #expect { try await SchedClient.with(try c.endpoint(token: token)) { try await $0.request(.status) } } throws: { e in
            (e as? ClientError)?.code == .unauthenticated
        }
        guard case .statusInfo = try await c.request(.status) else { throw TestFailure("no STATUS_INFO") }
    }
}
}
