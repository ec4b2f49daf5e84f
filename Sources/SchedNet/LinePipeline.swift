internal import NIOCore
internal import NIOPosix
internal import NIOSSL

/// The one place where a connection's channel pipeline is built, for accepted (`LineServer`)
/// and connected (`LineClient`) sockets alike: TLS first (`NIOSSLServerHandler` or
/// `NIOSSLClientHandler`, TLS 1.3 only), then the handshake deadline, then the framing, so that
/// everything above TLS sees plaintext bytes and nothing reaches it before the handshake finished.
enum LinePipeline {
    /// Which end of the connection this process is, with its TLS settings.
    enum Side {
        case server(TLSServerConfiguration)
        /// `serverHostname`: the DNS name to send (SNI) and check; nil checks the peer's IP address.
        case client(TLSClientConfiguration, serverHostname: String?)
    }

    /// A connection whose pipeline is built, and the end of its TLS handshake (the peer's
    /// verified certificate, if it sent one).
    struct Configured: Sendable {
        let channel: NIOAsyncChannel<InboundLine, String>
        let handshake: EventLoopFuture<PeerCertificate?>
    }

    /// The event loops every connection runs on.
    static var eventLoopGroup: MultiThreadedEventLoopGroup { .singleton }

    /// Installs TLS, the handshake deadline and the line framing and wraps the channel for async
    /// use, on its event loop.
    static func configure(_ channel: any Channel, side: Side, maxLineBytes: Int) -> EventLoopFuture<Configured> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            let handshake = channel.eventLoop.makePromise(of: PeerCertificate?.self)
            let timeout: Duration
            switch side {
            case .server(let tls):
                try pipeline.addHandler(NIOSSLServerHandler(context: tls.context))
                timeout = tls.handshakeTimeout
            case .client(let tls, let hostname):
                try pipeline.addHandler(try NIOSSLClientHandler(context: tls.context, serverHostname: hostname))
                timeout = tls.handshakeTimeout
            }
            try pipeline.addHandler(TLSHandshakeHandler(timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000
                                                                                 + timeout.components.attoseconds / 1_000_000_000),
                                                        done: handshake))
            try pipeline.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLength: maxLineBytes)))
            try pipeline.addHandler(MessageToByteHandler(LineEncoder()))
            return Configured(channel: try NIOAsyncChannel<InboundLine, String>(wrappingChannelSynchronously: channel),
                              handshake: handshake.futureResult)
        }
    }
}
