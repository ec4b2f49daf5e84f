import Foundation
import HostTopology
import Logging
import SchedCore
import ServiceLifecycle

/// Many emulated agents in one process (`sched-agent --emulate N` / `--fleet`): each has its own
/// TCP connection, registration, heartbeats, node name and task supervisor, exactly as separate
/// agents would. Agents start in waves of `wave`, each wave once the previous one registered,
/// so thousands of connections do not all arrive in the same instant.
public struct EmulatedFleet: Service {
    /// One emulated node.
    public struct Node: Sendable {
        public var config: AgentConfig
        public var topology: NodeTopology
        public var mapping: HostPUMapping?
        public init(config: AgentConfig, topology: NodeTopology, mapping: HostPUMapping?) {
            self.config = config
            self.topology = topology
            self.mapping = mapping
        }
    }

    let agents: [AgentService]
    let wave: Int
    let logger: Logger
    let registrations: AsyncStream<Void>
    let registrationsEnd: AsyncStream<Void>.Continuation
    /// Written with the summed supervisor counters every second and at the end (nil: none).
    let statsFile: String?

    public init(nodes: [Node], wave: Int = 256, statsFile: String?, logger: Logger) {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        registrations = stream
        registrationsEnd = continuation
        self.wave = max(1, wave)
        self.statsFile = statsFile
        self.logger = logger
        agents = nodes.map { n in
            var log = logger
            log[metadataKey: "node.id"] = "\(n.config.nodeName)"
            return AgentService(config: n.config, topology: n.topology, mapping: n.mapping, logger: log,
                                onRegistered: { continuation.yield() })
        }
    }

    public func run() async throws {
        // On SIGTERM the stream ends, so a wave still waiting for registrations stops waiting.
        try await withGracefulShutdownHandler {
            try await runAgents()
        } onGracefulShutdown: { [registrationsEnd] in
            registrationsEnd.finish()
        }
        if let statsFile { await writeStats(statsFile) }
    }

    func runAgents() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let statsFile {
                group.addTask {
                    await cancelWhenGracefulShutdown {
                        while !Task.isCancelled {
                            await writeStats(statsFile)
                            try? await Task.sleep(for: .seconds(1))
                        }
                    }
                }
            }
            var registered = 0
            var started = 0
            var it = registrations.makeAsyncIterator()
            // Start the first wave, then the next each time the previous one has registered.
            while started < agents.count, !Task.isCancelled {
                let end = min(agents.count, started + wave)
                for a in agents[started..<end] { group.addTask { try await a.run() } }
                started = end
                while registered < started, await it.next() != nil { registered += 1 }
            }
            logger.notice("emulated fleet registered", metadata: ["nodes": "\(agents.count)"])
            try await group.waitForAll()
        }
    }

    /// The supervisors' counters, summed over the fleet.
    public func stats() async -> FleetStats {
        var s = FleetStats(nodes: agents.count)
        for a in agents { s.tasks.add(await a.supervisor.stats) }
        return s
    }

    func writeStats(_ path: String) async {
        let s = await stats()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(s) else { return }
        // Written whole, then renamed, so a reader never sees half a file.
        let tmp = path + ".tmp"
        if FileManager.default.createFile(atPath: tmp, contents: data) { _ = rename(tmp, path) }
    }
}

/// What `--stats-file` holds: the node count and the summed task counters.
public struct FleetStats: Sendable, Codable, Hashable {
    public var nodes: Int
    public var tasks = SupervisorStats()
    public init(nodes: Int) { self.nodes = nodes }
}
