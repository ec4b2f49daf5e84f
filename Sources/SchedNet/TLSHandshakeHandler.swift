internal import NIOCore
internal import NIOSSL
internal import NIOTLS

/// Sits right after the TLS handler: completes `done` with the peer's verified certificate (or
/// nil) once the handshake finished, and closes the connection when it has not finished within
/// `timeout`, when TLS fails (a peer that sent plaintext, an untrusted certificate) or when the
/// peer goes away first. Until then no byte reaches the framing (TLS passes none on).
final class TLSHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// The handshake did not finish in time.
    struct TimedOut: Error {}
    /// The connection closed before the handshake finished.
    struct ClosedEarly: Error {}

    let timeout: TimeAmount
    let done: EventLoopPromise<PeerCertificate?>
    private var timer: Scheduled<Void>?
    private var finished = false

    init(timeout: TimeAmount, done: EventLoopPromise<PeerCertificate?>) {
        self.timeout = timeout
        self.done = done
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    private func arm(_ context: ChannelHandlerContext) {
        guard timer == nil, !finished else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = loopBound.value
            handler.fail(context, TimedOut())
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls, !finished {
            finished = true
            timer?.cancel()
            let der = (try? context.pipeline.syncOperations.handler(type: NIOSSLHandler.self))?.peerCertificate
                .flatMap { try? $0.toDERBytes() }
            done.succeed(der.flatMap { try? PeerCertificate(derBytes: $0) })
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if finished {
            context.fireErrorCaught(error)
        } else {
            fail(context, error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished {
            finished = true
            timer?.cancel()
            done.fail(ClosedEarly())
        }
        context.fireChannelInactive()
    }

    private func fail(_ context: ChannelHandlerContext, _ error: any Error) {
        guard !finished else { return }
        finished = true
        timer?.cancel()
        done.fail(error)
        context.close(promise: nil)
    }
}
