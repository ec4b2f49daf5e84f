import Synchronization
internal import NIOCore
internal import NIOPosix
internal import NIOSSL

/// A listening TCP socket whose connections speak lines inside TLS 1.3. A peer is handed to the
/// handler only once its TLS handshake finished; one that sends anything but TLS, presents a
/// certificate that does not verify, or does not finish within the handshake timeout is closed
/// without a byte of the line protocol read or written. `ConnectionLimits` bound what a peer may
/// hold before it is admitted as an agent: a connection over them is closed at accept, before TLS.
public struct LineServer: Sendable {
    let server: NIOAsyncChannel<LinePipeline.Configured, Never>
    let gate: ConnectionGate
    /// The bound address (useful with port 0).
    public let boundPort: Int

    /// Binds `address`. Port 0 picks a free port, reported in `boundPort`. Lines longer than
    /// `maxLineBytes` are discarded as they stream in and reported as `.tooLong`.
    public static func bind(_ address: HostPort, tls: TLSServerConfiguration, maxLineBytes: Int,
                            limits: ConnectionLimits = ConnectionLimits()) async throws -> LineServer {
        let gate = ConnectionGate(limits: limits)
        let server = try await ServerBootstrap(group: LinePipeline.eventLoopGroup)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // tcpOption, not socketOption: that one is SOL_SOCKET, where option 1 is SO_DEBUG.
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            // A peer that half-closes after its last request still gets its replies.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .bind(host: address.host, port: address.port) { channel in
                LinePipeline.configure(channel, side: .server(tls, gate), maxLineBytes: maxLineBytes)
            }
        let port = server.channel.localAddress?.port ?? address.port
        return LineServer(server: server, gate: gate, boundPort: port)
    }

    /// Connections each limit closed so far.
    public var limitCounts: ConnectionLimitCounts { gate.counts }
    /// Connections holding a slot now (not admitted as agents).
    public var limitedConnections: Int { gate.open }

    /// Accepts connections until cancelled (or `close()`); each runs `handler` (with the peer's
    /// address and verified certificate) in its own child task, after its TLS handshake. A
    /// failing connection never stops the server.
    ///
    /// Stopping closes the listening socket first and then goes on reading the accept stream to
    /// its end: a connection accepted just before (an agent reconnecting during a shutdown) is
    /// closed properly instead of dropped, which NIO does not allow (a wrapped channel dropped
    /// without `executeThenClose` traps: "Deinited NIOAsyncWriter without calling finish()").
    /// So the accept loop runs in a task of its own, which cancellation does not reach (a
    /// cancelled iteration would drop what is buffered); once the stream ends, the sessions are
    /// cancelled.
    public func run(_ handler: @escaping @Sendable (LineConnection, LinePeer) async -> Void) async throws {
        let (server, gate, stopping) = (server, gate, StopFlag())
        let accepting = Task {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await accepted in inbound {
                        // Refused by the gate: already closed.
                        guard let channel = accepted.channel else { continue }
                        if stopping.isSet {
                            try? await channel.channel.close()
                            continue
                        }
                        let address = channel.channel.remoteAddress?.description ?? "?"
                        group.addTask {
                            let certificate: PeerCertificate?
                            do {
                                certificate = try await withTaskCancellationHandler {
                                    try await accepted.handshake.get()
                                } onCancel: {
                                    channel.channel.close(promise: nil)
                                }
                            } catch {
                                // The handshake handler closed it (deadline, not TLS, bad certificate).
                                if error is TLSHandshakeHandler.TimedOut { gate.count(.handshake) }
                                try? await channel.channel.close()
                                return
                            }
                            await handler(LineConnection(channel, control: accepted.control), LinePeer(address: address, certificate: certificate))
                        }
                    }
                }
                // The listener is closed and every connection it accepted was taken: stop the sessions.
                group.cancelAll()
            }
        }
        try await withTaskCancellationHandler {
            try await accepting.value
        } onCancel: {
            stopping.set()
            server.channel.close(promise: nil)
        }
    }

    /// Closes the listening socket.
    public func close() async {
        try? await server.channel.close()
    }
}

/// Opens line connections to schedd, inside TLS 1.3.
public enum LineClient {
    /// Connects to `address` (5 s timeout) and finishes the TLS handshake: the server's
    /// certificate must be signed by `tls`'s CA and name `tls.serverName` (default: the host
    /// of `address`); otherwise this throws a `TLSConnectError`. Lines from the peer longer than
    /// `maxLineBytes` arrive as `.tooLong`.
    public static func connect(_ address: HostPort, tls: TLSClientConfiguration,
                               maxLineBytes: Int = 1 << 26) async throws -> LineConnection {
        let name = tls.serverName ?? address.host
        // SNI carries DNS names only; for an IP address TLS checks the address connected to.
        let hostname: String? = isIPAddress(name) ? nil : name
        let configured = try await ClientBootstrap(group: LinePipeline.eventLoopGroup)
            // tcpOption: `.socketOption(.tcp_nodelay)` set SO_DEBUG, which needs CAP_NET_ADMIN, so
            // nothing but root could connect (a non-root agent or schedctl got EACCES).
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .connect(host: address.host, port: address.port) { channel in
                LinePipeline.configure(channel, side: .client(tls, serverHostname: hostname), maxLineBytes: maxLineBytes)
            }
        guard let channel = configured.channel else { throw TLSConnectError(.failed, "no channel") }
        do {
            _ = try await configured.handshake.get()
        } catch {
            try? await channel.channel.close()
            throw classify(error)
        }
        return LineConnection(channel)
    }

    static func isIPAddress(_ s: String) -> Bool {
        (try? SocketAddress(ipAddress: s, port: 0)) != nil
    }

    /// Turns what NIOSSL reports into the few cases a user can act on.
    static func classify(_ error: any Error) -> TLSConnectError {
        if error is TLSHandshakeHandler.TimedOut { return TLSConnectError(.timedOut, "") }
        if let e = error as? NIOSSLExtraError, e == .failedToValidateHostname {
            return TLSConnectError(.nameMismatch, "\(e)")
        }
        let text = "\(error)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificate verify failed") {
            return TLSConnectError(.certificateNotTrusted, text)
        }
        if error is TLSHandshakeHandler.ClosedEarly { return TLSConnectError(.failed, "the server closed the connection") }
        return TLSConnectError(.failed, text)
    }
}

/// Set once, read from any thread: whether `LineServer.run` is stopping.
final class StopFlag: Sendable {
    private let value = Atomic(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}
