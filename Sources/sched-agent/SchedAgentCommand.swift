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

    @Option(help: "CA certificate schedd's certificate must be signed by: schedd's STATE_DIR/ca.pem (default: $SCHED_CA, or /var/lib/schedd/ca.pem).")
    var ca: String?

    @Option(help: "File holding a cluster-admin token the agent presents in every HELLO, e.g. schedd's STATE_DIR/admin.token (default: $SCHED_TOKEN). Not needed once the node has joined: a usable node certificate in the work directory wins.")
    var tokenFile: String?

    @Option(help: "File holding a join token (`schedctl token create --agent`): the agent joins with it once, gets a node certificate and uses mutual TLS from then on (default: $SCHED_JOIN_TOKEN).")
    var joinTokenFile: String?

    @Option(help: "A join token on the command line; other users see it in `ps` until the agent has read it, so prefer --join-token-file or SCHED_JOIN_TOKEN.")
    var joinToken: String?

    @Option(help: "Name to register under (default: this host's name; required with --topology-xml).")
    var nodeName: String?

    @Option(help: "Emulate the node described by this hwloc XML (1.x or 2.x) instead of discovering this host.")
    var topologyXml: String?

    @Option(help: "Directory for task output and working directories (default: /tmp/sched-agent/NODE).")
    var workDir: String?

    /// `--work-dir` made absolute: tasks change directory before their shims write there.
    var absoluteWorkDir: String? {
        workDir.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
    }

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

    @Option(help: "Emulate N nodes in this process, each with its own connection (topology from --topology-xml or --builtin; names NODE-NAME-00000, ...).")
    var emulate: Int?

    @Option(help: "Emulate the nodes a fleet file lists (kinds, counts, built-in or XML topologies, NVLink domains); see docs/fleet-emulation.md.")
    var fleet: String?

    @Option(help: "Emulate a built-in node kind: \(BuiltinTopology.allCases.map(\.rawValue).joined(separator: ", ")).")
    var builtin: String?

    @Flag(help: "On SIGTERM leave the tasks running under their shims instead of stopping them; the next agent started on the same --work-dir adopts them (restarts and upgrades without touching running work).")
    var keepTasksOnStop = false

    @Option(help: "Task cgroups: auto (v2 where /sys/fs/cgroup is cgroup2, else the v1 cpuset, memory, pids and devices hierarchies), v1, v2, or off (CPU and NUMA binding only).")
    var cgroups: String = "auto"

    @Option(help: "Where the node's cgroup subtree goes: PARENT/NODE/JOB.TASK per task, PARENT relative to this agent's own cgroup (or from the hierarchy's root when it starts with /).")
    var cgroupParent: String = "sched"

    @Option(help: "Each task's limit on processes and threads (the cgroup's pids.max); 0 for none.")
    var taskPidsMax: Int = 16_384

    /// `--cgroups` checked.
    func cgroupMode() throws -> CgroupMode {
        guard let m = CgroupMode(rawValue: cgroups) else {
            throw ValidationError("--cgroups: expected \(CgroupMode.allCases.map(\.rawValue).joined(separator: ", ")), got '\(cgroups)'")
        }
        guard taskPidsMax >= 0 else { throw ValidationError("--task-pids-max: expected 0 or more") }
        return m
    }

    @Flag(help: "Do not start processes: acknowledge each task, hold it for its declared duration ('sleep N' holds N s, anything else ends at once) and report it finished.")
    var noExec = false

    @Option(help: "With --emulate/--fleet: write the summed task counters as JSON to this file every second and at exit.")
    var statsFile: String?

    @Option(help: "With --emulate/--fleet: agents started at once; the next wave starts when these registered.")
    var wave: Int = 256

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            return h
        }
        OpenFileLimit.raiseToHardLimit()
        if emulate != nil || fleet != nil { return try await runFleet() }
        if builtin != nil { throw ValidationError("--builtin needs --emulate N") }
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
        let credentials = try AgentCredentials(caFlag: ca, tokenFile: tokenFile, joinToken: joinToken, joinTokenFile: joinTokenFile)
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
        let workDir = absoluteWorkDir ?? "/tmp/sched-agent/\(name)"
        var config = AgentConfig(scheduler: hostPort, tls: credentials.tls,
                                 authentication: try credentials.authentication(node: NodeID(name), workDir: workDir),
                                 nodeName: NodeID(name), emulated: topologyXml != nil,
                                 workDir: workDir, agentExecutable: exe,
                                 maxBackoffMs: max(200, maxBackoffMs))
        config.caFile = credentials.caFile
        config.caPEM = credentials.caPEM
        config.labels = labels
        config.noExec = noExec
        config.keepTasksOnStop = keepTasksOnStop
        config.cgroups = try cgroupMode()
        config.cgroupParent = cgroupParent
        config.taskPidsMax = taskPidsMax
        logger.info("node discovered", metadata: ["arch": "\(topology.arch)", "pus": "\(topology.puCount)",
                                                  "numa": "\(topology.numaNodes.count)", "gpus": "\(topology.gpus.count)",
                                                  "emulated": "\(config.emulated)"])
        let service = AgentService(config: config, topology: topology, mapping: mapping, logger: logger)
        let group = ServiceGroup(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }

    /// `--emulate N` / `--fleet FILE`: many emulated agents in this process.
    func runFleet() async throws {
        let fleetFile: FleetFile
        if let fleet {
            if emulate != nil || topologyXml != nil || builtin != nil {
                throw ValidationError("--fleet describes the whole fleet: leave out --emulate, --topology-xml and --builtin")
            }
            do { fleetFile = try FleetFile(path: fleet) } catch { throw ValidationError("--fleet: \(error)") }
        } else {
            guard let n = emulate, (1...100_000).contains(n) else { throw ValidationError("--emulate: expected a number of nodes from 1 to 100000") }
            let source: BuiltinTopology.Source
            switch (topologyXml, builtin) {
            case (let x?, nil): source = .xml(x)
            case (nil, let b?):
                guard let k = BuiltinTopology(rawValue: b) else {
                    throw ValidationError("--builtin: unknown '\(b)'; built-in kinds: \(BuiltinTopology.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                source = .builtin(k)
            default: throw ValidationError("--emulate needs exactly one of --topology-xml FILE or --builtin NAME")
            }
            let prefix = nodeName ?? "emu"
            fleetFile = FleetFile(kinds: [.init(name: prefix, count: n, source: source, nvlinkDomainSize: nil, labels: [:])])
        }
        let address = scheduler ?? ProcessInfo.processInfo.environment["SCHED_SCHEDULER"] ?? "127.0.0.1:7070"
        guard let hostPort = HostPort(address) else { throw ValidationError("--scheduler must be HOST:PORT, got '\(address)'") }
        let credentials = try AgentCredentials(caFlag: ca, tokenFile: tokenFile, joinToken: joinToken, joinTokenFile: joinTokenFile)
        var extra: [String: String] = [:]
        for l in label {
            guard let eq = l.firstIndex(of: "="), eq != l.startIndex else { throw ValidationError("--label: expected KEY=VALUE, got '\(l)'") }
            extra[String(l[..<eq])] = String(l[l.index(after: eq)...])
        }
        if let d = nvlinkDomain { extra["nvlink.domain"] = d }
        // One topology (and one host mapping) per kind, shared by its nodes.
        let hostPUs = HostPUMapping.currentAllowedPUs(), hostNUMA = HostPUMapping.currentHostNUMA()
        var kinds: [(NodeTopology, HostPUMapping)] = []
        for kind in fleetFile.kinds {
            let path: String
            switch kind.source {
            case .xml(let p): path = p
            case .builtin(let b):
                guard let p = b.xmlPath else { throw ValidationError("built-in topology \(b.rawValue) is missing from this installation") }
                path = p
            }
            let t: NodeTopology
            do { t = try TopologyDiscovery.discover(.xml(path: path)) } catch { throw ValidationError("kind \(kind.name): \(error)") }
            kinds.append((t, HostPUMapping(emulated: t, hostPUs: hostPUs, hostNUMA: hostNUMA)))
        }
        let exe = try resolveOwnExecutable()
        let limit = OpenFileLimit.raiseToHardLimit()
        let nodes = fleetFile.nodes()
        var logger = Logger(label: "sched-agent")
        if limit < nodes.count + 64 {
            logger.warning("open-file limit below one socket per node", metadata: ["limit": "\(limit)", "nodes": "\(nodes.count)"])
        }
        let mode = try cgroupMode()
        // Each node has its own work directory, so its own key and certificate when it joins
        // (one join token with --uses N, or more, serves the fleet).
        let emulated = try nodes.map { n -> EmulatedFleet.Node in
            let workDir = (absoluteWorkDir ?? "/tmp/sched-agent") + "/" + n.name
            var config = AgentConfig(scheduler: hostPort, tls: credentials.tls,
                                     authentication: try credentials.authentication(node: NodeID(n.name), workDir: workDir),
                                     nodeName: NodeID(n.name), emulated: true,
                                     workDir: workDir, agentExecutable: exe,
                                     maxBackoffMs: max(200, maxBackoffMs))
            config.caFile = credentials.caFile
            config.caPEM = credentials.caPEM
            config.labels = n.labels.merging(extra) { _, new in new }
            config.noExec = noExec
            config.cgroups = mode
            config.cgroupParent = cgroupParent
            config.taskPidsMax = taskPidsMax
            return EmulatedFleet.Node(config: config, topology: kinds[n.kind].0, mapping: kinds[n.kind].1)
        }
        logger[metadataKey: "fleet"] = "\(nodes.count) nodes"
        logger.notice("emulating fleet", metadata: ["kinds": "\(fleetFile.kinds.map { "\($0.name)×\($0.count)" }.joined(separator: ", "))",
                                                     "no_exec": "\(noExec)", "scheduler": "\(hostPort)"])
        let service = EmulatedFleet(nodes: emulated, wave: wave, statsFile: statsFile, logger: logger)
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
