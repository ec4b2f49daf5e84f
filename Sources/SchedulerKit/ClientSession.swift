import Logging
import SchedCore
import SchedNet
import SchedProtocol

/// schedd's side of a schedctl connection: one reply per request (LOG replies with many lines).
/// When a reply leaves is the control plane's rule: a confirmed change only once stored.
struct ClientSession {
    let scheduler: Scheduler
    /// Who the connection's HELLO token stands for.
    let identity: ConnectionIdentity
    let logger: Logger
    let maxLineBytes: Int
    /// Who this connection's token authenticated: every request is authorized against it.
    var principal: Principal { identity.principal }

    func run(lines: inout InboundLines.AsyncIterator,
             outbound: LineWriter) async throws {
        var errors = 0
        var held: InboundLine?
        while true {
            let incoming: InboundLine?
            if let h = held.take() { incoming = h } else { incoming = try await lines.next() }
            guard let frame = incoming else { return }
            let message: Message
            switch parse(frame, maxLineBytes: maxLineBytes) {
            case .failure(let e):
                await scheduler.countRejectedLine()
                errors += 1
                try await outbound.write(LineCodec.encode(.error(e)))
                if errors >= ConnectionHandler.maxConsecutiveErrors { return }
                continue
            case .success(let m): message = m
            }
            if case .log(let q) = message {
                errors = 0
                try await serveLog(q, outbound: outbound)
                if q.follow == true { return }
                continue
            }
            if case .wait = message {
                // While the answer waits (possibly for days), the connection is watched: when the
                // client goes away (end of input), the WAIT is abandoned and the connection closes
                // instead of holding a socket until the job ends. A line that arrives meanwhile
                // is held and served after the answer, in order.
                let (scheduler, principal) = (scheduler, principal)
                let answering = Task {
                    let reply = await scheduler.answer(message, as: principal)
                    guard !Task.isCancelled else { return }
                    try await outbound.write(LineCodec.encode(reply))
                }
                // Not idle while the answer is pending: no idle timeout on this read.
                let next = try await withTaskCancellationHandler { try await lines.nextIgnoringIdleTimeout() } onCancel: { answering.cancel() }
                guard let next else {
                    answering.cancel()
                    _ = try? await answering.value
                    return
                }
                held = next
                try await answering.value
                errors = 0
                continue
            }
            let reply = await scheduler.answer(message, as: principal)
            try await outbound.write(LineCodec.encode(reply))
            // Only a run of refused requests counts towards closing the connection.
            if case .error = reply {
                errors += 1
                if errors >= ConnectionHandler.maxConsecutiveErrors { return }
            } else {
                errors = 0
            }
        }
    }

    /// Stored records, LOG_END, then (with follow) new records as they are stored. While
    /// following, a PING every 5 s detects a reader that went away.
    func serveLog(_ q: LogQuery, outbound: LineWriter) async throws {
        var follower: (UInt64, AsyncStream<PlacementRecord>)?
        if q.follow == true { follower = await scheduler.followLog(q, as: principal) }
        defer { if let id = follower?.0 { Task { [scheduler] in await scheduler.unfollowLog(id) } } }
        let records: [PlacementRecord]
        do throws(ErrorReply) {
            records = try await scheduler.logRecords(q, as: principal)
        } catch {
            try await outbound.write(LineCodec.encode(.error(error)))
            return
        }
        for r in records { try await outbound.write(LineCodec.encode(.logRecord(r))) }
        try await outbound.write(LineCodec.encode(.logEnd(LogEnd(count: records.count))))
        guard let (_, stream) = follower else { return }
        let lastSeq = records.last?.seq ?? 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await r in stream where r.seq > lastSeq { try await outbound.write(LineCodec.encode(.logRecord(r))) }
            }
            group.addTask {
                while true {
                    try await Task.sleep(for: .seconds(5))
                    try await outbound.write(LineCodec.encode(.ping))
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }
}
