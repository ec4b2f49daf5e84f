import Foundation
import SchedCore
import SchedProtocol
import Testing
import SchedIntegrationSupport

/// Tasks run as their users. Through schedd (which sends no user yet: `nobody`), and through a
/// scripted schedd that sends what later phases will (`user`). They need the agent to run as
/// root, as CI's does; elsewhere they are skipped, saying so.
extension Integration {
@Suite(.serialized, .enabled(if: geteuid() == 0, "needs root: only an agent running as root switches users"))
struct RunAsIntegrationTests {
    /// `id -u`, `id -g`, `id -G` of `user`, as this host's tools say.
    static func ids(_ user: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "id -u \(user); id -g \(user); id -G \(user)"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return text
    }

    static func owner(_ path: String) -> UInt32? {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_uid : nil
    }

    /// The task's identity, and whether it could become root again.
    static let whoami = ["sh", "-c", "id -u; id -g; id -G; /usr/bin/python3 -c 'import os; os.setuid(0)' 2>&1 | tail -1"]

    /// A scripted schedd and a real agent on this host (emulating `xml` when given).
    /// `agentUser`: the uid the agent runs as, given its token file (0600, as an operator would
    /// install it for that user).
    static func scripted(_ c: TestCluster, node: String = "n1", launcher: [String] = [], agentUser: uid_t? = nil) async throws -> ScriptedScheduler {
        let s = try await ScriptedScheduler(stateDir: c.stateDir)
        c.port = s.port
        if let uid = agentUser, chown(c.tokenFile, uid, gid_t(uid)) != 0 {
            throw TestFailure("cannot give \(c.tokenFile) to uid \(uid): errno \(errno)")
        }
        try c.startAgent(node, extra: [], launcher: launcher)
        _ = try await s.registration()
        return s
    }

    static func started(_ m: Message) throws -> TaskStarted {
        guard case .taskStarted(let t) = m else { throw TestFailure("expected TASK_STARTED, got \(m)") }
        return t
    }

    @Test("a job from schedd (no user) runs as nobody: its ids, its output files' owner, the uid it reports; it cannot become root")
    func nobodyByDefault() async throws {
        let c = try TestCluster()
        defer { c.shutdown() }
        try await c.startSchedd()
        try c.startAgent("host")
        try await c.waitForNodes(["host"], status: .ready)
        let id = try await c.submit(JobSpec(command: Self.whoami))
        let j = try await c.waitTerminal(id)
        #expect(j.state == .completed)
        let lines = c.read(try #require(j.stdoutPath)).split(separator: "\n").map(String.init)
        #expect(lines.prefix(3).joined(separator: "\n") + "\n" == (try Self.ids("nobody")))
        #expect(lines.last?.hasPrefix("PermissionError") == true, "\(lines)")
        let (stdout, stderr) = (try #require(j.stdoutPath), try #require(j.stderrPath))
        #expect(Self.owner(stdout) == 65534 && Self.owner(stderr) == 65534)
        #expect(j.hostBinding?.uid == 65534)
        #expect(c.agentLog("host").contains("tasks run as their users (the agent is root)"))
    }

    /// A system user with a group of its own and two supplementary groups, made once per host
    /// (`useradd`): what the switch must give a task, beyond its uid, is exactly these groups.
    static let testUser = "sched-test-user"
    static func ensureTestUser() throws -> UInt32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "id -u \(testUser) >/dev/null 2>&1 || useradd --system --no-create-home --user-group --groups daemon,sys \(testUser); id -u \(testUser)"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard let uid = UInt32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw TestFailure("no \(testUser): \(text)") }
        return uid
    }

