import Logging
import SchedCore
import SchedNet
import SchedProtocol

/// schedd's side of one agent connection: REGISTER first, then heartbeats and task events.
/// Lines for the agent come from the scheduler through the link's stream and are written by a
/// child task, so the scheduler never waits on a slow socket.
///
/// A connection authenticated by a node certificate acts for that node only (the control plane's
/// node authorizer); one with a cluster-admin token for any node. A line refused `forbidden` is
/// answered, then the connection is closed.
struct AgentSession {
    let scheduler: Scheduler
    /// Who the connection's HELLO stands for: its node certificate's node, or a cluster-admin token.
    let identity: ConnectionIdentity
    let authenticator: Authenticator
    let logger: Logger
    let maxLineBytes: Int

    func run(lines: inout InboundLines.AsyncIterator,
             outbound: LineWriter) async throws {
        let certified = identity.certifiedNode
        let (linkID, stream) = await scheduler.openLink(certifiedNode: certified)
        var node: NodeID?
        defer { let n = node; Task { [scheduler] in await scheduler.linkClosed(linkID, node: n) } }
        // Checked again now that the link is open: a NODE_REVOKE that ran between the HELLO and
        // here closed no link of this connection, but it did revoke the certificate in the store.
        if let refusal = authenticator.recheck(identity) {
            logger.notice("refused a connection: unauthenticated", metadata: ["reason": "\(refusal.message)"])
            try await outbound.write(LineCodec.encode(.error(refusal)))
            return
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await line in stream { try await outbound.write(line) }
                // schedd dropped this link (node timed out, replaced or revoked): close our side so
                // the agent reconnects and registers afresh.
                outbound.finish()
            }
            var errors = 0
            while let frame = try await lines.next() {
                let reply: ErrorReply?
                switch parse(frame, maxLineBytes: maxLineBytes) {
                case .failure(let e):
                    await scheduler.countRejectedLine()
                    reply = e
                case .success(let message):
                    reply = await handle(message, node: &node, linkID: linkID, certified: certified)
                }
                if let reply {
                    errors += 1
                    try await outbound.write(LineCodec.encode(.error(reply)))
                    if reply.code == .forbidden || errors >= ConnectionHandler.maxConsecutiveErrors { break }
                } else {
                    errors = 0
                }
            }
            group.cancelAll()
        }
    }

    /// Returns an error to send back, or nil when the message was handled.
    private func handle(_ message: Message, node: inout NodeID?, linkID: UInt64, certified: NodeID?) async -> ErrorReply? {
        do throws(ErrorReply) {
            switch message {
            case .register(let r):
                if let n = node, n != r.node { return ErrorReply(.conflict, "this connection is registered as '\(n)'") }
                try await scheduler.register(r, linkID: linkID)
                node = r.node
            case .heartbeat(let h):
                // A heartbeat naming a node the certificate does not cover goes to the control
                // plane, which refuses it `forbidden`; otherwise it must follow REGISTER.
                let outsideCertificate = certified.map { $0 != h.node } ?? false
                guard node == h.node || outsideCertificate else { return ErrorReply(.handshakeRequired, "REGISTER before HEARTBEAT") }
                try await scheduler.heartbeat(h, linkID: linkID)
            case .taskStarted(let s):
                guard let n = node else { return ErrorReply(.handshakeRequired, "REGISTER first") }
                await scheduler.taskStarted(s, node: n)
            case .taskExited(let e):
                guard let n = node else { return ErrorReply(.handshakeRequired, "REGISTER first") }
                await scheduler.taskExited(e, node: n)
            case .ping:
                await scheduler.sendPong(to: linkID)
            case .pong, .error:
                break
            case .join:
                await scheduler.agentLineForbidden()
                return ErrorReply(.forbidden, "JOIN needs a connection whose HELLO carries an agent join token")
            default:
                return ErrorReply(.wrongRole, "\(message.verb) is not an agent message")
            }
            return nil
        } catch {
            logger.warning("agent request refused", metadata: ["verb": "\(message.verb)", "error": "\(error.message)"])
            return error
        }
    }
}
