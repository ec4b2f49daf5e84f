internal import NIOCore
internal import NIOPosix

/// A listening TCP socket whose connections speak lines.
public struct LineServer: Sendable {
    let server: NIOAsyncChannel<NIOAsyncChannel<InboundLine, String>, Never>
    /// The bound address (useful with port 0).
    public let boundPort: Int

    /// Binds `address`. Port 0 picks a free port, reported in `boundPort`. Lines longer than
    /// `maxLineBytes` are discarded as they stream in and reported as `.tooLong`.
    public static func bind(_ address: HostPort, maxLineBytes: Int) async throws -> LineServer {
        let server = try await ServerBootstrap(group: LinePipeline.eventLoopGroup)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // tcpOption, not socketOption: that one is SOL_SOCKET, where option 1 is SO_DEBUG.
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            // A peer that half-closes (`nc` after its input ends) still gets its replies.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .bind(host: address.host, port: address.port) { channel in
                LinePipeline.configure(channel, side: .server, maxLineBytes: maxLineBytes)
            }
        let port = server.channel.localAddress?.port ?? address.port
        return LineServer(server: server, boundPort: port)
    }

    /// Accepts connections until cancelled; each runs `handler` (with the peer's address) in
    /// its own child task. A failing connection never stops the server.
    public func run(_ handler: @escaping @Sendable (LineConnection, String) async -> Void) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { inbound in
                for try await channel in inbound {
                    let peer = channel.channel.remoteAddress?.description ?? "?"
                    group.addTask { await handler(LineConnection(channel), peer) }
                }
            }
        }
    }

    /// Closes the listening socket.
    public func close() async {
        try? await server.channel.close()
    }
}

/// Opens line connections to schedd.
public enum LineClient {
    /// Connects to `address` (5 s timeout). Lines from the peer longer than `maxLineBytes`
    /// arrive as `.tooLong`.
    public static func connect(_ address: HostPort, maxLineBytes: Int = 1 << 26) async throws -> LineConnection {
        let channel = try await ClientBootstrap(group: LinePipeline.eventLoopGroup)
            // tcpOption: `.socketOption(.tcp_nodelay)` set SO_DEBUG, which needs CAP_NET_ADMIN, so
            // nothing but root could connect (a non-root agent or schedctl got EACCES).
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .connect(host: address.host, port: address.port) { channel in
                LinePipeline.configure(channel, side: .client, maxLineBytes: maxLineBytes)
            }
        return LineConnection(channel)
    }
}
