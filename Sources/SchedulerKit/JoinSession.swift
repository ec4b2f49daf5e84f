import Logging
import SchedCore
import SchedNet
import SchedProtocol

/// schedd's side of a connection whose HELLO carried an agent join token: one `JOIN` (answered
/// `JOINED` with the node certificate, or `ERR`), then the connection is closed; the agent comes
/// back with mutual TLS. Anything but `JOIN` (and `PING`) is refused `forbidden` and closes it:
/// a join token registers no node and reads nothing.
struct JoinSession {
    let scheduler: Scheduler
    let enrollment: NodeEnrollment
    let identity: ConnectionIdentity
    /// SHA-256 of the HELLO's join token (the token itself is not kept).
    let tokenHash: String
    let logger: Logger
    let maxLineBytes: Int

    func run(lines: inout InboundLines.AsyncIterator, outbound: LineWriter) async throws {
        var errors = 0
        while let frame = try await lines.next() {
            switch parse(frame, maxLineBytes: maxLineBytes) {
            case .failure(let e):
                await scheduler.countRejectedLine()
                try await outbound.write(LineCodec.encode(.error(e)))
                errors += 1
                if errors >= ConnectionHandler.maxConsecutiveErrors { return }
            case .success(.join(let join)):
                try await answer(join, outbound: outbound)
                return
            case .success(.ping):
                try await outbound.write(LineCodec.encode(.pong))
            case .success(.pong), .success(.error):
                continue
            case .success(let message):
                await scheduler.agentLineForbidden()
                logger.warning("join token used for another message; closing the connection", metadata: ["verb": "\(message.verb)"])
                try await outbound.write(LineCodec.encode(.error(ErrorReply(.forbidden,
                    "a join token allows only JOIN; \(message.verb) needs a node certificate (join first) or a cluster-admin token"))))
                return
            }
        }
    }

    private func answer(_ join: Join, outbound: LineWriter) async throws {
        let principal = identity.principal
        switch enrollment.enroll(join, tokenHash: tokenHash) {
        case .success(let joined):
            await scheduler.audit("JOIN", "node \(join.node) (certificate \(joined.serial))", by: principal, outcome: "ok")
            logger.notice("node joined", metadata: ["node.id": "\(join.node)", "certificate.serial": "\(joined.serial)",
                                                    "token.id": "\(principal.tokenID)"])
            try await outbound.write(LineCodec.encode(.joined(joined)))
        case .failure(let e):
            await scheduler.audit("JOIN", "node \(join.node)", by: principal, outcome: e.code.rawValue)
            logger.warning("join refused", metadata: ["node.id": "\(join.node)", "token.id": "\(principal.tokenID)",
                                                      "reason": "\(e.message)"])
            try await outbound.write(LineCodec.encode(.error(e)))
        }
    }
}
