import ArgumentParser
import SchedClient
import SchedCore
import SchedProtocol

extension SchedCtl {
    /// `schedctl jobs`
    struct Jobs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List jobs, newest first.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Only jobs in this state (repeatable): pending, starting, running, completed, failed, cancelled.")
        var state: [String] = []
        @Option(help: "At most this many jobs.") var limit: Int = 1000

        func run() async throws {
            let states = try state.map { s -> JobState in
                guard let st = JobState(rawValue: s) else { throw ValidationError("unknown state '\(s)'") }
                return st
            }
            let jobs: [JobInfo] = try await SchedClient.with(try connection.endpoint()) { s in
                guard case .jobList(let l) = try await s.request(.listJobs(ListJobs(states: states.isEmpty ? nil : states, limit: limit))) else {
                    throw CLIError("unexpected reply to JOBS")
                }
                return l.jobs
            }
            print(output.output == .json ? LineCodec.json(jobs, pretty: true) : Formatting.jobsTable(jobs))
        }
    }

    /// `schedctl job ID` (alias `show`)
    struct Job: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one job: state, placement, exit status, output files, rollout progress.",
                                                        aliases: ["show"])
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "Job id.") var id: Int64

        func run() async throws {
            let j: JobInfo = try await SchedClient.with(try connection.endpoint()) { s in
                guard case .jobInfo(let j) = try await s.request(.getJob(JobRequest(job: JobID(id)))) else { throw CLIError("unexpected reply") }
                return j
            }
            print(output.output == .json ? LineCodec.json(j, pretty: true) : Formatting.jobDetail(j))
        }
    }

    /// `schedctl cancel ID`
    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a job (running tasks get SIGTERM, then SIGKILL after the grace period).")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Job id.") var id: Int64

        func run() async throws {
            let j: JobInfo = try await SchedClient.with(try connection.endpoint()) { s in
                guard case .jobInfo(let j) = try await s.request(.cancel(JobRequest(job: JobID(id)))) else { throw CLIError("unexpected reply") }
                return j
            }
            print(j.state == .cancelled ? "job \(j.id) cancelled" : "job \(j.id): cancel requested, stopping its task")
        }
    }

    /// `schedctl explain ID`
    struct Explain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Why a job waits, or why it went where it went.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "Job id.") var id: Int64

        func run() async throws {
            let x: Explanation = try await SchedClient.with(try connection.endpoint()) { s in
                guard case .explanation(let x) = try await s.request(.explain(JobRequest(job: JobID(id)))) else { throw CLIError("unexpected reply") }
                return x
            }
            print(output.output == .json ? LineCodec.json(x, pretty: true) : Formatting.explanation(x))
        }
    }
}
