internal import NIOCore

// SchedNet's public surface is NIO-free: users see `LineConnection`, `InboundLines`, `LineWriter`,
// `InboundLine`, `LineServer`, `LineClient` and `HostPort`. NIO is imported `internal` in every
// file of this target, so the compiler refuses any NIO type in a public declaration.

/// One framed inbound line, or the notice that a line over the limit was discarded.
public enum InboundLine: Sendable, Hashable {
    case line(String)
    /// A line longer than the limit arrived; its bytes (this many) were dropped unread.
    case tooLong(Int)
    /// A line of this many bytes that is not valid UTF-8 arrived; it was dropped, not repaired
    /// (replacement characters would change what the peer sent, e.g. a job's command).
    case invalidUTF8(Int)
}

/// A TCP connection that reads `InboundLine`s and writes `String` lines, framed by the pipeline
/// `LinePipeline` installs (newline framing with a length cap).
public struct LineConnection: Sendable {
    let channel: NIOAsyncChannel<InboundLine, String>
    /// Accepted connections: their deadlines and connection-limit slot.
    let control: LineDeadlineControl?

    init(_ channel: NIOAsyncChannel<InboundLine, String>, control: LineDeadlineControl? = nil) {
        self.channel = channel
        self.control = control
    }

    /// An accepted connection whose peer proved to be a client: from now on, between requests
    /// its next line must arrive within the server's idle timeout (`ConnectionLimits`). Ends
    /// the first-line deadline.
    public func beginClientSession() {
        guard let control else { return }
        control.set(control.idleTimeout.map { .idle($0) } ?? .off)
    }

    /// An accepted connection whose peer proved to be an agent: it no longer counts against
    /// the connection limits and has no deadline (its heartbeats are judged by the scheduler).
    public func admitAsAgent() {
        guard let control else { return }
        control.ticket.release()
        control.set(.off)
    }

    /// Runs `body` with the connection's inbound lines and its writer, then closes the
    /// connection (also when `body` throws), as `NIOAsyncChannel.executeThenClose` does.
    /// The inbound lines may be iterated once, by one task; the writer may be used by any.
    public func executeThenClose<Result>(
        isolation actor: isolated (any Actor)? = #isolation,
        _ body: (_ inbound: InboundLines, _ outbound: LineWriter) async throws -> sending Result
    ) async throws -> sending Result {
        try await channel.executeThenClose(isolation: actor) { inbound, outbound in
            try await body(InboundLines(inbound, control: control), LineWriter(outbound))
        }
    }
}

/// The lines a peer sent, in order; ends when the peer closes its side. A line over the
/// connection's limit arrives as `.tooLong(bytes)` (its bytes were never buffered); framing
/// never fails a connection, so what to answer a bad line is the caller's choice.
public struct InboundLines: AsyncSequence, Sendable {
    public typealias Element = InboundLine
    let stream: NIOAsyncChannelInboundStream<InboundLine>
    let control: LineDeadlineControl?

    init(_ stream: NIOAsyncChannelInboundStream<InboundLine>, control: LineDeadlineControl? = nil) {
        self.stream = stream
        self.control = control
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: NIOAsyncChannelInboundStream<InboundLine>.AsyncIterator
        let control: LineDeadlineControl?
        /// Lines returned so far.
        var consumed = 0

        /// The next line; nil once the peer closed. Throws when the connection failed. On a
        /// client session (`LineConnection.beginClientSession`) the idle timeout runs while this
        /// waits with nothing left unread.
        public mutating func next() async throws -> InboundLine? {
            control?.waiting(consumed: consumed)
            return try await nextIgnoringIdleTimeout()
        }

        /// The next line, without starting the idle timeout: for reading while a request is
        /// still being answered (a `WAIT` watching for its client to go away).
        public mutating func nextIgnoringIdleTimeout() async throws -> InboundLine? {
            let line = try await base.next()
            if line != nil { consumed += 1 }
            return line
        }
    }

    /// Only one iterator may be made, and it must stay in one task (NIO's rule).
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: stream.makeAsyncIterator(), control: control)
    }
}

/// The iterator must not be shared across tasks (NIO's `NIOAsyncChannelInboundStream` rule).
@available(*, unavailable)
extension InboundLines.AsyncIterator: Sendable {}

/// Writes lines to a connection (each gets its `\n`). Writes go straight to NIO's async writer:
/// no buffering or task of its own. A write suspends while the socket is not writable
/// (backpressure) and throws once the connection is closed.
public struct LineWriter: Sendable {
    let base: NIOAsyncChannelOutboundWriter<String>

    init(_ base: NIOAsyncChannelOutboundWriter<String>) {
        self.base = base
    }

    /// Writes one line and flushes.
    public func write(_ line: String) async throws {
        try await base.write(line)
    }

    /// Writes several lines with one flush (one hop to the event loop for the batch).
    /// Concrete `[String]` rather than a generic sequence, so this stays specialized across
    /// the module boundary.
    public func write(contentsOf lines: [String]) async throws {
        try await base.write(contentsOf: lines)
    }

    /// Ends the outbound side: a half-close with lines already written still delivered.
    /// Later writes throw.
    public func finish() {
        base.finish()
    }
}
