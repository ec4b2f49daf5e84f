import Foundation
import Logging
import SchedCore
import SchedNet
import SchedProtocol
import SchedTrust

/// Joining the cluster with a join token, once: a new P-256 key (written to `node.key`, 0600,
/// before anything is sent), a TLS connection without a client certificate, `HELLO` with the join
/// token, `JOIN {node, csr}`; schedd answers `JOINED` with the node certificate (written to
/// `node.pem`) and closes. From then on the agent uses mutual TLS with that certificate.
struct NodeJoin {
    let config: AgentConfig
    let joinToken: RedactedToken
    let files: NodeCredentialFiles
    let logger: Logger

    /// The certificate and key. Throws `AgentRefused` when schedd refused the token or the join
    /// (the agent stops: trying again would not help), anything else when schedd could not be
    /// reached (the caller retries).
    func run() async throws -> (certificatePEM: String, keyPEM: String) {
        let key = try NodeKey.generate(nodeName: config.nodeName.rawValue)
        try files.saveKey(key.keyPEM)
        let connection = try await LineClient.connect(config.scheduler, tls: config.tls, maxLineBytes: config.maxLineBytes)
        let joined: Joined = try await connection.executeThenClose { inbound, outbound in
            var lines = inbound.makeAsyncIterator()
            func next() async throws -> Message {
                while let frame = try await lines.next() {
                    guard case .line(let text) = frame else { continue }
                    do throws(ErrorReply) { return try LineCodec.decode(Substring(text)) } catch { continue }
                }
                throw LaunchError("schedd closed the connection during the join")
            }
            try await outbound.write(LineCodec.encode(.hello(Hello(role: .agent, token: joinToken.secret))))
            switch try await next() {
            case .welcome: break
            case .error(let e): throw AgentRefused("schedd refused the join token: \(e.code.rawValue): \(e.message)")
            default: throw LaunchError("schedd did not answer HELLO with WELCOME")
            }
            try await outbound.write(LineCodec.encode(.join(Join(node: config.nodeName, csr: key.requestPEM))))
            switch try await next() {
            case .joined(let j): return j
            case .error(let e): throw AgentRefused("schedd refused the join of node \(config.nodeName): \(e.code.rawValue): \(e.message)")
            default: throw LaunchError("schedd did not answer JOIN with JOINED")
            }
        }
        let certificate = try NodeCertificate(pem: joined.certificate)
        guard certificate.usable(nodeName: config.nodeName.rawValue, keyPEM: key.keyPEM, caPEM: config.caPEM) else {
            throw AgentRefused("schedd sent a certificate that does not fit this node's key, name or CA")
        }
        try files.saveCertificate(joined.certificate)
        logger.notice("joined the cluster: node certificate stored", metadata: [
            "node.id": "\(config.nodeName)", "certificate.serial": "\(joined.serial)", "certificate": "\(files.certificatePath)",
            "key": "\(files.keyPath)"])
        return (joined.certificate, key.keyPEM)
    }
}

/// schedd refused this agent's credentials for good (a used, expired or revoked join token, a
/// node certificate revoked with no join token to join again): the agent prints it and exits
/// non-zero.
public struct AgentRefused: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
