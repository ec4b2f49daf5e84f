import Foundation
import Logging
import SchedNet
import SchedProtocol
import SchedStore
import SchedTrust
import ServiceLifecycle

/// schedd as a long-running service: opens the store, loads or creates the cluster's CA, serving
/// certificate and admin token (`TrustFiles`), listens for agents and schedctl on one address
/// (TLS 1.3, a token in every HELLO), and checks node liveness every second. Stops on graceful
/// shutdown.
public struct SchedulerService: Service {
    public let config: SchedulerConfig
    public let logger: Logger
    /// Called with the bound port once listening (port 0 picks one).
    public var onListening: @Sendable (Int) -> Void

    public init(config: SchedulerConfig, logger: Logger, onListening: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.config = config
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        try FileManager.default.createDirectory(atPath: config.stateDir, withIntermediateDirectories: true)
        // The store holds the CA key too: it is the owner's alone, as ca.key is.
        let storePath = config.stateDir + "/schedd.sqlite"
        try SecretFile.create(storePath, mode: SecretFile.secretMode)
        let store = try SQLiteStore(path: storePath)
        let names = try ServerNames(hostName: config.hostName ?? ProcessInfo.processInfo.hostName, extra: config.tlsSANs)
        let (tls, ca) = try TrustFiles(stateDir: config.stateDir).prepare(
            store: store, names: names, handshakeTimeout: .milliseconds(config.tlsHandshakeTimeoutMs), logger: logger)
        let scheduler = try Scheduler(store: store, config: config, logger: logger)
        let server = try await LineServer.bind(config.listen, tls: tls, maxLineBytes: config.maxLineBytes,
                                               limits: config.connectionLimits)
        await scheduler.readConnectionLimits { server.limitCounts.named }
        logger.info("schedd listening", metadata: ["address": "\(config.listen.host):\(server.boundPort)",
                                                   "state.dir": "\(config.stateDir)",
                                                   "connections.per_peer.max": "\(config.connectionLimits.maxPerPeer)",
                                                   "connections.total.max": "\(config.connectionLimits.maxTotal)"])
        onListening(server.boundPort)
        let handler = ConnectionHandler(scheduler: scheduler, authenticator: Authenticator(store: store, rootTenants: config.rootTenants),
                                        enrollment: NodeEnrollment(ca: ca, store: store), logger: logger,
                                        maxLineBytes: config.maxLineBytes)
        // Graceful shutdown cancels the listener and every connection (agents reconnect to the
        // next schedd), then stores what is still waiting for a group commit. Nothing that
        // depended on those writes was sent, so a schedd killed instead loses nothing either.
        // A stop is not a failure: the cancellation it causes ends the loops, and schedd then
        // drains, flushes and exits 0.
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await server.run { connection, peer in await handler.handle(connection, peer: peer) } }
                    group.addTask {
                        while !Task.isCancelled {
                            do { try await Task.sleep(for: .seconds(1)) } catch { return }
                            await scheduler.tick()
                            await scheduler.enforceTimeLimits()
                            await scheduler.schedulePendingFromTick()
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        } catch is CancellationError {
            logger.info("schedd stopping")
        }
        await server.close()
        let left = await scheduler.flush(seconds: 5)
        if left > 0 { logger.error("stopping with writes not stored; the store refused them", metadata: ["writes": "\(left)"]) }
        logger.info("schedd stopped")
    }
}
