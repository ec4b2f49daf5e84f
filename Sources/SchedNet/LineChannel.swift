import NIOCore
import NIOPosix

/// A TCP connection that reads `InboundLine`s and writes `String` lines.
public typealias LineChannel = NIOAsyncChannel<InboundLine, String>

/// A `HOST:PORT` address (`127.0.0.1:7070`, `[::1]:7070`, `localhost:7070`).
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
    /// Parses `HOST:PORT`; nil when malformed.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        self.host = host
        self.port = port
    }
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Installs the line framing on a freshly accepted or connected channel.
func configureLineChannel(_ channel: any Channel, maxLineBytes: Int) -> EventLoopFuture<LineChannel> {
    channel.eventLoop.makeCompletedFuture {
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLength: maxLineBytes)))
        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(LineEncoder()))
        return try LineChannel(wrappingChannelSynchronously: channel)
    }
}

/// A listening TCP socket whose connections speak lines.
public struct LineServer: Sendable {
    let server: NIOAsyncChannel<LineChannel, Never>
    /// The bound address (useful with port 0).
    public let boundPort: Int

    /// Binds `address`. Port 0 picks a free port, reported in `boundPort`.
    public static func bind(_ address: HostPort, maxLineBytes: Int,
                            group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> LineServer {
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // A peer that half-closes (`nc` after its input ends) still gets its replies.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .bind(host: address.host, port: address.port) { channel in
                configureLineChannel(channel, maxLineBytes: maxLineBytes)
            }
        let port = server.channel.localAddress?.port ?? address.port
        return LineServer(server: server, boundPort: port)
    }

    /// Accepts connections until cancelled; each runs `handler` in its own child task.
    /// A failing connection never stops the server.
    public func run(_ handler: @escaping @Sendable (LineChannel, String) async -> Void) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { inbound in
                for try await connection in inbound {
                    let peer = connection.channel.remoteAddress?.description ?? "?"
                    group.addTask { await handler(connection, peer) }
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
    public static func connect(_ address: HostPort, maxLineBytes: Int = 1 << 26,
                               group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> LineChannel {
        try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .connect(host: address.host, port: address.port) { channel in
                configureLineChannel(channel, maxLineBytes: maxLineBytes)
            }
    }
}
