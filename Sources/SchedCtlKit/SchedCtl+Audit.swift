import ArgumentParser
import Foundation
import SchedClient
import SchedProtocol

extension SchedCtl {
    /// `schedctl audit [--since D|TIME] [--limit N]`
    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the audit log: every change (submit, cancel, update, drain, undrain), who made it and how it ended.",
            discussion: "Cluster admins only. Oldest first; times are UTC.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Only records since this long ago (30s, 15m, 2h, 7d) or this RFC 3339 time.")
        var since: String?
        @Option(help: "At most this many records, the newest.")
        var limit: Int = 1000

        func validate() throws {
            if let since, Self.sinceMs(since, now: Date()) == nil {
                throw ValidationError("--since: expected a duration such as 30s, 15m, 2h or 7d, or an RFC 3339 time, got '\(since)'")
            }
            guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
        }

        /// Wall-clock ms of `text`: a duration back from `now`, or an RFC 3339 time.
        static func sinceMs(_ text: String, now: Date) -> Int64? {
            let t = text.trimmingCharacters(in: .whitespaces).lowercased()
            if let unit = t.last, let mult = ["s": 1.0, "m": 60, "h": 3600, "d": 86_400][unit], let n = Double(t.dropLast()), n >= 0 {
                return Int64((now.timeIntervalSince1970 - n * mult) * 1000)
            }
            let style = Date.ISO8601FormatStyle(includingFractionalSeconds: text.contains("."))
            return (try? style.parse(text)).map { Int64($0.timeIntervalSince1970 * 1000) }
        }

        func run() async throws {
            let query = AuditQuery(sinceMs: since.flatMap { Self.sinceMs($0, now: Date()) }, limit: limit)
            let records: [AuditRecord] = try await SchedClient.with(try connection.endpoint()) { s in
                guard case .auditList(let l) = try await s.request(.audit(query)) else { throw CLIError("unexpected reply to AUDIT") }
                return l.records
            }
            if output.output == .json { print(LineCodec.json(records, pretty: true)); return }
            let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
            var table = Table(["TIME", "TOKEN", "TENANT", "ROLE", "VERB", "OBJECT", "OUTCOME"])
            for r in records {
                table.add([Date(timeIntervalSince1970: Double(r.timeMs) / 1000).formatted(style), r.tokenID, r.tenant ?? "-",
                           r.role.rawValue, r.verb, r.object, r.outcome])
            }
            print(table.render(), terminator: "")
        }
    }
}
