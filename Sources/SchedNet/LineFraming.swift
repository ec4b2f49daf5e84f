internal import NIOCore

/// The connection framing without a connection, for the fuzz target (`Sources/sched-fuzz`):
/// bytes go through the same `LineFrameDecoder`, driven as `ByteToMessageHandler` drives it.
/// NIO-free on the outside, and outside the public API (`@_spi(Fuzzing) import SchedNet`).
@_spi(Fuzzing)
public enum LineFraming {
    /// The lines `bytes` frame into with `maxLength`, arriving `chunk` bytes per read, then EOF:
    /// after each read `decode` runs while it makes progress and bytes remain, at EOF
    /// `decodeLast` once, and consumed bytes are discarded between reads as the handler does.
    public static func split(_ bytes: [UInt8], maxLength: Int, chunk: Int) -> [InboundLine] {
        precondition(chunk > 0)
        var decoder = LineFrameDecoder(maxLength: maxLength)
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        var lines: [InboundLine] = []
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + chunk)
            buffer.writeBytes(bytes[start..<end])
            start = end
            while buffer.readableBytes > 0, decoder.decode(buffer: &buffer, emit: { lines.append($0) }) == .continue {}
            buffer.discardReadBytes()
        }
        _ = decoder.decodeLast(buffer: &buffer) { lines.append($0) }
        return lines
    }
}
