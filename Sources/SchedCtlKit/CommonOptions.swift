import ArgumentParser
import Foundation
import SchedNet
import SchedProtocol

/// `--scheduler HOST:PORT`, defaulting to `$SCHED_SCHEDULER`, then 127.0.0.1:7070.
public struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: "schedd address HOST:PORT (default: $SCHED_SCHEDULER or 127.0.0.1:7070).")
    var scheduler: String?

    public init() {}

    func address() throws -> HostPort {
        let text = scheduler ?? ProcessInfo.processInfo.environment["SCHED_SCHEDULER"] ?? "127.0.0.1:7070"
        guard let hp = HostPort(text) else { throw ValidationError("scheduler address must be HOST:PORT, got '\(text)'") }
        return hp
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
