import Foundation
import SchedClient
import SchedCore
import SchedNet
import SchedProtocol
import SchedTrust

/// Starts the real `schedd` and `sched-agent` binaries on 127.0.0.1 in a scratch directory and
/// talks to them over the real protocol. Everything it starts is killed by `shutdown()`.
public final class TestCluster: @unchecked Sendable {
    public static let binDir: String = {
        if let d = ProcessInfo.processInfo.environment["SCHED_BIN_DIR"] { return d }
        let argv0 = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = argv0.deletingLastPathComponent()
        for _ in 0..<4 {
            if FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("schedd").path) { return dir.path }
            dir = dir.deletingLastPathComponent()
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug").path
    }()

    /// Path of an hwloc XML in Tests/IntegrationTests/Fixtures, the topologies emulated agents load.
    public static func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("IntegrationTests/Fixtures/\(name)").path
    }

    public let dir: String
    public var port = 0
    public var schedd: Process?
    public var agents: [String: Process] = [:]
    /// Extra schedd arguments (kept across restarts).
    public var scheddArgs: [String] = []
    /// The agents' `--cgroup-parent`, this cluster's own: agents of other clusters on the host
    /// (other test runs) never take its task cgroups for stale ones.
    public let cgroupParent: String

    public init() throws {
        let id = UUID().uuidString.prefix(8)
        dir = NSTemporaryDirectory() + "sched-it-" + id
        cgroupParent = "sched-it-" + id
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // Under an agent running as root, tasks run as `nobody`; the tests' tasks write their
        // markers here.
        chmod(dir, 0o1777)
    }

    public var address: HostPort { HostPort(host: "127.0.0.1", port: port) }
    /// schedd's state directory, and the CA certificate and admin token it writes there on its first start.
    public var stateDir: String { dir + "/state" }
    public var caFile: String { stateDir + "/ca.pem" }
    public var tokenFile: String { stateDir + "/admin.token" }
    /// The admin token (read from `tokenFile`).
    public func adminToken() throws -> String { try SchedEndpoint.readToken(file: tokenFile) }
    /// How the tests' own client reaches schedd: TLS trusting `caFile`, HELLO with the admin token.
    public func endpoint(token: String? = nil) throws -> SchedEndpoint {
        try SchedEndpoint(address: address, caFile: caFile, token: try token ?? adminToken())
    }

    private func spawn(_ exe: String, _ args: [String], log: String, launcher: [String] = [],
                       environment: [String: String] = [:]) throws -> Process {
        let p = Process()
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new } }
        if let first = launcher.first {
            p.executableURL = URL(fileURLWithPath: first)
            p.arguments = Array(launcher.dropFirst()) + [Self.binDir + "/" + exe] + args
        } else {
            p.executableURL = URL(fileURLWithPath: Self.binDir + "/" + exe)
            p.arguments = args
        }
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let h = FileHandle(forWritingAtPath: log)!
        h.seekToEndOfFile()
        p.standardOutput = h
        p.standardError = h
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Starts schedd (on a free port the first time, on the same port after a restart).
    public func startSchedd() async throws {
        let portFile = dir + "/port"
        try? FileManager.default.removeItem(atPath: portFile)
        schedd = try spawn("schedd", ["--listen", "127.0.0.1:\(port)", "--state-dir", stateDir, "--port-file", portFile,
                                      "--heartbeat-ms", "200", "--node-timeout-ms", "4000", "--log-level", "debug"] + scheddArgs,
                           log: dir + "/schedd.log")
        port = try await eventually("schedd to listen") {
            (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
    }

    /// What an agent started by the tests authenticates with. Tokens never go in its argv.
    public enum AgentCredential: Sendable {
        /// `--token-file` with the cluster-admin token (what every test used before node certificates).
        case adminToken
        /// `--join-token-file FILE`.
        case joinTokenFile(String)
        /// `SCHED_JOIN_TOKEN` in its environment.
        case joinTokenEnvironment(String)
        /// Nothing: only what its work directory holds (a node certificate from an earlier join).
        case none

        var arguments: [String] {
            switch self {
            case .joinTokenFile(let f): ["--join-token-file", f]
            case .adminToken, .joinTokenEnvironment, .none: []
            }
        }
        var environment: [String: String] {
            if case .joinTokenEnvironment(let t) = self { ["SCHED_JOIN_TOKEN": t] } else { [:] }
        }
    }

    /// The work directory of the agent `startAgent` starts for `name`.
    public func agentWorkDir(_ name: String) -> String { dir + "/agent-\(name)" }

    /// Starts an agent; `xml` emulates that topology, nil discovers this host. `launcher` runs
    /// it (e.g. `setpriv --reuid=1 ...`: an agent that is not root).
    public func startAgent(_ name: String, xml: String? = nil, extra: [String] = [], launcher: [String] = [],
                           credential: AgentCredential = .adminToken) throws {
        var args = ["--scheduler", "127.0.0.1:\(port)", "--ca", caFile]
        if case .adminToken = credential { args += ["--token-file", tokenFile] }
        args += credential.arguments
        args += ["--node-name", name, "--work-dir", agentWorkDir(name),
                 "--max-backoff-ms", "300", "--log-level", "debug", "--cgroup-parent", cgroupParent]
        if let xml { args += ["--topology-xml", Self.fixture(xml)] }
        args += extra
        agents[name] = try spawn("sched-agent", args, log: dir + "/agent-\(name).log", launcher: launcher,
                                 environment: credential.environment)
    }

    /// Waits for a process the cluster started to exit; its exit status.
    public func waitForExit(_ name: String, timeout: Duration = .seconds(30)) async throws -> Int32 {
        guard let p = agents[name] else { throw TestFailure("no process \(name)") }
        return try await eventually("\(name) to exit", timeout: timeout) { p.isRunning ? nil : p.terminationStatus }
    }

    /// `schedctl token create --agent` with `args` (`--uses N`, `--ttl D`): the join token, written
    /// to a 0600 file in the cluster's directory; returns the file and the token.
    public func createJoinToken(_ args: [String] = [], file name: String = "join.token") throws -> (file: String, token: String) {
        let (status, out, err) = try schedctl(["token", "create", "--agent"] + args)
        guard status == 0 else { throw TestFailure("token create --agent failed: \(err)") }
        let token = out.trimmingCharacters(in: .whitespacesAndNewlines)
        let file = dir + "/" + name
        try SecretFile.write(token + "\n", to: file, mode: SecretFile.secretMode)
        return (file, token)
    }

    /// The agent's log so far.
    public func agentLog(_ name: String) -> String { read(dir + "/agent-\(name).log") }

    /// Starts `sched-agent --fleet FILE` (many emulated agents in one process) with `extra` arguments.
    public func startFleet(_ fleetFile: String, extra: [String] = []) throws -> Process {
        let p = try spawn("sched-agent", ["--scheduler", "127.0.0.1:\(port)", "--ca", caFile, "--token-file", tokenFile,
                                          "--fleet", fleetFile, "--work-dir", dir + "/fleet",
                                          "--max-backoff-ms", "300", "--log-level", "warning"] + extra, log: dir + "/fleet.log")
        agents["fleet"] = p
        return p
    }

    /// Starts `sched-agent --emulate N --topology-xml XML --no-exec` as `name`, its nodes
    /// named PREFIX-00000, ..., each in its own directory under `WORK/`, with `credential`.
    public func startEmulated(_ name: String, count: Int, prefix: String, xml: String, credential: AgentCredential,
                              extra: [String] = []) throws -> Process {
        var args = ["--scheduler", "127.0.0.1:\(port)", "--ca", caFile]
        if case .adminToken = credential { args += ["--token-file", tokenFile] }
        args += credential.arguments
        args += ["--emulate", "\(count)", "--topology-xml", Self.fixture(xml), "--node-name", prefix,
                 "--work-dir", dir + "/" + name, "--no-exec", "--max-backoff-ms", "300", "--log-level", "debug"] + extra
        let p = try spawn("sched-agent", args, log: dir + "/\(name).log", environment: credential.environment)
        agents[name] = p
        return p
    }

    /// The log of a process started as `name` (`startEmulated`).
    public func processLog(_ name: String) -> String { read(dir + "/\(name).log") }

    /// A `/proc/PID/status` field of schedd in bytes (`VmRSS`, `VmHWM`), nil when not running.
    public func scheddMemory(_ field: String) -> Int? {
        guard let p = schedd, let text = try? String(contentsOfFile: "/proc/\(p.processIdentifier)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }

    /// schedd + three agents: this host ("host"), the Kunpeng 920 ("kunpeng"), the DGX-2 ("dgx2").
    public static func standard(scheddArgs: [String] = [], dgx2Args: [String] = []) async throws -> TestCluster {
        let c = try TestCluster()
        c.scheddArgs = scheddArgs
        try await c.startSchedd()
        try c.startAgent("host")
        try c.startAgent("kunpeng", xml: "128arm-2pa2n8cluster4co.xml")
        try c.startAgent("dgx2", xml: "nvidiaDGX2.xml", extra: dgx2Args)
        try await c.waitForNodes(["dgx2", "host", "kunpeng"], status: .ready)
        return c
    }

    public func killSchedd9() {
        if let p = schedd { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        schedd = nil
    }

    public func shutdown() {
        for p in agents.values where p.isRunning { p.terminate(); p.waitUntilExit() }
        if let p = schedd, p.isRunning { p.terminate(); p.waitUntilExit() }
        // Task processes started by agents are in their own sessions: kill any left over.
        if let p = try? Process.run(URL(fileURLWithPath: "/usr/bin/pkill"), arguments: ["-KILL", "-f", dir]) { p.waitUntilExit() }
        removeCgroups()
    }

    /// Kills what is left in this cluster's task cgroups (an agent killed with -9 leaves them)
    /// and removes them, deepest first.
    func removeCgroups() {
        let script = """
            dirs=$(find /sys/fs/cgroup -depth -type d -path '*/\(cgroupParent)*' 2>/dev/null)
            [ -z "$dirs" ] && exit 0
            for d in $dirs; do for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done; done
            for i in $(seq 100); do
              left=0; for d in $dirs; do [ -d "$d" ] && { rmdir "$d" 2>/dev/null || left=1; }; done
              [ "$left" = 0 ] && exit 0; sleep 0.05
            done
            """
        if let p = try? Process.run(URL(fileURLWithPath: "/bin/sh"), arguments: ["-c", script]) { p.waitUntilExit() }
    }

    // MARK: talking to schedd

    public func request(_ m: Message) async throws -> Message {
        try await SchedClient.with(try endpoint()) { s in try await s.request(m) }
    }

    public func submit(_ spec: JobSpec) async throws -> JobID {
        guard case .submitted(let s) = try await request(.submit(Submit(spec: spec))) else { throw TestFailure("no SUBMITTED") }
        return s.job
    }

    public func job(_ id: JobID) async throws -> JobInfo {
        guard case .jobInfo(let j) = try await request(.getJob(JobRequest(job: id))) else { throw TestFailure("no JOB_INFO") }
        return j
    }

    public func waitTerminal(_ id: JobID) async throws -> JobInfo {
        guard case .jobInfo(let j) = try await request(.wait(JobRequest(job: id))) else { throw TestFailure("no JOB_INFO") }
        return j
    }

    public func nodes(topology: Bool = false) async throws -> [NodeInfo] {
        guard case .nodeList(let l) = try await request(.listNodes(ListNodes(topology: topology))) else { throw TestFailure("no NODE_LIST") }
        return l.nodes
    }

    public func waitForNodes(_ names: Set<String>, status: NodeStatus) async throws {
        _ = try await eventually("nodes \(names.sorted()) \(status.rawValue)") { () -> Bool? in
            let ns = try? await self.nodes()
            let ok = ns.map { l in names.allSatisfy { n in l.contains { $0.name.rawValue == n && $0.status == status } } } ?? false
            return ok ? true : nil
        }
    }

    public func waitForState(_ id: JobID, _ state: JobState) async throws -> JobInfo {
        try await eventually("job \(id) \(state.rawValue)") { () -> JobInfo? in
            let j = try? await self.job(id)
            return j?.state == state ? j : nil
        }
    }

    public func explain(_ id: JobID) async throws -> Explanation {
        guard case .explanation(let x) = try await request(.explain(JobRequest(job: id))) else { throw TestFailure("no EXPLANATION") }
        return x
    }

    /// Runs schedctl with SCHED_SCHEDULER, SCHED_CA and SCHED_TOKEN pointing at this cluster
    /// (`environment` changes them: nil removes one); returns (status, stdout, stderr). Its config
    /// file directory is this cluster's own, empty unless a test logs in there (`XDG_CONFIG_HOME`),
    /// so a config file of the user running the tests is never read.
    public func schedctl(_ args: [String], environment: [String: String?] = [:]) throws -> (Int32, String, String) {
        var env = ProcessInfo.processInfo.environment
        env["SCHED_SCHEDULER"] = "127.0.0.1:\(port)"
        env["SCHED_CA"] = caFile
        env["SCHED_TOKEN"] = try adminToken()
        env["XDG_CONFIG_HOME"] = dir + "/xdg-unused"
        env["SCHED_CONFIG"] = nil
        env["SCHED_CONTEXT"] = nil
        for (k, v) in environment { env[k] = v }
        return try run(schedctl: args, environment: env, input: nil)
    }

    /// Runs schedctl with exactly `environment` (nothing inherited) and `input` on its standard
    /// input (empty without); returns (status, stdout, stderr).
    public func schedctl(_ args: [String], onlyEnvironment environment: [String: String], input: String? = nil) throws -> (Int32, String, String) {
        try run(schedctl: args, environment: environment, input: input)
    }

    private func run(schedctl args: [String], environment: [String: String], input: String?) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binDir + "/schedctl")
        p.arguments = args
        p.environment = environment
        let out = Pipe(), err = Pipe(), stdin = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = stdin
        try p.run()
        stdin.fileHandleForWriting.write(Data((input ?? "").utf8))
        try stdin.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    public func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
}

/// A test's own failure (no reply of the expected kind, a wait that timed out), with what went wrong.
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Polls `probe` until it returns a value (condition-based waiting, never a fixed sleep).
public func eventually<T>(_ what: String, timeout: Duration = .seconds(30), _ probe: () async throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let v = try await probe() { return v }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestFailure("timed out waiting for \(what)")
}

/// Parses `Cpus_allowed_list` / `Mems_allowed_list` from /proc/self/status text.
public func allowedList(_ status: String, _ key: String) -> CPUSet? {
    for line in status.split(separator: "\n") where line.hasPrefix(key + ":") {
        return CPUSet(listFormat: String(line.dropFirst(key.count + 1)))
    }
    return nil
}
