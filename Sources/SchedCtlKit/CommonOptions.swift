import ArgumentParser
import Foundation
import SchedClient
import SchedNet
import SchedProtocol

/// Where schedd is and how to talk to it: its address, the CA its certificate must be signed by
/// and the token every request carries. Each from a flag, then the environment
/// (`SCHED_SCHEDULER`, `SCHED_CA`, `SCHED_TOKEN`), then the config file `schedctl login` writes,
/// then, on schedd's host, its defaults (`ConnectionSettings`).
public struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: "schedd address HOST:PORT (default: $SCHED_SCHEDULER, then the config file).")
    var scheduler: String?

    @Option(name: .long, help: "CA certificate schedd's certificate must be signed by (default: $SCHED_CA, then the config file).")
    var ca: String?

    @Option(name: .long, help: "Bearer token (visible to other users in the process list: prefer --token-file, $SCHED_TOKEN or `schedctl login`).")
    var token: String?

    @Option(name: .long, help: "File holding the bearer token, e.g. schedd's STATE_DIR/admin.token (default: $SCHED_TOKEN, then the config file).")
    var tokenFile: String?

    @OptionGroup var configFile: ConfigFileOptions

    public init() {}

    var flags: ConnectionSettings.Flags {
        ConnectionSettings.Flags(scheduler: scheduler, ca: ca, token: token, tokenFile: tokenFile,
                                 config: configFile.config, context: configFile.context)
    }

    func endpoint() throws -> SchedEndpoint {
        try ConnectionSettings.resolve(flags, environment: ProcessInfo.processInfo.environment).endpoint()
    }
}

/// Which config file and context: `--config FILE` (default `$SCHED_CONFIG`, then
/// `$XDG_CONFIG_HOME/sched/config.toml` or `~/.config/sched/config.toml`) and `--context NAME`
/// (default `$SCHED_CONTEXT`, then the file's `current-context`).
public struct ConfigFileOptions: ParsableArguments {
    @Option(name: .long, help: "schedctl's config file (default: $SCHED_CONFIG, or ~/.config/sched/config.toml under $XDG_CONFIG_HOME or $HOME).")
    var config: String?

    @Option(name: .long, help: "The config file's context to use (default: $SCHED_CONTEXT, then its current-context).")
    var context: String?

    public init() {}
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
