import ArgumentParser
import Foundation
import SchedClient
import SchedCore
import SchedNet
import SchedProtocol

extension SchedCtl {
    /// `schedctl run [...] -- CMD ARGS...`
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a command as a job. Prints the job id; with --wait, waits and exits with the job's status.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "PUs (hardware threads).") var cpus: Int = 1
        @Option(help: "Memory to reserve: 512M, 8G, 8GiB (powers of 1024). Default: none.") var memory: String?
        @Option(help: "GPUs: whole GPUs (2), or a share of one GPU (0.5, 250m).") var gpus: String = "0"
        @Option(help: "GPU model (case-insensitive substring, e.g. V100).") var gpuModel: String?
        @Option(help: "CPU architecture: x86_64 or aarch64.") var arch: String?
        @Option(help: "Job name.") var name: String?
        @Option(help: "Queue (its policy ranks the nodes; default: default).") var queue: String?
        @Option(help: "Tenant the job is accounted to (quotas, fair share; default: default).") var tenant: String?
        @Option(help: "Submit N copies as a job array (members get SCHED_ARRAY_TASK_ID 0..N-1).") var array: Int?
        @Option(help: "Priority: higher runs first among pending jobs (default 0).") var priority: Int?
        @Flag(help: "May be stopped and re-queued to make room for higher-priority jobs.") var preemptible = false
        @Flag(help: "With --array N: a gang, all N tasks placed at once or none.") var gang = false
        @Flag(help: "A service: the task (each replica, with --array N) is restarted whenever it ends, until cancelled.") var service = false
        @Option(help: "With --gang: keep it inside one NVLink domain: required or preferred.") var nvlink: String?
        @Option(help: "Seconds to run before preemption may stop the job.") var minRuntime: Int?
        @Option(help: "Stop the task after this many seconds (also lets backfill start it early).") var timeLimit: Int?
        @Option(help: "Signal sent first on preemption so the job can checkpoint (USR1, TERM, 10, ...).") var checkpointSignal: String?
        @Option(name: .customLong("node-selector"), help: "Only nodes with label KEY=VALUE (repeatable).") var nodeSelector: [String] = []
        @Option(name: .customLong("env"), help: "Environment variable KEY=VALUE for the task (repeatable).") var env: [String] = []
        @Option(help: "Working directory of the task.") var workdir: String?
        @Option(help: "Seconds between SIGTERM and SIGKILL on cancel.") var killGrace: Int?
        @Flag(help: "Wait for the job to end; print where it ran and exit with its status.") var wait = false
        @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.") var command: [String] = []

        func spec() throws -> JobSpec {
            guard !command.isEmpty else { throw ValidationError("give the command after --, e.g. schedctl run --cpus 2 -- hostname") }
            var mem: Int64 = 0
            if let m = memory {
                guard let b = ByteSize.parse(m) else { throw ValidationError("--memory: expected a size such as 512M or 8GiB, got '\(m)'") }
                mem = b
            }
            var signal: Int32?
            if let cs = checkpointSignal {
                guard let n = SignalName.parse(cs) else { throw ValidationError("--checkpoint-signal: unknown signal '\(cs)'") }
                signal = n
            }
            var locality: NVLinkLocality?
            if let n = nvlink {
                guard let l = NVLinkLocality(rawValue: n.lowercased()) else { throw ValidationError("--nvlink: expected required or preferred, got '\(n)'") }
                locality = l
            }
            if let w = workdir, !w.hasPrefix("/") { throw ValidationError("--workdir must be an absolute path, got '\(w)'") }
            guard let gpuAmount = GPUAmount.parse(gpus) else {
                throw ValidationError("--gpus: expected whole GPUs (2) or a share of one GPU (0.5, 250m), got '\(gpus)'")
            }
            var selector: [String: String] = [:]
            for l in nodeSelector {
                guard let eq = l.firstIndex(of: "="), eq != l.startIndex else { throw ValidationError("--node-selector: expected KEY=VALUE, got '\(l)'") }
                selector[String(l[..<eq])] = String(l[l.index(after: eq)...])
            }
            var vars: [String: String] = [:]
            for e in env {
                guard let eq = e.firstIndex(of: "="), eq != e.startIndex else { throw ValidationError("--env: expected KEY=VALUE, got '\(e)'") }
                vars[String(e[..<eq])] = String(e[e.index(after: eq)...])
            }
            let spec = JobSpec(name: name, command: command,
                               resources: ResourceRequest(cpus: cpus, memoryBytes: mem, gpus: gpuAmount.gpus, gpuModel: gpuModel,
                                                          arch: arch.map(ResourceRequest.canonicalArch), gpuMilli: gpuAmount.milli,
                                                          labels: selector),
                               env: vars, workdir: workdir, killGraceSeconds: killGrace, queue: queue,
                               array: array, priority: priority, preemptible: preemptible ? true : nil,
                               minRuntimeSeconds: minRuntime, checkpointSignal: signal, gang: gang ? true : nil, nvlink: locality,
                               service: service ? true : nil, timeLimitSeconds: timeLimit, tenant: tenant)
            if let p = spec.problems().first { throw ValidationError("\(p.field): \(p.message)") }
            return spec
        }

