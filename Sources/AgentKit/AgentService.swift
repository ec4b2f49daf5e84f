import Foundation
import HostTopology
import Logging
import SchedCore
import SchedNet
import SchedProtocol
import ServiceLifecycle
import Synchronization

/// The agent's life: connect to schedd, HELLO, REGISTER with the topology and every known task,
/// then heartbeat and carry out START_TASK / KILL_TASK / ACK_EXIT. When schedd goes away it
/// reconnects with exponential backoff (with jitter); tasks keep running meanwhile and are
/// reported again on the next REGISTER, so none is lost or started twice.
public struct AgentService: Service {
    let config: AgentConfig
    let topology: NodeTopology
    public let supervisor: TaskSupervisor
    let logger: Logger
    /// The heartbeat interval schedd asked for last (REGISTERED, then HEARTBEAT_INTERVAL).
    let heartbeat = HeartbeatSetting()
    /// Called after each accepted registration (an emulated fleet counts them).
    let onRegistered: @Sendable () -> Void

    public init(config: AgentConfig, topology: NodeTopology, mapping: HostPUMapping?, logger: Logger,
                onRegistered: @escaping @Sendable () -> Void = {}) {
        self.config = config
        self.topology = topology
        self.logger = logger
        self.onRegistered = onRegistered
        self.supervisor = TaskSupervisor(config: config, topology: topology, mapping: mapping, logger: logger)
    }

    public func run() async throws {
        // Users and cgroups first: recovery reads the cgroups of the tasks it finds.
        await supervisor.setUpIsolation()
        // Tasks of an agent that crashed here: reported in the first REGISTER, running or ended.
        let recovered = await supervisor.recover()
        if recovered.found > 0 {
            logger.notice("found tasks of a previous agent", metadata: ["tasks": "\(recovered.found)", "running": "\(recovered.running)"])
        }
        // Then the cgroups no running task holds go, with anything still in them.
        await supervisor.cleanUpStaleCgroups()
        // Graceful shutdown (SIGTERM) cancels the connection loop; then the tasks are stopped.
        // A refusal for good (a join token used up, a revoked certificate and nothing to join
        // again with) ends it too: the node is out of the cluster and schedd has requeued or
        // failed its jobs, so its tasks are stopped even with --keep-tasks-on-stop (they would
        // run twice), then the error is thrown and the agent exits non-zero.
        let refused: AgentRefused? = await cancelWhenGracefulShutdown {
            var backoff = config.initialBackoffMs
            var credentials = AgentCredentialState(config: config, logger: logger)
            while !Task.isCancelled {
                do {
                    let presented = try await credentials.current()
                    let connection = try await LineClient.connect(config.scheduler, tls: presented.tls, maxLineBytes: config.maxLineBytes)
                    try await session(connection, token: presented.token) { backoff = config.initialBackoffMs }
                    logger.warning("schedd closed the connection", metadata: ["scheduler": "\(config.scheduler)"])
                } catch is CancellationError {
                    break
                } catch let e as AgentRefused {
                    logger.error("schedd refused this agent; stopping", metadata: ["node.id": "\(config.nodeName)", "error": "\(e)"])
                    return e
                } catch let e as HelloRefused where credentials.presentsCertificate {
                    // The node certificate is not accepted (revoked, expired, unknown): join again
                    // if a join token is left, else stop.
                    do throws(AgentRefused) {
                        try credentials.certificateRefused(e)
                    } catch {
                        logger.error("schedd refused this agent; stopping", metadata: ["node.id": "\(config.nodeName)", "error": "\(error)"])
                        return error
                    }
                    continue
                } catch let e as HelloRefused {
                    if Task.isCancelled { break }
                    logger.error("schedd refused the token", metadata: ["scheduler": "\(config.scheduler)", "error": "\(e)",
                                                                        "retry.ms": "\(backoff)"])
                } catch let e as TLSConnectError where e.kind == .certificateNotTrusted {
                    if Task.isCancelled { break }
                    logger.error("schedd's certificate is not trusted by the CA in --ca", metadata: [
                        "scheduler": "\(config.scheduler)", "ca": "\(config.caFile)", "error": "\(e)", "retry.ms": "\(backoff)"])
                } catch {
                    if Task.isCancelled { break }
                    logger.warning("schedd unreachable", metadata: ["scheduler": "\(config.scheduler)", "error": "\(error)",
                                                                   "retry.ms": "\(backoff)"])
                }
                let jitter = Double.random(in: 0.8...1.2)
                try? await Task.sleep(for: .milliseconds(Int(Double(backoff) * jitter)))
                backoff = min(backoff * 2, config.maxBackoffMs)
            }
            return nil
        }
        if config.keepTasksOnStop, !config.noExec, refused == nil {
            let running = await supervisor.runningCount
            logger.notice("agent stopping: its tasks keep running under their shims", metadata: ["tasks.running": "\(running)"])
        } else {
            logger.info("agent stopping: stopping its tasks")
            await supervisor.stopAllAndWait(graceSeconds: Self.shutdownGraceSeconds)
            await supervisor.removeCgroupSubtree()
        }
        if let refused { throw refused }
    }

    /// Seconds between SIGTERM and SIGKILL for tasks still running when the agent stops.
    static let shutdownGraceSeconds = 5

