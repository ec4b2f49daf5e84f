import ArgumentParser
import Logging
import SchedControlPlane
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

    @Option(help: "Directory of the embedded SQLite store and of the cluster's CA (ca.pem, ca.key), serving certificate (server.pem, server.key) and admin token (admin.token), created on the first start.")
    var stateDir: String = "/var/lib/schedd"

    @Option(help: "A further name (DNS name or IP address) for schedd's TLS certificate, besides 127.0.0.1, ::1, localhost and the host name (repeatable); the certificate is issued again when these change.")
    var tlsSan: [String] = []

    @Option(help: "Close a peer that has not finished its TLS handshake after this many milliseconds.")
    var tlsHandshakeTimeoutMs: Int = 5000

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

    @Option(help: "A tenant's guaranteed quota and cap, NAME=cpus:N,gpus:M,max-cpus:X,max-gpus:Y (repeatable; every key optional; GPUs may be fractional, e.g. gpus:2.5). max-* caps what the tenant may hold at once; allow-root:true lets its tokens run tasks as root.")
    var tenant: [String] = []

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(help: "Write the bound port to this file once listening (for scripts and tests).")
    var portFile: String?

    @Option(help: "Most heartbeats per second from the whole fleet: the interval given to agents doubles from --heartbeat-ms as the fleet grows (0: never grows).")
    var heartbeatsPerSecond: Int = 500

    @Flag(help: "Commit every write on its own instead of in groups (slower; for comparison).")
    var noGroupCommit = false

    @Option(help: "Group commit: milliseconds a commit and an event-triggered scheduling pass wait for more events to join them.")
    var groupDelayMs: Int = 5

    @Option(help: "Seconds a finished job stays in memory (like Slurm's MinJobAge); older ones are read from the store when asked for. 0 keeps them all.")
    var minJobAge: Int = 300

    @Option(help: "Most jobs one SUBMIT or SUBMIT_BATCH may create (array members counted).")
    var maxJobsPerRequest: Int = AdmissionLimits().maxJobsPerRequest

    @Option(help: "Most pending jobs one tenant may hold (cluster admins are exempt).")
    var maxPendingPerTenant: Int = AdmissionLimits().maxPendingPerTenant

    @Option(help: "Submissions per second one token may make on average (cluster admins are exempt).")
    var submitsPerSecond: Double = AdmissionLimits().submitsPerSecond

    @Option(help: "Submissions one token may make in a burst before --submits-per-second applies.")
    var submitBurst: Double = AdmissionLimits().submitBurst

    @Option(help: "Most connections one IP address may hold that are not registered agents (in TLS, before HELLO, or schedctl); more are closed at accept. 0: no limit.")
    var maxConnectionsPerPeer: Int = ConnectionLimits().maxPerPeer

    @Option(help: "Most connections from all addresses that are not registered agents; kept under half the open-file limit so agents always have room. 0: half the open-file limit.")
    var maxClientConnections: Int = ConnectionLimits().maxTotal

    @Option(help: "Close a peer that has not sent its HELLO this many milliseconds after its TLS handshake.")
    var helloTimeoutMs: Int = 5_000

    @Option(help: "Close a schedctl connection silent this many milliseconds between requests (a line trickled without its newline counts as silence). 0: never.")
    var clientIdleTimeoutMs: Int = 120_000

    func validate() throws {
        guard maxConnectionsPerPeer >= 0, maxClientConnections >= 0 else { throw ValidationError("--max-connections-per-peer and --max-client-connections must be 0 or more") }
        guard helloTimeoutMs >= 1, clientIdleTimeoutMs >= 0 else { throw ValidationError("--hello-timeout-ms must be at least 1 and --client-idle-timeout-ms 0 or more") }
        guard maxJobsPerRequest >= 1, maxPendingPerTenant >= 1 else { throw ValidationError("--max-jobs-per-request and --max-pending-per-tenant must be at least 1") }
        guard submitsPerSecond > 0, submitBurst >= 1 else { throw ValidationError("--submits-per-second must be > 0 and --submit-burst >= 1") }
        guard HostPort(listen) != nil else { throw ValidationError("--listen must be HOST:PORT, got '\(listen)'") }
        guard heartbeatMs >= 50, nodeTimeoutMs > heartbeatMs else { throw ValidationError("need --heartbeat-ms >= 50 and --node-timeout-ms > --heartbeat-ms") }
        guard tlsHandshakeTimeoutMs > 0 else { throw ValidationError("--tls-handshake-timeout-ms must be > 0") }
        guard heartbeatsPerSecond >= 0 else { throw ValidationError("--heartbeats-per-second must be >= 0") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
        _ = try queues()
        _ = try tenants()
    }

    /// The tenants given `allow-root:true`: their tokens may run tasks as root.
    func rootTenants() -> Set<String> {
        Set(tenant.compactMap { t -> String? in
            let parts = t.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, parts[1].split(separator: ",").contains("allow-root:true") else { return nil }
            return parts[0]
        })
    }

    /// `--tenant NAME=cpus:N,gpus:M,max-cpus:X,max-gpus:Y,allow-root:BOOL` values: guarantees and caps.
    func tenants() throws -> (quotas: [String: TenantQuota], caps: [String: TenantCap]) {
        var quotas: [String: TenantQuota] = [:]
        var caps: [String: TenantCap] = [:]
        let keys = "cpus, gpus, max-cpus, max-gpus, allow-root"
        for t in tenant {
            let parts = t.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--tenant: expected NAME=cpus:N,gpus:M,max-cpus:X,max-gpus:Y, got '\(t)'") }
            let name = parts[0]
            var q = TenantQuota()
            var cap = TenantCap()
            var guaranteed = false
            for item in parts[1].split(separator: ",") {
                let kv = item.split(separator: ":", maxSplits: 1).map(String.init)
                guard kv.count == 2 else { throw ValidationError("--tenant \(name): expected KEY:VALUE with KEY among \(keys), got '\(item)'") }
                func cpus() throws -> Int {
                    guard let n = Int(kv[1]), n >= 0 else { throw ValidationError("--tenant \(name): bad \(kv[0]) '\(kv[1])' (a whole number >= 0)") }
                    return n
                }
                func gpuMilli() throws -> Int {
                    guard let g = Double(kv[1]), g >= 0, g < 1_000_000 else { throw ValidationError("--tenant \(name): bad \(kv[0]) '\(kv[1])' (a number >= 0)") }
                    return Int((g * 1000).rounded())
                }
                switch kv[0] {
                case "cpus": q.cpus = try cpus(); guaranteed = true
                case "gpus": q.gpuMilli = try gpuMilli(); guaranteed = true
                case "max-cpus": cap.cpus = try cpus()
                case "max-gpus": cap.gpuMilli = try gpuMilli()
                case "allow-root":
                    guard kv[1] == "true" || kv[1] == "false" else { throw ValidationError("--tenant \(name): allow-root takes true or false, got '\(kv[1])'") }
                default: throw ValidationError("--tenant \(name): unknown key '\(kv[0])' (\(keys))")
                }
            }
            if let m = cap.cpus, m < q.cpus { throw ValidationError("--tenant \(name): max-cpus \(m) is below the guaranteed cpus \(q.cpus)") }
            if let m = cap.gpuMilli, m < q.gpuMilli { throw ValidationError("--tenant \(name): max-gpus is below the guaranteed gpus") }
            if guaranteed { quotas[name] = q }
            if cap != TenantCap() { caps[name] = cap }
        }
        return (quotas, caps)
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

    /// Connections that are not agents take at most half the open files (the rest are agents',
    /// the store's and the logs'): a flood can never take the descriptors agents register with.
    static func clientConnectionCap(_ asked: Int, openFiles: Int) -> Int {
        let half = max(16, openFiles / 2)
        return asked == 0 ? half : min(asked, half)
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
        (config.tenants, config.tenantCaps) = try tenants()
        config.rootTenants = rootTenants()
        config.groupCommit = !noGroupCommit
        config.groupDelayMs = max(0, groupDelayMs)
        config.minJobAgeSeconds = max(0, minJobAge)
        config.heartbeatsPerSecond = heartbeatsPerSecond
        config.limits.maxJobsPerRequest = maxJobsPerRequest
        config.limits.maxPendingPerTenant = maxPendingPerTenant
        config.limits.submitsPerSecond = submitsPerSecond
        config.limits.submitBurst = submitBurst
        config.tlsSANs = tlsSan
        config.tlsHandshakeTimeoutMs = tlsHandshakeTimeoutMs
        let files = OpenFileLimit.raiseToHardLimit()
        config.connectionLimits = ConnectionLimits(
            maxPerPeer: maxConnectionsPerPeer, maxTotal: Self.clientConnectionCap(maxClientConnections, openFiles: files),
            firstLineTimeout: .milliseconds(helloTimeoutMs),
            idleTimeout: clientIdleTimeoutMs == 0 ? nil : .milliseconds(clientIdleTimeoutMs))
        logger.info("open-file limit", metadata: ["limit": "\(files)", "client.connections.max": "\(config.connectionLimits.maxTotal)"])
        if maxClientConnections > config.connectionLimits.maxTotal {
            logger.warning("--max-client-connections lowered to half the open-file limit, so agents keep room",
                           metadata: ["asked": "\(maxClientConnections)", "limit": "\(config.connectionLimits.maxTotal)"])
        }
        let portFile = self.portFile
        let service = SchedulerService(config: config, logger: logger) { port in
            if let portFile { writePortFile(portFile, port) }
        }
        let group = ServiceGroup(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}
