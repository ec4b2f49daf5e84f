internal import NIOCore
internal import NIOTLS

/// Closes a server connection whose peer is too slow to send complete lines (after the framing
/// decoder, so bytes without a newline never count: a slowloris trickle times out like silence).
///
/// - `.hello`: armed when TLS finished; the session must leave this mode (it authenticated the
///   peer) before it fires. Lines that arrive meanwhile (bad ones, or the HELLO being checked)
///   do not extend it.
/// - `.idle`: a client between requests. Armed when the session waits for a line with every
///   line received so far consumed; a line that arrives disarms it (the server is busy with it).
/// - `.off`: agents, whose silence the control plane already judges by heartbeats.
final class LineDeadlineHandler: ChannelInboundHandler {
    typealias InboundIn = InboundLine
    typealias InboundOut = InboundLine

    enum Mode {
        case hello(TimeAmount)
        case idle(TimeAmount)
        case off
    }

    private let gate: ConnectionGate
    private var mode: Mode
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?
    /// Lines passed on so far, and how many the session had consumed when it last waited.
    private var received = 0
    private var waitingAfter: Int?

    init(mode: Mode, gate: ConnectionGate) {
        self.mode = mode
        self.gate = gate
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        self.context = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls, case .hello(let t) = mode {
            arm(t, counting: .firstLine)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += 1
        if case .idle = mode {
            timer?.cancel()
            timer = nil
            waitingAfter = nil
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    /// The session's new phase (on the event loop).
    func set(_ new: Mode) {
        timer?.cancel()
        timer = nil
        waitingAfter = nil
        mode = new
    }

    /// The session waits for its next line, having consumed `consumed` lines (on the event loop).
    func waiting(consumed: Int) {
        guard case .idle(let t) = mode, consumed >= received, waitingAfter != consumed else { return }
        waitingAfter = consumed
        arm(t, counting: .idle)
    }

    private func arm(_ t: TimeAmount, counting: ConnectionLimitCounts.Deadline) {
        guard let context else { return }
        timer?.cancel()
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let gate = gate
        timer = context.eventLoop.scheduleTask(in: t) {
            let (handler, context) = bound.value
            handler.timer = nil
            gate.count(counting)
            context.close(promise: nil)
        }
    }
}

/// What the async side of a server connection holds to change its `LineDeadlineHandler`'s mode
/// and to give back its `ConnectionGate` slot: each call is one hop to the connection's loop.
struct LineDeadlineControl: Sendable {
    let handler: NIOLoopBound<LineDeadlineHandler>
    let eventLoop: any EventLoop
    let ticket: ConnectionTicket
    let idleTimeout: TimeAmount?

    func set(_ mode: LineDeadlineHandler.Mode) {
        let handler = handler
        eventLoop.execute { handler.value.set(mode) }
    }

    func waiting(consumed: Int) {
        let handler = handler
        eventLoop.execute { handler.value.waiting(consumed: consumed) }
    }
}

extension TimeAmount {
    init(_ d: Duration) {
        self = .nanoseconds(d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000)
    }
}
