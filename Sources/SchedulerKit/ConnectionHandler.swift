import Logging
import SchedCore
import SchedNet
import SchedProtocol
import SchedTrust

/// Serves one connection (TLS already set up by SchedNet): the HELLO handshake with its token or
/// node certificate, then an agent session, a join (a HELLO with an agent join token) or a
/// sequence of schedctl requests. A HELLO whose token or certificate the store does not accept is
/// answered `ERR unauthenticated`, one whose credentials do not allow the role it asks for
/// `ERR forbidden`, and the connection closed. Bad lines get an `ERR` reply and are counted; they
/// never end the daemon.
struct ConnectionHandler {
    let scheduler: Scheduler
    let authenticator: Authenticator
    let enrollment: NodeEnrollment
    let logger: Logger
    let maxLineBytes: Int
    /// A connection that sends this many bad lines in a row is closed.
    static let maxConsecutiveErrors = 100

    func handle(_ connection: LineConnection, peer: LinePeer) async {
        var log = logger
        log[metadataKey: "connection.peer"] = "\(peer.address)"
        do {
            try await connection.executeThenClose { inbound, outbound in
                var lines = inbound.makeAsyncIterator()
                var errors = 0
                // Handshake.
                var hello: Hello?
                var identity: ConnectionIdentity?
                while hello == nil {
                    guard let frame = try await lines.next() else { return }
                    switch parse(frame, maxLineBytes: maxLineBytes) {
                    case .success(.hello(let h)):
                        guard h.protocolVersion == WireProtocol.version else {
                            try await outbound.write(LineCodec.encode(.error(ErrorReply(.unsupportedVersion,
                                "schedd speaks protocol \(WireProtocol.version), peer sent \(h.protocolVersion)"))))
                            return
                        }
                        switch authenticator.authenticate(h, peer: peer) {
                        case .success(let p): identity = p
                        case .failure(let e):
                            log.notice("refused a connection: unauthenticated", metadata: ["role": "\(h.role.rawValue)", "reason": "\(e.message)"])
                            try await outbound.write(LineCodec.encode(.error(e)))
                            return
                        }
                        hello = h
                    case .success:
                        errors += 1
                        await scheduler.countRejectedLine()
                        try await outbound.write(LineCodec.encode(.error(ErrorReply(.handshakeRequired, "send HELLO {\"protocol\":1,\"role\":\"client\"} first"))))
                    case .failure(let e):
                        errors += 1
                        await scheduler.countRejectedLine()
                        log.notice("rejected line", metadata: ["code": "\(e.code.rawValue)"])
                        try await outbound.write(LineCodec.encode(.error(e)))
                    }
                    if errors >= Self.maxConsecutiveErrors { return }
                }
                guard let hello, let identity else { return }
                log[metadataKey: "principal.token"] = "\(identity.principal.tokenID)"
                if let node = identity.certifiedNode { log[metadataKey: "certificate.node"] = "\(node)" }
                if let refusal = Self.sessionRefusal(hello.role, identity) {
                    await scheduler.agentLineForbidden()
                    log.warning("refused a connection: forbidden", metadata: ["role": "\(hello.role.rawValue)", "reason": "\(refusal.message)"])
                    try await outbound.write(LineCodec.encode(.error(refusal)))
                    return
                }
                // Authenticated: the HELLO deadline ends. An agent leaves the connection limits
                // (its liveness is heartbeats'); a client, or an agent that only joins, gets the
                // idle timeout between requests.
                if hello.role == .agent, !identity.isJoinToken { connection.admitAsAgent() } else { connection.beginClientSession() }
                try await outbound.write(LineCodec.encode(.welcome(Welcome())))
                if hello.role == .agent, identity.isJoinToken {
                    try await JoinSession(scheduler: scheduler, enrollment: enrollment, identity: identity,
                                          tokenHash: BearerToken.hash(of: hello.token ?? ""), logger: log, maxLineBytes: maxLineBytes)
                        .run(lines: &lines, outbound: outbound)
                } else if hello.role == .agent {
                    try await AgentSession(scheduler: scheduler, identity: identity, authenticator: authenticator, logger: log,
                                           maxLineBytes: maxLineBytes)
                        .run(lines: &lines, outbound: outbound)
                } else {
                    try await ClientSession(scheduler: scheduler, identity: identity, logger: log, maxLineBytes: maxLineBytes)
                        .run(lines: &lines, outbound: outbound)
                }
            }
        } catch {
            log.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }
}

extension ConnectionHandler {
    /// Why these credentials may not open a session of `role`, or nil. An agent session needs a
    /// node certificate, a join token (to join) or a cluster-admin token; a client session needs a
    /// client or admin token (a join token and a node certificate send no client requests).
    static func sessionRefusal(_ role: Hello.Role, _ identity: ConnectionIdentity) -> ErrorReply? {
        switch role {
        case .agent:
            if identity.isJoinToken || identity.certifiedNode != nil || identity.isClusterAdmin { return nil }
            return ErrorReply(.forbidden, "an agent authenticates with its node certificate (join with sched-agent --join-token-file) "
                + "or a cluster-admin token; this token's role is \(identity.principal.role.rawValue)")
        case .client:
            if identity.isJoinToken { return ErrorReply(.forbidden, "a join token is for sched-agent --join-token only") }
            if identity.kind == nil { return ErrorReply(.forbidden, "a node certificate authenticates agent connections only; clients present a token") }
            return nil
        }
    }
}

/// Decodes one framed line into a message or the error to send back.
func parse(_ frame: InboundLine, maxLineBytes: Int) -> Result<Message, ErrorReply> {
    switch frame {
    case .tooLong(let n):
        return .failure(ErrorReply(.lineTooLong, "line of \(n) bytes discarded; the limit is \(maxLineBytes) bytes"))
    case .invalidUTF8(let n):
        return .failure(ErrorReply(.invalidUTF8, "line of \(n) bytes is not valid UTF-8; discarded"))
    case .line(let text):
        do throws(ErrorReply) { return .success(try LineCodec.decode(Substring(text))) } catch { return .failure(error) }
    }
}
