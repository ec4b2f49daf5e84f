#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SchedCore

/// Turns one line into a `Message` and back. Pure: no I/O, no NIO.
///
/// Grammar: `VERB` or `VERB SP JSON-OBJECT`, where VERB is `[A-Z_]{1,32}`. A missing JSON
/// object means `{}`. Lines never contain a newline; the framing layer strips `\n` / `\r\n`.
public enum LineCodec {
    /// Serialises a message as one line, without the trailing newline.
    public static func encode(_ message: Message) -> String {
        func line<T: Encodable>(_ payload: T) -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            // Encoding our own value types cannot fail; a failure is a programming error.
            let data = try! encoder.encode(payload)
            return message.verb + " " + String(decoding: data, as: UTF8.self)
        }
        switch message {
        case .hello(let p): return line(p)
        case .welcome(let p): return line(p)
        case .error(let p): return line(p)
        case .ping, .pong, .ok, .status, .listTokens, .whoami: return message.verb + " {}"
        case .register(let p): return line(p)
        case .heartbeat(let p): return line(p)
        case .taskStarted(let p):
            // Hot (one per task, from the agent): the same bytes as the sorted encoder.
            var w = JSONWriter(capacity: 192)
            w.writeSorted(p)
            return message.verb + " " + w.text
        case .taskExited(let p):
            var w = JSONWriter(capacity: 96)
            w.writeSorted(p)
            return message.verb + " " + w.text
        case .registered(let p): return line(p)
        case .startTask(let p):
            // Hot (one per task): hand-written, the same bytes as the sorted encoder.
            var w = JSONWriter()
            w.writeSorted(p)
            return message.verb + " " + w.text
        case .killTask(let p): return line(p)
        case .ackExit(let p):
            // Hot (one per task): the same bytes as the sorted encoder.
            return "ACK_EXIT {\"ref\":{\"job\":\(p.ref.job.rawValue),\"task\":\(p.ref.task)}}"
        case .heartbeatInterval(let p): return line(p)
        case .submitBatch(let p): return line(p)
        case .submittedBatch(let p): return line(p)
        case .submit(let p): return line(p)
        case .update(let p): return line(p)
        case .listJobs(let p): return line(p)
        case .getJob(let p), .cancel(let p), .wait(let p), .explain(let p): return line(p)
        case .listNodes(let p): return line(p)
        case .drain(let p), .undrain(let p): return line(p)
        case .log(let p): return line(p)
        case .submitted(let p): return line(p)
        case .jobList(let p):
            // Up to 100,000 jobs a reply: by hand, the same bytes as the sorted encoder.
            var w = JSONWriter(capacity: 64 + 700 * p.jobs.count)
            w.beginObject()
            w.key("jobs")
            w.beginArray()
            for j in p.jobs { guard w.writeSorted(j) else { return line(p) } }
            w.endArray()
            w.endObject()
            return message.verb + " " + w.text
        case .jobInfo(let p):
            var w = JSONWriter(capacity: 768)
            guard w.writeSorted(p) else { return line(p) }
            return message.verb + " " + w.text
        case .nodeList(let p): return line(p)
        case .nodeInfo(let p): return line(p)
        case .explanation(let p): return line(p)
        case .logRecord(let p):
            // One per record of a LOG reply or follow stream: the stored record's bytes.
            var w = JSONWriter(capacity: 1024)
            w.write(p)
            return message.verb + " " + w.text
        case .logEnd(let p): return line(p)
        case .statusInfo(let p): return line(p)
        case .accepted(let p): return line(p)
        case .audit(let p): return line(p)
        case .auditList(let p): return line(p)
        case .tokenCreate(let p): return line(p)
        case .tokenCreated(let p): return line(p)
        case .tokenList(let p): return line(p)
        case .tokenRevoke(let p): return line(p)
        case .join(let p): return line(p)
        case .joined(let p): return line(p)
        case .nodeRevoke(let p): return line(p)
        case .nodeRevoked(let p): return line(p)
        case .listNodeCertificates(let p): return line(p)
        case .nodeCertificateList(let p): return line(p)
        case .identity(let p): return line(p)
        }
    }

    /// Parses one line (without its newline). Throws an `ErrorReply` ready to send back.
    public static func decode(_ line: Substring) throws(ErrorReply) -> Message {
        try decode(line, scanner: true)
    }

    /// `decode` through the Codable decoders only, so the fuzz target (`Sources/sched-fuzz`) can
    /// check the scanner against them: wherever the scanner answers, both must give one message.
    @_spi(Fuzzing)
    public static func decodeWithoutScanner(_ line: Substring) throws(ErrorReply) -> Message {
        try decode(line, scanner: false)
    }

    static func decode(_ line: Substring, scanner: Bool) throws(ErrorReply) -> Message {
        var text = line
        if text.last == "\r" { text = text.dropLast() }
        let verbEnd = text.firstIndex(of: " ") ?? text.endIndex
        let verb = text[..<verbEnd]
        guard !verb.isEmpty, verb.count <= 32, verb.allSatisfy({ ($0 >= "A" && $0 <= "Z") || $0 == "_" }) else {
            throw ErrorReply(.malformed, "expected 'VERB {json}', got '\(text.prefix(40))'")
        }
        var json = verbEnd < text.endIndex ? text[text.index(after: verbEnd)...] : ""
        while json.first == " " { json = json.dropFirst() }
        if json.isEmpty { json = "{}" }
        // The agent messages that arrive once per task: a scanner for plain input, the Codable
        // decoder for everything else (and for every error).
        if scanner, let fast = HotLineDecoder.decode(verb: verb, json: json) { return fast }
        let data = Data(json.utf8)

        func body<T: Decodable>(_ type: T.Type) throws(ErrorReply) -> T {
            do {
                return try JSONDecoder().decode(T.self, from: data)
            } catch let e as DecodingError {
                throw ErrorReply(.malformed, "\(verb): \(describe(e))")
            } catch {
                throw ErrorReply(.malformed, "\(verb): invalid JSON")
            }
        }
        switch verb {
        case "HELLO": return .hello(try body(Hello.self))
        case "WELCOME": return .welcome(try body(Welcome.self))
        case "ERR": return .error(try body(ErrorReply.self))
        case "PING": return .ping
        case "PONG": return .pong
        case "OK": return .ok
        case "REGISTER": return .register(try body(Register.self))
        case "HEARTBEAT": return .heartbeat(try body(Heartbeat.self))
        case "TASK_STARTED": return .taskStarted(try body(TaskStarted.self))
        case "TASK_EXITED": return .taskExited(try body(TaskExited.self))
        case "REGISTERED": return .registered(try body(Registered.self))
        case "START_TASK": return .startTask(try body(StartTask.self))
        case "KILL_TASK": return .killTask(try body(KillTask.self))
        case "ACK_EXIT": return .ackExit(try body(AckExit.self))
        case "HEARTBEAT_INTERVAL": return .heartbeatInterval(try body(HeartbeatInterval.self))
        case "SUBMIT_BATCH": return .submitBatch(try body(SubmitBatch.self))
        case "SUBMITTED_BATCH": return .submittedBatch(try body(SubmittedBatch.self))
        case "SUBMIT": return .submit(try body(Submit.self))
        case "UPDATE": return .update(try body(UpdateJob.self))
        case "JOBS": return .listJobs(try body(ListJobs.self))
        case "JOB": return .getJob(try body(JobRequest.self))
        case "CANCEL": return .cancel(try body(JobRequest.self))
        case "WAIT": return .wait(try body(JobRequest.self))
        case "EXPLAIN": return .explain(try body(JobRequest.self))
        case "NODES": return .listNodes(try body(ListNodes.self))
        case "DRAIN": return .drain(try body(NodeRequest.self))
        case "UNDRAIN": return .undrain(try body(NodeRequest.self))
        case "LOG": return .log(try body(LogQuery.self))
        case "SUBMITTED": return .submitted(try body(Submitted.self))
        case "JOB_LIST": return .jobList(try body(JobList.self))
        case "JOB_INFO": return .jobInfo(try body(JobInfo.self))
        case "NODE_LIST": return .nodeList(try body(NodeList.self))
        case "NODE_INFO": return .nodeInfo(try body(NodeInfo.self))
        case "EXPLANATION": return .explanation(try body(Explanation.self))
        case "LOG_RECORD": return .logRecord(try body(PlacementRecord.self))
        case "LOG_END": return .logEnd(try body(LogEnd.self))
        case "STATUS": return .status
        case "STATUS_INFO": return .statusInfo(try body(SchedulerStatus.self))
        case "ACCEPTED": return .accepted(try body(Accepted.self))
        case "AUDIT": return .audit(try body(AuditQuery.self))
        case "AUDIT_LIST": return .auditList(try body(AuditList.self))
        case "TOKEN_CREATE": return .tokenCreate(try body(TokenCreate.self))
        case "TOKEN_CREATED": return .tokenCreated(try body(TokenCreated.self))
        case "TOKENS": return .listTokens
        case "TOKEN_LIST": return .tokenList(try body(TokenList.self))
        case "TOKEN_REVOKE": return .tokenRevoke(try body(TokenRevoke.self))
        case "JOIN": return .join(try body(Join.self))
        case "JOINED": return .joined(try body(Joined.self))
        case "NODE_REVOKE": return .nodeRevoke(try body(NodeRevoke.self))
        case "NODE_REVOKED": return .nodeRevoked(try body(NodeRevoked.self))
        case "NODE_CERTS": return .listNodeCertificates(try body(NodeCertificateQuery.self))
        case "NODE_CERT_LIST": return .nodeCertificateList(try body(NodeCertificateList.self))
        case "WHOAMI": return .whoami
        case "IDENTITY": return .identity(try body(IdentityInfo.self))
        default: throw ErrorReply(.unknownVerb, "unknown verb '\(verb)'")
        }
    }

    /// JSON for one value on its own (used for `-o json` and JSON Lines exports).
    public static func json<T: Encodable>(_ value: T, pretty: Bool = false) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    /// Decodes one JSON value (used for stored records).
    public static func fromJSON<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }

    static func describe(_ e: DecodingError) -> String {
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? "" : "field '\(p)': "
        }
        switch e {
        case .keyNotFound(let key, let c): return "\(path(c))missing field '\(key.stringValue)'"
        case .typeMismatch(let t, let c): return "\(path(c))expected \(t)"
        case .valueNotFound(let t, let c): return "\(path(c))expected \(t), got null"
        case .dataCorrupted(let c): return "\(path(c))\(c.debugDescription)"
        @unknown default: return "invalid JSON"
        }
    }
}
