import ArgumentParser
import Foundation
import SchedClient
import SchedNet
import SchedProtocol

/// Where schedd is and how to talk to it: `--scheduler HOST:PORT` (default `$SCHED_SCHEDULER`,
/// then 127.0.0.1:7070), the CA its certificate must be signed by (`--ca`, `$SCHED_CA`, then
/// schedd's default `/var/lib/schedd/ca.pem`) and the token every request carries (`--token`,
/// `--token-file`, `$SCHED_TOKEN`, then `/var/lib/schedd/admin.token` where readable).
public struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: "schedd address HOST:PORT (default: $SCHED_SCHEDULER or 127.0.0.1:7070).")
    var scheduler: String?

    @Option(name: .long, help: "CA certificate schedd's certificate must be signed by (default: $SCHED_CA, or /var/lib/schedd/ca.pem).")
    var ca: String?

    @Option(name: .long, help: "Bearer token (visible to other users in the process list: prefer $SCHED_TOKEN or --token-file).")
    var token: String?

    @Option(name: .long, help: "File holding the bearer token, e.g. schedd's STATE_DIR/admin.token.")
    var tokenFile: String?

    public init() {}

    /// Where schedd's own state directory is by default (its `--state-dir`).
    static let defaultStateDir = "/var/lib/schedd"

    func address() throws -> HostPort {
        let text = scheduler ?? ProcessInfo.processInfo.environment["SCHED_SCHEDULER"] ?? "127.0.0.1:7070"
        guard let hp = HostPort(text) else { throw ValidationError("scheduler address must be HOST:PORT, got '\(text)'") }
        return hp
    }

    func endpoint() throws -> SchedEndpoint {
        let env = ProcessInfo.processInfo.environment
        let caFile = ca ?? env["SCHED_CA"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultStateDir + "/ca.pem"
        return try SchedEndpoint(address: try address(), caFile: caFile, token: try resolvedToken(env))
    }

    /// The token to send: `--token`, `--token-file`, `$SCHED_TOKEN`, or schedd's default
    /// admin.token when this user may read it; nil when none (the connect then says how to get one).
    func resolvedToken(_ env: [String: String]) throws -> String? {
        if let token { return token }
        if let tokenFile { return try SchedEndpoint.readToken(file: tokenFile) }
        if let t = env["SCHED_TOKEN"], !t.isEmpty { return t }
        let fallback = Self.defaultStateDir + "/admin.token"
        if FileManager.default.isReadableFile(atPath: fallback) { return try? SchedEndpoint.readToken(file: fallback) }
        return nil
    }
}

/// Output format of listing commands.
public enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case table, json
}

public struct OutputOptions: ParsableArguments {
    @Option(name: [.customShort("o"), .long], help: "Output format: table or json.")
    var output: OutputFormat = .table
    public init() {}
}

/// Exit status of `run --wait` / `submit --wait`: the task's exit code; 128+N for signal N;
/// 1 when it failed without an exit code; 2 when cancelled.
func exitStatus(_ j: JobInfo) -> Int32 {
    switch j.state {
    case .completed: return 0
    case .cancelled: return 2
    default:
        if let s = j.exit?.signal { return 128 + s }
        if let c = j.exit?.exitCode { return c == 0 ? 1 : c }
        return 1
    }
}
