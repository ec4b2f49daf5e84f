import ArgumentParser
import SchedClient
import SchedCore
import SchedProtocol

extension SchedCtl {
    /// `schedctl status`
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show schedd's health: uptime, nodes and jobs by state, rejected protocol lines.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let s: SchedulerStatus = try await SchedClient.with(try connection.endpoint()) { session in
                guard case .statusInfo(let s) = try await session.request(.status) else { throw CLIError("unexpected reply to STATUS") }
                return s
            }
            if output.output == .json { print(LineCodec.json(s, pretty: true)); return }
            func counts(_ d: [String: Int]) -> String {
                d.isEmpty ? "none" : d.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            }
            print("""
                schedd:          \(s.software), protocol \(s.protocolVersion), up \(s.uptimeSeconds) s
                policy:          \(s.policy) (default queue)
                queues:          \((s.queues ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))
                state dir:       \(s.stateDir)
                nodes:           \(counts(s.nodes))
                jobs:            \(counts(s.jobs))
                rejected lines:  \(s.rejectedLines)
                limits hit:      \(counts(s.limitsHit ?? [:]))
                forbidden lines: \(s.forbiddenAgentLines ?? 0) (agent lines the node authorizer refused)
                """)
            for (name, t) in (s.tenants ?? [:]).sorted(by: { $0.key < $1.key }) {
                func show(_ q: TenantQuota) -> String { "\(q.cpus) cpus, \(Double(q.gpuMilli) / 1000) gpus" }
                var cap = ""
                if let c = t.cap {
                    cap = "; cap " + [c.cpus.map { "\($0) cpus" }, c.gpuMilli.map { "\(Double($0) / 1000) gpus" }].compactMap { $0 }.joined(separator: ", ")
                }
                print("tenant \(name): holds \(show(t.holding)); quota \(t.quota.map(show) ?? "none")\(cap); usage \(t.decayedUsageCoreSeconds) core-s")
            }
        }
    }
}