    /// One connection's life: HELLO (with `token`, or none when TLS presents the node
    /// certificate), REGISTER, then tasks. `onRegistered` runs once schedd accepted the registration.
    func session(_ connection: LineConnection, token: RedactedToken?, onRegistered: () -> Void) async throws {
        try await connection.executeThenClose { inbound, outbound in
            var lines = inbound.makeAsyncIterator()
            func next() async throws -> Message? {
                while let frame = try await lines.next() {
                    switch frame {
                    case .tooLong(let n):
                        logger.warning("line from schedd too long, discarded", metadata: ["bytes": "\(n)"])
                        try await outbound.write(LineCodec.encode(.error(ErrorReply(.lineTooLong, "line of \(n) bytes discarded"))))
                    case .invalidUTF8(let n):
                        logger.warning("line from schedd not valid UTF-8, discarded", metadata: ["bytes": "\(n)"])
                        try await outbound.write(LineCodec.encode(.error(ErrorReply(.invalidUTF8, "line of \(n) bytes is not valid UTF-8"))))
                    case .line(let text):
                        do throws(ErrorReply) {
                            return try LineCodec.decode(Substring(text))
                        } catch {
                            logger.warning("bad line from schedd", metadata: ["error": "\(error.message)"])
                            try await outbound.write(LineCodec.encode(.error(error)))
                        }
                    }
                }
                return nil
            }
            try await outbound.write(LineCodec.encode(.hello(Hello(role: .agent, token: token?.secret))))
            switch try await next() {
            case .welcome: break
            case .error(let e): throw HelloRefused(reply: e)
            default: throw LaunchError("schedd did not answer HELLO with WELCOME")
            }
            // Subscribe before taking the report, so an exit in between is sent, not lost.
            let exits = await supervisor.subscribeExits()
            let reports = await supervisor.reports()
            try await outbound.write(LineCodec.encode(.register(Register(node: config.nodeName, topology: topology,
                                                                         emulated: config.emulated, tasks: reports,
                                                                         labels: config.labels.isEmpty ? nil : config.labels))))
            switch try await next() {
            case .registered(let r): heartbeat.ms.store(max(50, r.heartbeatIntervalMs), ordering: .relaxed)
            case .error(let e): throw LaunchError("registration refused: \(e.code.rawValue): \(e.message)")
            default: throw LaunchError("schedd did not answer REGISTER")
            }
            onRegistered()
            self.onRegistered()
            logger.info("registered", metadata: ["node.id": "\(config.nodeName)", "scheduler": "\(config.scheduler)",
                                                 "tasks.reported": "\(reports.count)"])
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await heartbeats(outbound: outbound) }
                group.addTask {
                    for await exit in exits { try await outbound.write(LineCodec.encode(.taskExited(exit))) }
                }
                while let message = try await next() {
                    try await handle(message, outbound: outbound)
                }
                group.cancelAll()
            }
        }
    }

    /// HEARTBEAT at once, then every interval (±10%, so a fleet started together spreads out).
    /// Free memory goes only into the first heartbeat and those where it changed.
    func heartbeats(outbound: LineWriter) async throws {
        var lastFree: [NUMAMemory]?
        while !Task.isCancelled {
            var free: [NUMAMemory]? = config.emulated ? nil
                : NUMAMemoryProbe.freeBytes().sorted { $0.key < $1.key }.map { NUMAMemory(numa: $0.key, bytes: $0.value) }
            if free == lastFree { free = nil } else { lastFree = free }
            let hb = Heartbeat(node: config.nodeName, running: await supervisor.runningCount, freeMemory: free)
            try await outbound.write(LineCodec.encode(.heartbeat(hb)))
            let ms = heartbeat.ms.load(ordering: .relaxed)
            try await Task.sleep(for: .milliseconds(Int(Double(ms) * Double.random(in: 0.9...1.1))))
        }
    }

    func handle(_ message: Message, outbound: LineWriter) async throws {
        switch message {
        case .startTask(let s):
            let reply = await supervisor.start(s)
            try await outbound.write(LineCodec.encode(reply))
            if case .taskStarted = reply { await supervisor.startedReported(s.ref) }
        case .killTask(let k):
            logger.info("stopping task", metadata: ["job.id": "\(k.ref.job)", "reason": "\(k.reason)"])
            await supervisor.stop(k.ref, graceSeconds: k.graceSeconds, signal: k.signal ?? SIGTERM)
        case .ackExit(let a):
            await supervisor.acknowledge(a.ref)
        case .heartbeatInterval(let h):
            heartbeat.ms.store(max(50, h.heartbeatIntervalMs), ordering: .relaxed)
        case .ping:
            try await outbound.write(LineCodec.encode(.pong))
        case .error(let e):
            logger.warning("schedd reported an error", metadata: ["code": "\(e.code.rawValue)", "message": "\(e.message)"])
        default:
            try await outbound.write(LineCodec.encode(.error(ErrorReply(.wrongRole, "\(message.verb) is not for an agent"))))
        }
    }
}

/// The heartbeat interval in force, shared by a connection's reader and its heartbeat loop.
final class HeartbeatSetting: Sendable {
    let ms = Atomic<Int>(2000)
}
