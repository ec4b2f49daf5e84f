import Logging
import SchedCore
import SchedNet
import SchedProtocol

/// Serves one connection (TLS already set up by SchedNet): the HELLO handshake with its token,
/// then either an agent session or a sequence of schedctl requests. A HELLO without a token the
/// store knows is answered `ERR unauthenticated` and the connection closed. Bad lines get an
/// `ERR` reply and are counted; they never end the daemon.
struct ConnectionHandler {
    let scheduler: Scheduler
    let authenticator: Authenticator
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
                log[metadataKey: "principal.token"] = "\(identity.tokenID)"
                // Authenticated: the HELLO deadline ends. A client gets the idle timeout between
                // requests; an agent leaves the connection limits (its liveness is heartbeats').
                if hello.role == .agent { connection.admitAsAgent() } else { connection.beginClientSession() }
                try await outbound.write(LineCodec.encode(.welcome(Welcome())))
                if hello.role == .agent {
                    try await AgentSession(scheduler: scheduler, identity: identity, logger: log, maxLineBytes: maxLineBytes)
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
