import Foundation
import SchedCore
import SchedNet
import SchedProtocol
import SchedTrust

/// schedd's end of agent links, played by a test: the real `sched-agent` connects to it over TLS
/// (start it with `TestCluster.startAgent` after setting the cluster's `port` to this one's; the
/// CA and a token are written where the cluster's agents read them), is welcomed
/// and registered, and the test then sends what schedd would (`START_TASK` with any `user`,
/// `KILL_TASK`, `ACK_EXIT`) and reads what the agent answers. Heartbeats are dropped.
public final class ScriptedScheduler: Sendable {
    let server: LineServer
    let state = LinkState()
    let serving: Task<Void, Never>

    public var port: Int { server.boundPort }

    /// `stateDir`: where a real schedd would keep `ca.pem` and `admin.token` (the cluster's
    /// `stateDir`); a throwaway CA and token are written there. Any token is accepted.
    public init(stateDir: String) async throws {
        let ca = try ClusterCA.generate()
        let issued = try ca.issueServerCertificate(names: try ServerNames(hostName: "scripted-schedd", extra: []))
        try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        try SecretFile.write(try ca.certificatePEM, to: stateDir + "/ca.pem", mode: 0o644)
        try SecretFile.write(BearerToken.generate().secret + "\n", to: stateDir + "/admin.token", mode: 0o600)
        let tls = try TLSServerConfiguration(certificateChainPEM: try issued.certificatePEM, privateKeyPEM: issued.keyPEM,
                                             clientCertificateTrustRootsPEM: try ca.certificatePEM)
        let server = try await LineServer.bind(HostPort(host: "127.0.0.1", port: 0), tls: tls, maxLineBytes: 1 << 26)
        self.server = server
        let state = state
        serving = Task {
            try? await server.run { connection, _ in
                try? await connection.executeThenClose { inbound, outbound in
                    for try await frame in inbound {
                        guard case .line(let text) = frame, let m = try? LineCodec.decode(Substring(text)) else { continue }
                        switch m {
                        case .hello: try await outbound.write(LineCodec.encode(.welcome(Welcome())))
                        case .register(let r):
                            try await outbound.write(LineCodec.encode(.registered(Registered(node: r.node, heartbeatIntervalMs: 1000))))
                            await state.registered(r, outbound)
                        case .heartbeat: continue
                        default: await state.received(m)
                        }
                    }
                }
            }
        }
    }

    /// The agent's registration, once it registered.
    public func registration() async throws -> Register {
        try await eventually("the agent to register") { await self.state.register }
    }

    /// Sends `m` to the registered agent.
    public func send(_ m: Message) async throws {
        _ = try await registration()
        guard let writer = await state.writer else { throw TestFailure("no agent link") }
        try await writer.write(LineCodec.encode(m))
    }

    /// The first message from the agent not yet taken that `matches`, waiting for it.
    public func next(_ what: String, timeout: Duration = .seconds(30), _ matches: @escaping @Sendable (Message) -> Bool) async throws -> Message {
        try await eventually(what, timeout: timeout) { await self.state.take(matches) }
    }

    /// `TASK_STARTED` or `TASK_EXITED` for the task of job `job`.
    public func startReply(job: Int64) async throws -> Message {
        try await next("the agent's answer to START_TASK \(job)") {
            switch $0 {
            case .taskStarted(let s): s.ref.job.rawValue == job
            case .taskExited(let e): e.ref.job.rawValue == job
            default: false
            }
        }
    }

    /// `TASK_EXITED` for job `job`.
    public func exit(job: Int64, timeout: Duration = .seconds(30)) async throws -> TaskExit {
        guard case .taskExited(let e) = try await next("TASK_EXITED \(job)", timeout: timeout, {
            if case .taskExited(let e) = $0 { e.ref.job.rawValue == job } else { false }
        }) else { throw TestFailure("not TASK_EXITED") }
        return e.exit
    }

    public func close() async {
        serving.cancel()
        await server.close()
    }

    /// A `START_TASK` for job `job` on `node`: `command` on PUs `pus`, as `user`.
    public static func startTask(job: Int64, node: String, command: [String], user: String?, workdir: String? = nil,
                                 pus: CPUSet = CPUSet([0]), gpus: [Int] = [], memoryBytes: Int64 = 0) -> Message {
        let memory = memoryBytes > 0 ? [NUMAMemory(numa: 0, bytes: memoryBytes)] : []
        return .startTask(StartTask(ref: TaskRef(job: JobID(job)), jobName: "scripted-\(job)", command: command, env: [:], workdir: workdir,
                                    assignment: Assignment(node: NodeID(node), pus: pus, numaNodes: NUMASet([0]), gpus: gpus, memory: memory),
                                    killGraceSeconds: 5, user: user))
    }
}

/// What one scripted link has seen.
actor LinkState {
    var register: Register?
    var writer: LineWriter?
    var inbox: [Message] = []

    func registered(_ r: Register, _ w: LineWriter) {
        register = r
        writer = w
    }

    func received(_ m: Message) { inbox.append(m) }

    func take(_ matches: (Message) -> Bool) -> Message? {
        guard let i = inbox.firstIndex(where: matches) else { return nil }
        return inbox.remove(at: i)
    }
}
