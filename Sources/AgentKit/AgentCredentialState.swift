import Logging
import SchedNet
import SchedProtocol

/// What the agent presents on its next connection, and what it does when schedd refuses it.
///
/// - With a token (`AgentAuthentication.token`): that token in every HELLO, no client certificate.
/// - With a node certificate: the one in the work directory if it is usable (it names this node,
///   is valid now, fits `node.key` and was signed by the CA in `--ca`), with no token; otherwise
///   the agent joins first with its join token. When schedd refuses the certificate (revoked), it
///   joins again if it has a join token it has not used in this run, and stops otherwise.
struct AgentCredentialState {
    let config: AgentConfig
    let logger: Logger
    let files: NodeCredentialFiles
    /// Settled until schedd refuses them.
    private var presented: Presented?
    /// Join even when a usable certificate is on disk (schedd refused it).
    private var mustJoin = false
    /// The join token was used in this run: it is not tried twice.
    private var joined = false
    /// Whether `current()` presents the node certificate (so a refused HELLO means a refused certificate).
    private(set) var presentsCertificate = false

    /// TLS settings for the connection and the token for its HELLO (nil with a node certificate).
    struct Presented {
        var tls: TLSClientConfiguration
        var token: RedactedToken?
    }

    init(config: AgentConfig, logger: Logger) {
        self.config = config
        self.logger = logger
        files = NodeCredentialFiles(workDir: config.workDir)
    }

    /// What to present now, joining first if needed. Throws `AgentRefused` when schedd refused
    /// the join or there is nothing to present; other errors (schedd unreachable) are retried.
    mutating func current() async throws -> Presented {
        if let presented { return presented }
        guard case .nodeCertificate(let joinToken) = config.authentication else {
            if case .token(let t) = config.authentication { presented = Presented(tls: config.tls, token: t) }
            presentsCertificate = false
            return presented!
        }
        let pair: (certificatePEM: String, keyPEM: String)
        if !mustJoin, let stored = files.load(node: config.nodeName, caPEM: config.caPEM) {
            pair = stored
            logger.info("using the node certificate", metadata: ["certificate": "\(files.certificatePath)"])
        } else if let joinToken, !joined {
            if !mustJoin, files.certificateExists {
                logger.notice("the node certificate is not usable here (another node's, expired, or from another CA); joining again",
                              metadata: ["certificate": "\(files.certificatePath)"])
            }
            pair = try await NodeJoin(config: config, joinToken: joinToken, files: files, logger: logger).run()
            joined = true
            mustJoin = false
        } else if files.certificateExists {
            throw AgentRefused("the node certificate \(files.certificatePath) is not usable for node \(config.nodeName) "
                + "(expired, another node's, or from another CA) and there is no join token: create one with "
                + "`schedctl token create --agent` and start sched-agent with --join-token-file FILE or SCHED_JOIN_TOKEN")
        } else {
            throw AgentRefused("no node certificate in \(config.workDir) and no join token: create one with "
                + "`schedctl token create --agent` and start sched-agent with --join-token-file FILE or SCHED_JOIN_TOKEN "
                + "(or give a cluster-admin token with --token-file)")
        }
        let tls = try TLSClientConfiguration(trustRootsPEM: config.caPEM, serverName: config.tls.serverName,
                                             certificateChainPEM: pair.certificatePEM, privateKeyPEM: pair.keyPEM)
        presented = Presented(tls: tls, token: nil)
        presentsCertificate = true
        return presented!
    }

    /// schedd refused the HELLO made with the node certificate: join again next time if a join
    /// token is left, else stop for good.
    mutating func certificateRefused(_ refusal: HelloRefused) throws(AgentRefused) {
        presented = nil
        guard case .nodeCertificate(let joinToken) = config.authentication, joinToken != nil, !joined else {
            throw AgentRefused("schedd refused this node's certificate (\(refusal.reply.message)); create a join token with "
                + "`schedctl token create --agent` and start sched-agent with --join-token-file FILE or SCHED_JOIN_TOKEN")
        }
        mustJoin = true
        logger.warning("schedd refused this node's certificate; joining again with the join token",
                       metadata: ["reason": "\(refusal.reply.message)"])
    }
}

/// schedd answered the HELLO with `ERR` (an unknown, revoked or expired token or certificate).
struct HelloRefused: Error, CustomStringConvertible {
    let reply: ErrorReply
    var description: String { "schedd refused the HELLO: \(reply.code.rawValue): \(reply.message)" }
}
