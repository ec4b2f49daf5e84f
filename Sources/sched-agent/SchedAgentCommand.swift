import AgentKit
import ArgumentParser
import Foundation
import HostTopology
import Logging
import SchedCore
import SchedNet
import SchedProtocol
import ServiceLifecycle

/// `sched-agent`: discovers the node, registers with schedd, runs the tasks it is given.
struct SchedAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sched-agent",
        abstract: "Node agent: discovers this node with hwloc and libnuma (or emulates one from an hwloc XML), registers with schedd and runs bound task processes.")

    @Option(help: "schedd address HOST:PORT (default: $SCHED_SCHEDULER or 127.0.0.1:7070).")
    var scheduler: String?

    @Option(help: "Name to register under (default: this host's name; required with --topology-xml).")
    var nodeName: String?

    @Option(help: "Emulate the node described by this hwloc XML (1.x or 2.x) instead of discovering this host.")
    var topologyXml: String?

    @Option(help: "Directory for task output and working directories (default: /tmp/sched-agent/NODE).")
    var workDir: String?

    @Option(help: "Node label KEY=VALUE sent to schedd, matched by jobs' node selectors (repeatable).")
    var label: [String] = []

    @Option(help: "NVLink domain (rack) this node belongs to; sets the label nvlink.domain.")
    var nvlinkDomain: String?

    @Option(help: "Longest wait between reconnect attempts, in milliseconds (the first is 200 ms, then doubling).")
    var maxBackoffMs: Int = 5000

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Flag(help: "Print the discovered topology as JSON and exit.")
    var printTopology = false

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            return h
        }
        let source: TopologySource = topologyXml.map { .xml(path: $0) } ?? .host
        let topology: NodeTopology
        do {
            topology = try TopologyDiscovery.discover(source)
        } catch {
            throw ValidationError("\(error)")
        }
        if printTopology {
            print(LineCodec.json(topology, pretty: true))
            return
        }
        let address = scheduler ?? ProcessInfo.processInfo.environment["SCHED_SCHEDULER"] ?? "127.0.0.1:7070"
        guard let hostPort = HostPort(address) else { throw ValidationError("--scheduler must be HOST:PORT, got '\(address)'") }
        if topologyXml != nil, nodeName == nil { throw ValidationError("--node-name is required with --topology-xml") }
        let name = nodeName ?? ProcessInfo.processInfo.hostName
        var logger = Logger(label: "sched-agent")
        logger[metadataKey: "node.id"] = "\(name)"
        let mapping: HostPUMapping? = topologyXml == nil ? nil
            : HostPUMapping(emulated: topology, hostPUs: HostPUMapping.currentAllowedPUs(), hostNUMA: HostPUMapping.currentHostNUMA())
        let exe = try resolveOwnExecutable()
        var labels: [String: String] = [:]
        for l in label {
            guard let eq = l.firstIndex(of: "="), eq != l.startIndex else { throw ValidationError("--label: expected KEY=VALUE, got '\(l)'") }
            labels[String(l[..<eq])] = String(l[l.index(after: eq)...])
        }
        if let d = nvlinkDomain { labels["nvlink.domain"] = d }
        var config = AgentConfig(scheduler: hostPort, nodeName: NodeID(name), emulated: topologyXml != nil,
                                 workDir: workDir ?? "/tmp/sched-agent/\(name)", agentExecutable: exe,
                                 maxBackoffMs: max(200, maxBackoffMs))
        config.labels = labels
        logger.info("node discovered", metadata: ["arch": "\(topology.arch)", "pus": "\(topology.puCount)",
                                                  "numa": "\(topology.numaNodes.count)", "gpus": "\(topology.gpus.count)",
                                                  "emulated": "\(config.emulated)"])
        let service = AgentService(config: config, topology: topology, mapping: mapping, logger: logger)
        let group = ServiceGroup(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }

    /// The absolute path of this executable, used to start the exec helper.
    func resolveOwnExecutable() throws -> String {
        if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
        let arg0 = CommandLine.arguments[0]
        if arg0.hasPrefix("/") { return arg0 }
        throw ValidationError("cannot find this executable's path")
    }
}
