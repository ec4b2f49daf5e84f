import Testing
import NIOCore
import NIOEmbedded
import NIOTLS
@testable import SchedNet

/// The connection gate's counting and the line deadlines, on NIO's embedded channel and clock.
struct ConnectionLimitTests {
    @Test("the gate admits maxPerPeer connections per address and maxTotal in all, counts refusals, and takes a slot back once")
    func gate() {
        let gate = ConnectionGate(limits: ConnectionLimits(maxPerPeer: 2, maxTotal: 3))
        let a1 = gate.admit("10.0.0.1"), a2 = gate.admit("10.0.0.1")
        #expect(a1 != nil && a2 != nil)
        #expect(gate.admit("10.0.0.1") == nil)
        let b1 = gate.admit("10.0.0.2")
        #expect(b1 != nil)
        #expect(gate.admit("10.0.0.3") == nil, "the total is reached")
        #expect(gate.counts.perPeer == 1 && gate.counts.total == 1)
        a1?.release()
        a1?.release()   // a second release (close after admitAsAgent) gives nothing back twice
        #expect(gate.open == 2)
        #expect(gate.admit("10.0.0.1") != nil)
        #expect(gate.admit("10.0.0.4") == nil, "full again: the total refuses before the address is looked at")
        #expect(gate.counts.named == ["connections_per_peer": 1, "connections_total": 2])
        let open = ConnectionGate(limits: .none)
        #expect((0..<10_000).allSatisfy { _ in open.admit("10.0.0.9") != nil })
    }

    /// A channel with the deadline handler in `mode`, its TLS handshake reported done.
    func channel(_ mode: LineDeadlineHandler.Mode) throws -> (EmbeddedChannel, LineDeadlineHandler, ConnectionGate) {
        let gate = ConnectionGate(limits: .none)
        let handler = LineDeadlineHandler(mode: mode, gate: gate)
        let channel = EmbeddedChannel(handler: handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        channel.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: nil))
        return (channel, handler, gate)
    }

    @Test("HELLO deadline: from the end of TLS, not extended by lines; leaving the mode disarms it")
    func helloDeadline() throws {
        let (ch, handler, gate) = try channel(.hello(.milliseconds(300)))
        ch.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        try ch.writeInbound(InboundLine.line("garbage"))
        ch.embeddedEventLoop.advanceTime(by: .milliseconds(99))
        #expect(ch.isActive)
        ch.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!ch.isActive)
        #expect(gate.counts.firstLineTimeouts == 1)

        let (ch2, handler2, gate2) = try channel(.hello(.milliseconds(300)))
        handler2.set(.off)
        ch2.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(ch2.isActive && gate2.counts.firstLineTimeouts == 0)
        _ = handler
    }

    @Test("idle timeout: runs only while the session waits with every line consumed; a line stops it; a trickle without newline is silence")
    func idleTimeout() throws {
        let (ch, handler, gate) = try channel(.idle(.milliseconds(600)))
        // Nothing is armed until the session waits.
        ch.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(ch.isActive)
        handler.waiting(consumed: 0)
        ch.embeddedEventLoop.advanceTime(by: .milliseconds(500))
        try ch.writeInbound(InboundLine.line("STATUS {}"))      // a request: the server is busy
        ch.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(ch.isActive, "not idle while a request is answered")
        // Two more lines arrived; the session consumed one of them and waits: not idle.
        try ch.writeInbound(InboundLine.line("PING {}"))
        try ch.writeInbound(InboundLine.line("PING {}"))
        handler.waiting(consumed: 2)
        ch.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(ch.isActive, "a line is still unread")
        handler.waiting(consumed: 3)
        ch.embeddedEventLoop.advanceTime(by: .milliseconds(599))
        #expect(ch.isActive)
        ch.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!ch.isActive)
        #expect(gate.counts.idleTimeouts == 1 && gate.counts.firstLineTimeouts == 0)
    }
}
