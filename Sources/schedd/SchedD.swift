import ArgumentParser
import Logging
import SchedCore
import SchedNet
import SchedulerKit
import ServiceLifecycle

/// `schedd`: the scheduler daemon.
@main
struct SchedD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedd",
        abstract: "The scheduler daemon: fleet state, job queue, placement core, embedded store, placement log.")

    @Option(help: "Address serving agents and schedctl (HOST:PORT; port 0 picks a free one).")
    var listen: String = "127.0.0.1:7070"

    @Option(help: "Directory of the embedded SQLite store.")
    var stateDir: String = "/var/lib/schedd"

    @Option(help: "Heartbeat interval asked of agents, in milliseconds.")
    var heartbeatMs: Int = 2000

    @Option(help: "A node silent for this many milliseconds is marked down.")
    var nodeTimeoutMs: Int = 10000

    @Option(help: "Longest protocol line accepted, in bytes.")
    var maxLineBytes: Int = 1 << 20

    @Option(help: "Policy of the default queue: best-fit, most-allocated (pack), least-allocated (spread), dot-product, fragmentation-aware (fgd).")
    var policy: String = "best-fit"

    @Option(help: "A queue and its policy, NAME=POLICY (repeatable), e.g. --queue inference=pack --queue training=fgd.")
    var queue: [String] = []

    @Option(help: "A tenant's guaranteed quota, NAME=cpus:N,gpus:M (repeatable; GPUs may be fractional, e.g. gpus:2.5).")
    var tenant: [String] = []

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(help: "Write the bound port to this file once listening (for scripts and tests).")
    var portFile: String?

    func validate() throws {
        guard HostPort(listen) != nil else { throw ValidationError("--listen must be HOST:PORT, got '\(listen)'") }
        guard heartbeatMs >= 50, nodeTimeoutMs > heartbeatMs else { throw ValidationError("need --heartbeat-ms >= 50 and --node-timeout-ms > --heartbeat-ms") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
        _ = try queues()
        _ = try tenants()
    }

    /// `--tenant NAME=cpus:N,gpus:M` values.
    func tenants() throws -> [String: TenantQuota] {
        var out: [String: TenantQuota] = [:]
        for t in tenant {
            let parts = t.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--tenant: expected NAME=cpus:N,gpus:M, got '\(t)'") }
            var q = TenantQuota()
            for item in parts[1].split(separator: ",") {
                let kv = item.split(separator: ":", maxSplits: 1).map(String.init)
                guard kv.count == 2 else { throw ValidationError("--tenant \(parts[0]): expected cpus:N or gpus:M, got '\(item)'") }
                switch kv[0] {
                case "cpus": guard let n = Int(kv[1]), n >= 0 else { throw ValidationError("--tenant \(parts[0]): bad cpus '\(kv[1])'") }; q.cpus = n
                case "gpus": guard let g = Double(kv[1]), g >= 0 else { throw ValidationError("--tenant \(parts[0]): bad gpus '\(kv[1])'") }; q.gpuMilli = Int((g * 1000).rounded())
                default: throw ValidationError("--tenant \(parts[0]): unknown resource '\(kv[0])' (cpus, gpus)")
                }
            }
            out[parts[0]] = q
        }
        return out
    }

    /// The default queue's policy and the named queues.
    func queues() throws -> (SchedulingPolicy, [String: SchedulingPolicy]) {
        let names = SchedulingPolicy.allCases.map(\.rawValue).joined(separator: ", ")
        guard let p = SchedulingPolicy(name: policy) else { throw ValidationError("unknown --policy '\(policy)'; policies: \(names)") }
        var out: [String: SchedulingPolicy] = [:]
        for q in queue {
            let parts = q.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, let qp = SchedulingPolicy(name: parts[1]) else {
                throw ValidationError("--queue: expected NAME=POLICY with a policy among \(names), got '\(q)'")
            }
            out[parts[0]] = qp
        }
        return (p, out)
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            return h
        }
        let logger = Logger(label: "schedd")
        let (defaultPolicy, queues) = try queues()
        var config = SchedulerConfig(listen: HostPort(listen)!, stateDir: stateDir, heartbeatIntervalMs: heartbeatMs,
                                     nodeTimeoutMs: nodeTimeoutMs, maxLineBytes: maxLineBytes, policy: defaultPolicy, queues: queues)
        config.tenants = try tenants()
        let portFile = self.portFile
        let service = SchedulerService(config: config, logger: logger) { port in
            if let portFile { writePortFile(portFile, port) }
        }
        let group = ServiceGroup(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}
