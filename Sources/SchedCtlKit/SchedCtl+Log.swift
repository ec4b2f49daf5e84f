import ArgumentParser
import SchedClient
import SchedCore
import SchedProtocol
import Foundation

extension SchedCtl {
    /// `schedctl log`
    struct Log: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read the placement log (docs/placement-log.md). -o json prints JSON Lines, one record per line.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Only records of this job.") var job: Int64?
        @Option(help: "Only records placing onto this node.") var node: String?
        @Option(help: "At most this many (the newest) stored records.") var limit: Int = 10_000
        @Flag(help: "Keep printing new records as decisions are made (Ctrl-C to stop).") var follow = false

        func run() async throws {
            let q = LogQuery(job: job.map { JobID($0) }, node: node.map { NodeID($0) }, limit: limit, follow: follow)
            let json = output.output == .json
            try await SchedClient.with(try connection.endpoint()) { s in
                try await s.send(.log(q))
                var stored: [PlacementRecord] = []
                loop: while true {
                    switch try await s.next() {
                    case .logRecord(let r): if json { print(LineCodec.json(r)) } else { stored.append(r) }
                    case .logEnd: break loop
                    case .error(let e): throw CLIError(e.message, code: e.code)
                    default: throw CLIError("unexpected reply to LOG")
                    }
                }
                if !json { print(Formatting.logTable(stored)) }
                fflush(nil)
                guard follow else { return }
                while true {
                    guard case .logRecord(let r) = try await s.next() else { continue }
                    print(json ? LineCodec.json(r) : Formatting.logLine(r))
                    fflush(nil)
                }
            }
        }
    }
}
