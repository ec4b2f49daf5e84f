import ArgumentParser
import Foundation
import SchedClient
import SchedCore
import SchedProtocol

extension SchedCtl {
    /// `schedctl update ID FILE`: a rolling update of a service.
    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Roll a service to a new spec (docs/job-spec.md): replicas are replaced one at a time, the next once the new one runs.",
            discussion: "Progress: `schedctl job ID`. With --wait, waits until every replica runs the new revision.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The service: any replica's job id.") var id: Int64
        @Argument(help: "The new job spec file ('-' reads standard input); must keep service: true and the same array.") var file: String
        @Flag(help: "Wait until every replica runs the new revision, printing progress.") var wait = false

        func run() async throws {
            let spec = try SpecFile.read(file)
            try await SchedClient.with(try connection.endpoint()) { s in
                guard case .jobInfo(let j) = try await s.request(.update(UpdateJob(job: JobID(id), spec: spec))) else {
                    throw CLIError("unexpected reply to UPDATE")
                }
                let revision = j.rolloutProgress?.revision ?? j.revision ?? 1
                print("job \(id): rolling update to revision \(revision) started")
                guard wait else { return }
                var last = ""
                while true {
                    guard case .jobInfo(let now) = try await s.request(.getJob(JobRequest(job: JobID(id)))) else { throw CLIError("unexpected reply to JOB") }
                    guard let p = now.rolloutProgress else {
                        print("job \(id): every replica runs revision \(now.revision ?? 1)")
                        return
                    }
                    let line = "\(p.updated) of \(p.total) replicas updated"
                    if line != last { print(line); last = line }
                    try await Task.sleep(for: .milliseconds(500))
                }
            }
        }
    }
}