    @Test("START_TASK with a user runs as that user with its primary and supplementary groups; root only when it says root")
    func namedUsers() async throws {
        let uid = try Self.ensureTestUser()
        let c = try TestCluster()
        defer { c.shutdown() }
        let s = try await Self.scripted(c)
        defer { Task { await s.close() } }
        try await s.send(ScriptedScheduler.startTask(job: 1, node: "n1", command: Self.whoami, user: Self.testUser))
        let t = try Self.started(try await s.startReply(job: 1))
        #expect(t.binding.uid == uid)
        #expect(try await s.exit(job: 1) == TaskExit(exitCode: 0))
        let lines = c.read(t.stdoutPath).split(separator: "\n").map(String.init)
        let expected = try Self.ids(Self.testUser)
        #expect(lines.prefix(3).joined(separator: "\n") + "\n" == expected)
        #expect(expected.split(separator: "\n")[2].split(separator: " ").count == 3, "\(expected)")  // its own group, daemon, sys
        #expect(lines.last?.hasPrefix("PermissionError") == true, "\(lines)")
        #expect(Self.owner(t.stdoutPath) == uid)
        try await s.send(ScriptedScheduler.startTask(job: 4, node: "n1", command: ["id", "-u"], user: "daemon"))
        let daemon = try Self.started(try await s.startReply(job: 4))
        #expect(daemon.binding.uid == 1)
        _ = try await s.exit(job: 4)
        #expect(c.read(daemon.stdoutPath) == "1\n")
        try await s.send(ScriptedScheduler.startTask(job: 2, node: "n1", command: ["id", "-u"], user: "root"))
        let root = try Self.started(try await s.startReply(job: 2))
        #expect(root.binding.uid == 0)
        _ = try await s.exit(job: 2)
        #expect(c.read(root.stdoutPath) == "0\n")
    }

    @Test("an unknown user fails the task with 'no such user X on node N'; a working directory the user may not enter fails it with the reason")
    func failures() async throws {
        let c = try TestCluster()
        defer { c.shutdown() }
        let s = try await Self.scripted(c)
        defer { Task { await s.close() } }
        try await s.send(ScriptedScheduler.startTask(job: 1, node: "n1", command: ["true"], user: "no-such-user-sched"))
        guard case .taskExited(let e) = try await s.startReply(job: 1) else { throw TestFailure("expected TASK_EXITED") }
        #expect(e.exit == TaskExit(error: "no such user no-such-user-sched on node n1"))
        let hidden = c.dir + "/root-only"
        try FileManager.default.createDirectory(atPath: hidden, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try await s.send(ScriptedScheduler.startTask(job: 2, node: "n1", command: ["true"], user: "nobody", workdir: hidden))
        let t = try Self.started(try await s.startReply(job: 2))
        let why = "cannot change to working directory \(hidden) as user nobody (uid 65534): Permission denied"
        #expect(try await s.exit(job: 2) == TaskExit(exitCode: 126, error: why))
        #expect(c.read(t.stderrPath) == "sched-agent: \(why)\n")
        // As its owner the same directory is fine.
        try await s.send(ScriptedScheduler.startTask(job: 3, node: "n1", command: ["pwd"], user: "root", workdir: hidden))
        let ok = try Self.started(try await s.startReply(job: 3))
        #expect(try await s.exit(job: 3) == TaskExit(exitCode: 0))
        #expect(c.read(ok.stdoutPath) == hidden + "\n")
    }

    @Test("an agent that is not root runs every task as itself and says so; it gets no cgroups",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "needs setpriv (util-linux) to start the agent as daemon"))
    func unprivilegedAgent() async throws {
        let c = try TestCluster()
        defer { c.shutdown() }
        let s = try await Self.scripted(c, launcher: ["/usr/bin/setpriv", "--reuid=1", "--regid=1", "--init-groups"], agentUser: 1)
        defer { Task { await s.close() } }
        try await s.send(ScriptedScheduler.startTask(job: 1, node: "n1", command: ["id", "-u"], user: "root"))
        let t = try Self.started(try await s.startReply(job: 1))
        #expect(t.binding.uid == 1)
        #expect(try await s.exit(job: 1) == TaskExit(exitCode: 0))
        #expect(c.read(t.stdoutPath) == "1\n")
        let log = c.agentLog("n1")
        #expect(log.contains("tasks run as this agent's user: it is not root, so it cannot switch to theirs") && log.contains("uid=1"))
        #expect(log.contains("no task cgroups"))
    }
}
}
