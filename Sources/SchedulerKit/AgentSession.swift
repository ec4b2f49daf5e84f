import Logging
import SchedCore
import SchedNet
import SchedProtocol

/// schedd's side of one agent connection: REGISTER first, then heartbeats and task events.
/// Lines for the agent come from the scheduler through the link's stream and are written by a
/// child task, so the scheduler never waits on a slow socket.
struct AgentSession {
    let scheduler: Scheduler
    /// Who the connection's HELLO token stands for (only cluster admins so far; a later phase
    /// checks roles and tenants here).
    let identity: ConnectionIdentity
    let logger: Logger
    let maxLineBytes: Int

    func run(lines: inout InboundLines.AsyncIterator,
             outbound: LineWriter) async throws {
        let (linkID, stream) = await scheduler.openLink()
        var node: NodeID?
        defer { let n = node; Task { [scheduler] in await scheduler.linkClosed(linkID, node: n) } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await line in stream { try await outbound.write(line) }
                // schedd dropped this link (node timed out or replaced): close our side so the
                // agent reconnects and registers afresh.
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
                    reply = await handle(message, node: &node, linkID: linkID)
                }
                if let reply {
                    errors += 1
                    try await outbound.write(LineCodec.encode(.error(reply)))
                    if errors >= ConnectionHandler.maxConsecutiveErrors { break }
                } else {
                    errors = 0
                }
            }
            group.cancelAll()
        }
    }

    /// Returns an error to send back, or nil when the message was handled.
    private func handle(_ message: Message, node: inout NodeID?, linkID: UInt64) async -> ErrorReply? {
        do throws(ErrorReply) {
            switch message {
            case .register(let r):
                if let n = node, n != r.node { return ErrorReply(.conflict, "this connection is registered as '\(n)'") }
                try await scheduler.register(r, linkID: linkID)
                node = r.node
            case .heartbeat(let h):
                guard node == h.node else { return ErrorReply(.handshakeRequired, "REGISTER before HEARTBEAT") }
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
