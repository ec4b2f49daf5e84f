import Foundation
import SchedClient
import SchedCore
import SchedProtocol
import Testing
import SchedIntegrationSupport

extension Integration {
/// Abuse limits at the real schedd. What a peer that never proves who it is may hold: connections
/// from one address beyond `--max-connections-per-peer` are closed at accept; after TLS a peer has
/// `--hello-timeout-ms` to send its HELLO; a client silent between requests, or trickling a line
/// one byte at a time (slowloris), is closed after `--client-idle-timeout-ms`. Each closure is
/// counted in `schedctl status`. Oversized submissions and lines that are not UTF-8 are refused
/// whole. The attackers are real sockets: plain TCP from a second loopback address, and a Python
/// TLS client.
@Suite(.serialized)
struct ConnectionLimitIntegrationTests {
    /// A TLS client in Python (its own TLS stack, so it can send part of a line): `hello` reads
    /// the token from stdin and says HELLO, then `silent` sends nothing more and `trickle` sends
    /// one byte every 50 ms with no newline. Prints `closed after N bytes` once schedd closes the
    /// connection; exits 1 if schedd never does within 30 s (the test's bound).
    static let attacker = #"""
    import select, socket, ssl, sys, time
    port, ca, hello, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "hello", sys.argv[4]
    ctx = ssl.create_default_context(cafile=ca)
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1")
    if hello:
        token = sys.stdin.readline().strip()
        s.sendall(('HELLO {"protocol":1,"role":"client","token":"%s"}\n' % token).encode())
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk: sys.exit("closed before WELCOME")
            reply += chunk
        if not reply.startswith(b"WELCOME"): sys.exit("no WELCOME: %r" % reply)
    if mode.startswith("raw:"):
        s.sendall(bytes.fromhex(mode[4:]))
        reply = b""
        while reply.count(b"\n") < 2:
            chunk = s.recv(4096)
            if not chunk: break
            reply += chunk
        print(reply.decode())
        sys.exit(0)
    sent, start = 0, time.monotonic()
    while time.monotonic() - start < 30:
        if mode == "trickle":
            try:
                s.sendall(b"S")
                sent += 1
            except OSError:
                break
        readable, _, _ = select.select([s], [], [], 0.05)
        if readable:
            try:
                if s.recv(4096) == b"": break
            except (OSError, ssl.SSLError):
                break
    else:
        sys.exit("still open after 30 s")
    print("closed after %d bytes" % sent)
    """#

    /// Runs the attacker; its output, once schedd closed it.
    static func attack(_ c: TestCluster, hello: Bool, mode: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", attacker, "\(c.port)", c.caFile, hello ? "hello" : "none", mode]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = output
        try p.run()
        // The token goes on stdin, never in argv.
        input.fileHandleForWriting.write(Data((try c.adminToken() + "\n").utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw TestFailure("attacker (\(mode)) failed: \(text)") }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func limitsHit(_ c: TestCluster) async throws -> [String: Int] {
        guard case .statusInfo(let s) = try await c.request(.status) else { throw TestFailure("no STATUS_INFO") }
        return s.limitsHit ?? [:]
    }

    @Test("a flood from one address is refused at accept beyond --max-connections-per-peer while those let in stay; schedctl and a new agent from another address are served; status counts the refusals")
    func connectionFlood() async throws {
        let c = try TestCluster()
        defer { c.shutdown() }
        // A long handshake deadline, so the connections let in are still open when checked.
        c.scheddArgs = ["--max-connections-per-peer", "8", "--tls-handshake-timeout-ms", "60000"]
        try await c.startSchedd()
        let admitted = try (0..<8).map { _ in try RawTCP(port: c.port, from: "127.0.0.2") }
        // The eighth is accepted (not only queued by the kernel) once a later one is refused:
        // schedd takes connections in order.
        var refused: [RawTCP] = []
        for _ in 0..<12 {
            let r = try RawTCP(port: c.port, from: "127.0.0.2")
            let closed = try #require(await r.readUntilClosed(limit: .seconds(20)), "a connection over the per-peer limit was not closed")
            #expect(closed.bytes.isEmpty, "a refused peer is sent nothing, not even a TLS alert")
            refused.append(r)
        }
        #expect(admitted.allSatisfy { !$0.isClosedByPeer }, "the connections within the limit stay open until their handshake deadline")
        // 127.0.0.1 is another peer: schedctl and a registering agent get through.
        try c.startAgent("host")
        try await c.waitForNodes(["host"], status: .ready)
        let (code, out, err) = try c.schedctl(["status"])
        #expect(code == 0, "\(err)")
        #expect(out.contains("connections_per_peer"), "\(out)")
        #expect(try await limitsHit(c)["connections_per_peer"] == 12)
    }

    @Test("after TLS a peer has --hello-timeout-ms to say HELLO; a client silent between requests, or trickling a line without its newline, is closed after --client-idle-timeout-ms; a WAIT longer than that is answered; all counted")
    func deadlines() async throws {
        let c = try TestCluster()
        defer { c.shutdown() }
        c.scheddArgs = ["--hello-timeout-ms", "300", "--client-idle-timeout-ms", "600"]
        try await c.startSchedd()
        try c.startAgent("host")
        try await c.waitForNodes(["host"], status: .ready)

        #expect(try Self.attack(c, hello: false, mode: "silent") == "closed after 0 bytes")
        #expect(try Self.attack(c, hello: true, mode: "silent") == "closed after 0 bytes")
        let trickled = try Self.attack(c, hello: true, mode: "trickle")
        let bytes = try #require(Int(trickled.split(separator: " ")[2]), "\(trickled)")
        // 600 ms of one byte per 50 ms, give or take scheduling; never a whole minute of it.
        #expect(bytes >= 3 && bytes < 600, "\(trickled)")

        // A WAIT is a request being answered, not silence: a job that outlasts the idle timeout.
        let id = try await c.submit(JobSpec(command: ["sleep", "1.5"]))
        let done = try await c.waitTerminal(id)
        #expect(done.state == .completed)

        let hit = try await limitsHit(c)
        #expect(hit["hello_timeout"] == 1, "\(hit)")
        #expect(hit["connections_per_peer"] == nil && hit["connections_total"] == nil, "\(hit)")
        #expect(hit["idle_timeout"] == 2, "\(hit)")
    }

    @Test("a SUBMIT whose line is not valid UTF-8 gets ERR invalid_utf8 and creates no job; the connection goes on")
    func invalidUTF8() async throws {
        let c = try TestCluster()
        defer { c.shutdown() }
        try await c.startSchedd()
        // The spec's argument holds a Latin-1 "é" (0xE9): before, it was stored as U+FFFD.
        let line = Array(#"SUBMIT {"spec":{"command":["echo","caf"#.utf8) + [0xE9] + Array(#""]}}"#.utf8) + [0x0A]
            + Array("PING {}\n".utf8)
        let hex = line.map { String(format: "%02x", $0) }.joined()
        let reply = try Self.attack(c, hello: true, mode: "raw:" + hex)
        let replies = reply.split(separator: "\n").map(String.init)
        #expect(replies.first?.hasPrefix(#"ERR {"code":"invalid_utf8""#) == true, "\(reply)")
        #expect(replies.dropFirst().first == "PONG {}", "\(reply)")
        guard case .jobList(let l) = try await c.request(.listJobs(ListJobs())) else { throw TestFailure("no JOB_LIST") }
        #expect(l.jobs.isEmpty)
        guard case .statusInfo(let s) = try await c.request(.status) else { throw TestFailure("no STATUS_INFO") }
        #expect(s.rejectedLines == 1)
    }

    @Test("an oversized submission (array: 100000, a batch of 3 × 100,000) is refused whole with ERR limit_exceeded: no job stored, counted")
    func oversizedBatch() async throws {
        let c = try TestCluster()
        defer { c.shutdown() }
        try await c.startSchedd()
        let (code, _, err) = try c.schedctl(["run", "--array", "100000", "--", "true"])
        #expect(code != 0 && err.contains("100000 jobs in one request; the limit is 10000"), "\(err)")
        var big = JobSpec(command: ["true"])
        big.array = 100_000
        do {
            let reply = try await c.request(.submitBatch(SubmitBatch(specs: [big, big, big])))
            Issue.record("expected ERR limit_exceeded, got \(reply)")
        } catch let e as ClientError {
            #expect(e.code == .limitExceeded && e.description.contains("300000 jobs"), "\(e)")
        }
        guard case .jobList(let l) = try await c.request(.listJobs(ListJobs())) else { throw TestFailure("no JOB_LIST") }
        #expect(l.jobs.isEmpty)
        #expect(try await limitsHit(c)["jobs-per-request"] == 2)
    }
}
}