        func run() async throws {
            try await submitAndMaybeWait(try spec(), endpoint: try connection.endpoint(), wait: wait)
        }
    }

    /// `schedctl submit FILE...`
    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Submit YAML job specs (see docs/job-spec.md); several files go in one SUBMIT_BATCH, all or none.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Job spec files ('-' reads standard input).") var files: [String]
        @Flag(help: "Wait for the job to end; print where it ran and exit with its status (one file only).") var wait = false

        func validate() throws {
            guard !files.isEmpty else { throw ValidationError("give at least one job spec file") }
            if wait, files.count > 1 { throw ValidationError("--wait takes one file") }
            if files.filter({ $0 == "-" }).count > 1 { throw ValidationError("'-' (standard input) can be given once") }
        }

        func run() async throws {
            // Every file is parsed before anything is sent: one bad file submits nothing.
            var specs: [JobSpec] = []
            for file in files {
                specs.append(try SpecFile.read(file))
            }
            if specs.count == 1 {
                try await submitAndMaybeWait(specs[0], endpoint: try connection.endpoint(), wait: wait)
                return
            }
            // One line, one transaction; prints one id (or FIRST-LAST for an array) per file, in order.
            let reply = try await SchedClient.with(try connection.endpoint()) { s in try await s.request(.submitBatch(SubmitBatch(specs: specs))) }
            guard case .submittedBatch(let b) = reply else { throw CLIError("unexpected reply to SUBMIT_BATCH") }
            for sub in b.jobs {
                let count = Int64(sub.count ?? 1)
                print(count == 1 ? "\(sub.job)" : "\(sub.job)-\(JobID(sub.job.rawValue + count - 1))")
            }
        }
    }
}

/// Submits; without `wait` prints the id (`FIRST-LAST` for a job array). With `wait`, prints
/// progress, where each job ran, and exits with the job's status (see `exitStatus`; for an array,
/// the first member that did not complete decides).
func submitAndMaybeWait(_ spec: JobSpec, endpoint: SchedEndpoint, wait: Bool) async throws {
    let finals: [JobInfo] = try await SchedClient.with(endpoint) { s in
        guard case .submitted(let sub) = try await s.request(.submit(Submit(spec: spec))) else { throw CLIError("unexpected reply to SUBMIT") }
        let ids = (0..<Int64(sub.count ?? 1)).map { JobID(sub.job.rawValue + $0) }
        let label = ids.count == 1 ? "\(sub.job)" : "\(sub.job)-\(ids.last!)"
        guard wait else {
            print(label)
            return []
        }
        print(ids.count == 1 ? "job \(label) submitted" : "jobs \(label) submitted (array of \(ids.count))")
        var out: [JobInfo] = []
        for id in ids {
            guard case .jobInfo(let j) = try await s.request(.wait(JobRequest(job: id))) else { throw CLIError("unexpected reply to WAIT") }
            out.append(j)
        }
        return out
    }
    guard !finals.isEmpty else { return }
    for j in finals {
        print("job \(j.id) \(j.state.rawValue): \(Formatting.exit(j.exit))")
        print("ran on \(Formatting.placement(j))")
        if let o = j.stdoutPath { print("stdout: \(o)") }
    }
    if let bad = finals.first(where: { exitStatus($0) != 0 }) { throw ExitCode(exitStatus(bad)) }
}
