internal import NIOCore
internal import NIOPosix
internal import NIOSSL

/// The one place where a connection's channel pipeline is built, for accepted (`LineServer`)
/// and connected (`LineClient`) sockets alike: TLS first (`NIOSSLServerHandler` or
/// `NIOSSLClientHandler`, TLS 1.3 only), then the handshake deadline, then the framing, so that
/// everything above TLS sees plaintext bytes and nothing reaches it before the handshake finished;
/// on the server, the connection gate first (before TLS) and the line deadlines after the framing.
enum LinePipeline {
    /// Which end of the connection this process is, with its TLS settings.
    enum Side {
        /// `gate`: admits the connection (or refuses it before any TLS) and applies its deadlines.
        case server(TLSServerConfiguration, ConnectionGate)
        /// `serverHostname`: the DNS name to send (SNI) and check; nil checks the peer's IP address.
        case client(TLSClientConfiguration, serverHostname: String?)
    }

    /// A connection whose pipeline is built, and the end of its TLS handshake (the peer's
    /// verified certificate, if it sent one).
    /// A connection the gate refused has no channel (it is closed) and a failed handshake.
    struct Configured: Sendable {
        let channel: NIOAsyncChannel<InboundLine, String>?
        let handshake: EventLoopFuture<PeerCertificate?>
        /// Server side: the deadline handler and gate slot.
        var control: LineDeadlineControl? = nil
    }

    /// The gate refused the connection.
    struct Refused: Error {}

    /// The event loops every connection runs on.
    static var eventLoopGroup: MultiThreadedEventLoopGroup { .singleton }

    /// Installs TLS, the handshake deadline and the line framing and wraps the channel for async
    /// use, on its event loop.
    static func configure(_ channel: any Channel, side: Side, maxLineBytes: Int) -> EventLoopFuture<Configured> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            let handshake = channel.eventLoop.makePromise(of: PeerCertificate?.self)
            let timeout: Duration
            var deadline: (LineDeadlineHandler, ConnectionTicket, ConnectionGate)?
            switch side {
            case .server(let tls, let gate):
                // Refused before TLS: a flood costs an accept and a close, no handshake.
                guard let ticket = gate.admit(channel.remoteAddress?.ipAddress ?? "?") else {
                    channel.close(promise: nil)
                    handshake.fail(Refused())
                    return Configured(channel: nil, handshake: handshake.futureResult)
                }
                channel.closeFuture.whenComplete { _ in ticket.release() }
                try pipeline.addHandler(NIOSSLServerHandler(context: tls.context))
                timeout = tls.handshakeTimeout
                let first = gate.limits.firstLineTimeout.map { LineDeadlineHandler.Mode.hello(TimeAmount($0)) } ?? .off
                deadline = (LineDeadlineHandler(mode: first, gate: gate), ticket, gate)
            case .client(let tls, let hostname):
                try pipeline.addHandler(try NIOSSLClientHandler(context: tls.context, serverHostname: hostname))
                timeout = tls.handshakeTimeout
            }
            try pipeline.addHandler(TLSHandshakeHandler(timeout: TimeAmount(timeout), done: handshake))
            try pipeline.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLength: maxLineBytes)))
            var control: LineDeadlineControl?
            if let (handler, ticket, gate) = deadline {
                try pipeline.addHandler(handler)
                control = LineDeadlineControl(handler: NIOLoopBound(handler, eventLoop: channel.eventLoop), eventLoop: channel.eventLoop,
                                              ticket: ticket, idleTimeout: gate.limits.idleTimeout.map { TimeAmount($0) })
            }
            try pipeline.addHandler(MessageToByteHandler(LineEncoder()))
            return Configured(channel: try NIOAsyncChannel<InboundLine, String>(wrappingChannelSynchronously: channel),
                              handshake: handshake.futureResult, control: control)
        }
    }
}
