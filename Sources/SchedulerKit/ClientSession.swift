import Logging
import NIOCore
import SchedCore
import SchedNet
import SchedProtocol

/// schedd's side of a schedctl connection: one reply per request (LOG replies with many lines).
struct ClientSession {
    let scheduler: Scheduler
    let logger: Logger
    let maxLineBytes: Int

    func run(lines: inout NIOAsyncChannelInboundStream<InboundLine>.AsyncIterator,
             outbound: NIOAsyncChannelOutboundWriter<String>) async throws {
        var errors = 0
        while let frame = try await lines.next() {
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
            var reply: Message
            do throws(ErrorReply) {
                reply = try await answer(message)
            } catch {
                reply = .error(error)
            }
            // Group commit: nothing a reply reports goes out before it is durable. SUBMITTED_BATCH
            // reports only ids, stored by the batch's own insert before `submitBatch` returned.
            // A change the store keeps refusing is answered `unavailable`, not confirmed.
            if case .submittedBatch = reply {
            } else if Self.changesState(message), case .error = reply {
                await scheduler.commit()
            } else if Self.changesState(message) {
                if await !scheduler.commitDurably(seconds: scheduler.config.storeRetrySeconds) {
                    reply = .error(ErrorReply(.unavailable, "\(message.verb) is not stored yet: the store refuses writes; schedd keeps it and retries, but cannot confirm it"))
                }
            } else {
                await scheduler.commit()
            }
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

    /// Requests whose reply confirms a change (the others only read; `SUBMITTED` reports ids
    /// that the insert's own transaction stored).
    static func changesState(_ message: Message) -> Bool {
        switch message {
        case .update, .cancel, .drain, .undrain: true
        default: false
        }
    }

    func answer(_ message: Message) async throws(ErrorReply) -> Message {
        switch message {
        case .submit(let s):
            let (first, count) = try await scheduler.submitAll(s.spec)
            return .submitted(Submitted(job: first.id, count: s.spec.array == nil ? nil : count))
        case .submitBatch(let b):
            let (firsts, counts) = try await scheduler.submitBatch(b.specs, placeAtOnce: false)
            return .submittedBatch(SubmittedBatch(jobs: zip(b.specs, zip(firsts, counts)).map { spec, fc in
                Submitted(job: fc.0.id, count: spec.array == nil ? nil : fc.1)
            }))
        case .update(let u): return .jobInfo(try await scheduler.update(u.job, to: u.spec))
        case .listJobs(let q): return .jobList(JobList(jobs: await scheduler.listJobs(q)))
        case .getJob(let r): return .jobInfo(try await scheduler.job(r.job))
        case .cancel(let r): return .jobInfo(try await scheduler.cancel(r.job))
        case .wait(let r): return .jobInfo(try await scheduler.waitForTerminal(r.job))
        case .explain(let r): return .explanation(try await scheduler.explain(r.job))
        case .listNodes(let q): return .nodeList(NodeList(nodes: await scheduler.listNodes(topology: q.topology ?? false)))
        case .drain(let r): return .nodeInfo(try await scheduler.drain(r.node, reason: r.reason))
        case .undrain(let r): return .nodeInfo(try await scheduler.undrain(r.node))
        case .ping: return .pong
        case .status: return .statusInfo(await scheduler.status())
        default: throw ErrorReply(.wrongRole, "\(message.verb) is not a client request")
        }
    }

    /// Stored records, LOG_END, then (with follow) new records as they are appended. While
    /// following, a PING every 5 s detects a reader that went away.
    func serveLog(_ q: LogQuery, outbound: NIOAsyncChannelOutboundWriter<String>) async throws {
        var follower: (UInt64, AsyncStream<PlacementRecord>)?
        if q.follow == true { follower = await scheduler.followLog(q) }
        defer { if let id = follower?.0 { Task { [scheduler] in await scheduler.unfollowLog(id) } } }
        let records: [PlacementRecord]
        do throws(ErrorReply) {
            records = try await scheduler.logRecords(q)
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
