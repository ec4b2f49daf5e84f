import ArgumentParser
import Foundation
import SchedClient
import SchedCore
import SchedProtocol

extension SchedCtl {
    /// `schedctl node revoke|certs`
    struct Node: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Node identities: revoke a node, list the node certificates schedd issued (cluster admins).",
            subcommands: [Revoke.self, Certs.self])

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Revoke a node: its certificates are refused from now on, its connection is closed and its jobs go back to the queue.",
                discussion: "To bring the node back, give its agent a new join token (schedctl token create --agent).")
            @OptionGroup var connection: ConnectionOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "Node name.") var node: String

            func run() async throws {
                let revoked: NodeRevoked = try await SchedClient.with(try connection.endpoint()) { s in
                    guard case .nodeRevoked(let r) = try await s.request(.nodeRevoke(NodeRevoke(node: NodeID(node)))) else {
                        throw CLIError("unexpected reply to NODE_REVOKE")
                    }
                    return r
                }
                if output.output == .json { print(LineCodec.json(revoked, pretty: true)); return }
                let certificates = revoked.serials.isEmpty ? "no live certificate" : "certificate \(revoked.serials.joined(separator: ", "))"
                func jobs(_ n: Int) -> String { n == 1 ? "1 job" : "\(n) jobs" }
                print("node \(revoked.node) revoked (\(certificates)); \(jobs(revoked.requeued.count)) requeued, \(jobs(revoked.ended.count)) ended")
            }
        }

        struct Certs: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List the node certificates schedd issued (all nodes, or one).")
            @OptionGroup var connection: ConnectionOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "Only this node's.") var node: String?

            func run() async throws {
                let list: [NodeCertificateInfo] = try await SchedClient.with(try connection.endpoint()) { s in
                    guard case .nodeCertificateList(let l) = try await s.request(.listNodeCertificates(NodeCertificateQuery(node: node.map { NodeID($0) }))) else {
                        throw CLIError("unexpected reply to NODE_CERTS")
                    }
                    return l.certificates
                }
                if output.output == .json { print(LineCodec.json(list, pretty: true)); return }
                let style = Date.ISO8601FormatStyle()
                func time(_ ms: Int64?) -> String { ms.map { Date(timeIntervalSince1970: Double($0) / 1000).formatted(style) } ?? "-" }
                var table = Table(["NODE", "SERIAL", "ISSUED", "EXPIRES", "JOIN TOKEN", "REVOKED"])
                for c in list {
                    table.add([c.node.rawValue, c.serial, time(c.issuedAtMs), time(c.expiresAtMs), c.joinToken.map(String.init) ?? "-",
                               time(c.revokedAtMs)])
                }
                print(table.render())
            }
        }
    }
}
