internal import NIOCore

// Internal: only `LinePipeline` installs these (its tests use `@testable import SchedNet`).

/// Splits a byte stream at `\n` (a preceding `\r` is dropped) and never buffers more than
/// `maxLength` bytes of one line: longer lines are discarded up to their newline and reported
/// once as `.tooLong`, so a peer cannot make the process allocate without bound.
struct LineFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = InboundLine

    let maxLength: Int
    private var discarding = false
    private var discardedBytes = 0
    /// Bytes already searched for a newline (avoids rescanning on drip-fed input).
    private var scanned = 0

    init(maxLength: Int) {
        precondition(maxLength > 0)
        self.maxLength = maxLength
    }

    // `NIOAny(line)` is what `wrapInboundOut(line)` makes, without capturing `self`.
    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        decode(buffer: &buffer) { context.fireChannelRead(NIOAny($0)) }
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        decodeLast(buffer: &buffer) { context.fireChannelRead(NIOAny($0)) }
    }

    /// `decode` without a channel: hands each line to `emit` (also what `LineFraming` drives).
    mutating func decode(buffer: inout ByteBuffer, emit: (InboundLine) -> Void) -> DecodingState {
        let view = buffer.readableBytesView
        if let nl = view.dropFirst(scanned).firstIndex(of: UInt8(ascii: "\n")) {
            let length = nl - view.startIndex
            scanned = 0
            if discarding {
                buffer.moveReaderIndex(forwardBy: length + 1)
                let total = discardedBytes + length
                discarding = false
                discardedBytes = 0
                emit(.tooLong(total))
                return .continue
            }
            if length > maxLength {
                buffer.moveReaderIndex(forwardBy: length + 1)
                emit(.tooLong(length))
                return .continue
            }
            var bytes = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(forwardBy: 1)
            if bytes.readableBytesView.last == UInt8(ascii: "\r") { bytes = bytes.getSlice(at: bytes.readerIndex, length: length - 1)! }
            emit(Self.text(bytes, length: length))
            return .continue
        }
        scanned = view.count
        if view.count > maxLength || discarding {
            // No newline yet and already over the limit: drop what we have and keep dropping.
            discarding = true
            discardedBytes += view.count
            buffer.moveReaderIndex(forwardBy: view.count)
            scanned = 0
        }
        return .needMoreData
    }

    /// The line as text, or `.invalidUTF8(length)` (`length`: its bytes with any `\r`).
    static func text(_ bytes: ByteBuffer, length: Int) -> InboundLine {
        guard let s = try? bytes.getUTF8ValidatedString(at: bytes.readerIndex, length: bytes.readableBytes) else {
            return .invalidUTF8(length)
        }
        return .line(s)
    }

    /// `decodeLast` without a channel: the remaining lines, then the final unterminated one.
    mutating func decodeLast(buffer: inout ByteBuffer, emit: (InboundLine) -> Void) -> DecodingState {
        while decode(buffer: &buffer, emit: emit) == .continue {}
        if discarding {
            emit(.tooLong(discardedBytes + buffer.readableBytes))
            discarding = false
        } else if buffer.readableBytes > 0 {
            // A final line without a newline still counts as a line.
            let rest = buffer.readSlice(length: buffer.readableBytes)!
            emit(Self.text(rest, length: rest.readableBytes))
        }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        scanned = 0
        return .needMoreData
    }
}

/// Writes each outbound `String` as one line (appends `\n`).
struct LineEncoder: MessageToByteEncoder {
    typealias OutboundIn = String
    init() {}
    func encode(data: String, out: inout ByteBuffer) throws {
        out.writeString(data)
        out.writeInteger(UInt8(ascii: "\n"))
    }
}
