import ArgumentParser
import SchedClient
import SchedCore
import SchedProtocol

extension SchedCtl {
    /// `schedctl nodes`
    struct Nodes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List nodes with their state and resources in use.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Flag(help: "Include each node's full topology (with -o json).") var topology = false

        func run() async throws {
            let nodes: [NodeInfo] = try await SchedClient.with(try connection.endpoint()) { s in
                guard case .nodeList(let l) = try await s.request(.listNodes(ListNodes(topology: topology))) else { throw CLIError("unexpected reply") }
                return l.nodes
            }
            print(output.output == .json ? LineCodec.json(nodes, pretty: true) : Formatting.nodesTable(nodes))
        }
    }

    /// `schedctl drain NODE`
    struct Drain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop placing new work on a node; running tasks finish.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Node name.") var node: String
        @Option(help: "Why (shown in `schedctl nodes`).") var reason: String?

        func run() async throws {
            let n: NodeInfo = try await SchedClient.with(try connection.endpoint()) { s in
                guard case .nodeInfo(let n) = try await s.request(.drain(NodeRequest(node: NodeID(node), reason: reason))) else { throw CLIError("unexpected reply") }
                return n
            }
            print("node \(n.name) \(n.status.rawValue)")
        }
    }

    /// `schedctl undrain NODE`
    struct Undrain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Let a drained node take new work again.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Node name.") var node: String

        func run() async throws {
            let n: NodeInfo = try await SchedClient.with(try connection.endpoint()) { s in
                guard case .nodeInfo(let n) = try await s.request(.undrain(NodeRequest(node: NodeID(node)))) else { throw CLIError("unexpected reply") }
                return n
            }
            print("node \(n.name) \(n.status.rawValue)")
        }
    }
}
