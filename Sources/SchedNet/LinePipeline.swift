internal import NIOCore
internal import NIOPosix

/// The one place where a connection's channel pipeline is built, for accepted (`LineServer`)
/// and connected (`LineClient`) sockets alike. TLS (swift-nio-ssl) will go here: a
/// `NIOSSLServerHandler` or `NIOSSLClientHandler`, chosen by `side`, added first, before the
/// framing, so that everything above it sees plaintext bytes.
enum LinePipeline {
    /// Which end of the connection this process is (a TLS handler differs per side).
    enum Side {
        case server, client
    }

    /// The event loops every connection runs on.
    static var eventLoopGroup: MultiThreadedEventLoopGroup { .singleton }

    /// Installs the line framing and wraps the channel for async use, on its event loop.
    static func configure(_ channel: any Channel, side: Side,
                          maxLineBytes: Int) -> EventLoopFuture<NIOAsyncChannel<InboundLine, String>> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            // (TLS: the handler for `side` goes here.)
            try pipeline.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLength: maxLineBytes)))
            try pipeline.addHandler(MessageToByteHandler(LineEncoder()))
            return try NIOAsyncChannel<InboundLine, String>(wrappingChannelSynchronously: channel)
        }
    }
}
