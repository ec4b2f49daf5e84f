import Testing
import NIOCore
import NIOEmbedded
import SchedCore
@_spi(Fuzzing) @testable import SchedNet

/// Records the largest buffer a decoder was ever handed (the handler's cumulation buffer).
private final class MaxSeen {
    var bytes = 0
}

/// Wraps `LineFrameDecoder` and records how many bytes the handler had buffered at each call.
private struct ProbingDecoder: ByteToMessageDecoder {
    typealias InboundOut = InboundLine
    var inner: LineFrameDecoder
    let seen: MaxSeen

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        seen.bytes = max(seen.bytes, buffer.readableBytes)
        return try inner.decode(context: context, buffer: &buffer)
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        seen.bytes = max(seen.bytes, buffer.readableBytes)
        return try inner.decodeLast(context: context, buffer: &buffer, seenEOF: seenEOF)
    }
}

/// An embedded channel with the line decoder, fed byte buffers, read back as `InboundLine`s.
private struct Harness {
    let channel: EmbeddedChannel

    init(maxLength: Int) {
        channel = EmbeddedChannel(handler: ByteToMessageHandler(LineFrameDecoder(maxLength: maxLength)))
    }

    init(probing maxLength: Int, seen: MaxSeen) {
        channel = EmbeddedChannel(handler: ByteToMessageHandler(ProbingDecoder(inner: LineFrameDecoder(maxLength: maxLength), seen: seen)))
    }

    func feed(_ s: String) throws {
        try channel.writeInbound(channel.allocator.buffer(string: s))
    }

    func feed(bytes: [UInt8]) throws {
        try channel.writeInbound(channel.allocator.buffer(bytes: bytes))
    }

    /// Feeds `s` one byte per write.
    func drip(_ s: String) throws {
        for b in Array(s.utf8) { try feed(bytes: [b]) }
    }

    func read() throws -> [InboundLine] {
        var out: [InboundLine] = []
        while let l: InboundLine = try channel.readInbound() { out.append(l) }
        return out
    }

    /// Closes the channel (the handler then runs `decodeLast`) and returns what came out.
    func close() throws -> [InboundLine] {
        _ = try channel.finish()
        return try read()
    }
}

@Suite("LineFrameDecoder")
struct LineFrameDecoderTests {
    @Test("\\n and \\r\\n endings, empty lines", arguments: [
        ("hello\n", [InboundLine.line("hello")]),
        ("hello\r\n", [.line("hello")]),
        ("\n", [.line("")]),
        ("\r\n", [.line("")]),
        ("a\r\rb\n", [.line("a\r\rb")]),                     // \r not right before \n is data
        ("a\r\r\n", [.line("a\r")]),                          // one \r is part of the ending
        ("a\rb\n", [.line("a\rb")]),                          // a lone \r is data
        ("PING {}\nOK {}\r\n\nJOB {\"job\":1}\n", [.line("PING {}"), .line("OK {}"), .line(""), .line("JOB {\"job\":1}")]),
        ("héllo wörld ✓\n", [.line("héllo wörld ✓")]),
    ])
    func endings(input: String, expected: [InboundLine]) throws {
        let h = Harness(maxLength: 64)
        try h.feed(input)
        #expect(try h.read() == expected)
        #expect(try h.close() == [])
    }

    @Test("no line until its newline arrives")
    func waitsForNewline() throws {
        let h = Harness(maxLength: 64)
        try h.feed("par")
        #expect(try h.read() == [])
        try h.feed("tial")
        #expect(try h.read() == [])
        try h.feed("\nnext")
        #expect(try h.read() == [.line("partial")])
        try h.feed("\r")
        #expect(try h.read() == [])
        try h.feed("\n")
        #expect(try h.read() == [.line("next")])
    }

    @Test("drip-fed one byte at a time gives the same lines")
    func dripFed() throws {
        let h = Harness(maxLength: 16)
        try h.drip("ab\r\ncd\n\nHELLO {\"a\":1}\r\n")
        #expect(try h.read() == [.line("ab"), .line("cd"), .line(""), .line("HELLO {\"a\":1}")])
    }

    @Test("a multi-byte UTF-8 character split across writes")
    func splitUTF8() throws {
        let h = Harness(maxLength: 16)
        let bytes = Array("é✓\n".utf8)   // 2 + 3 bytes + newline
        try h.feed(bytes: [bytes[0]])
        try h.feed(bytes: Array(bytes[1...3]))
        try h.feed(bytes: Array(bytes[4...]))
        #expect(try h.read() == [.line("é✓")])
    }

    @Test("a line exactly at the limit passes", arguments: [1, 8, 100])
    func atLimit(limit: Int) throws {
        let h = Harness(maxLength: limit)
        let line = String(repeating: "x", count: limit)
        try h.feed(line + "\n")
        #expect(try h.read() == [.line(line)])
        // Also when it arrives a byte at a time.
        try h.drip(line + "\n")
        #expect(try h.read() == [.line(line)])
    }

    @Test("one byte over the limit is reported as tooLong(n) and the next line still decodes")
    func oneOver() throws {
        let h = Harness(maxLength: 8)
        try h.feed("123456789\nok\n")
        #expect(try h.read() == [.tooLong(9), .line("ok")])
        // Same when the long line comes on its own and the rest later.
        try h.feed("abcdefghi")
        #expect(try h.read() == [])
        try h.feed("\nnext\n")
        #expect(try h.read() == [.tooLong(9), .line("next")])
        // And drip-fed.
        try h.drip("ABCDEFGHI\nz\n")
        #expect(try h.read() == [.tooLong(9), .line("z")])
    }

    @Test("a long line in the middle of a buffer does not disturb its neighbours")
    func longLineBetween() throws {
        let h = Harness(maxLength: 4)
        try h.feed("ab\n0123456789\ncd\r\n")
        #expect(try h.read() == [.line("ab"), .tooLong(10), .line("cd")])
    }

    @Test("a huge line fed in chunks never buffers more than the limit plus one chunk", arguments: [1, 7, 64, 1000])
    func hugeLineInChunks(chunk: Int) throws {
        let limit = 100
        let seen = MaxSeen()
        let h = Harness(probing: limit, seen: seen)
        let total = 10 * limit + 3
        let payload = [UInt8](repeating: UInt8(ascii: "x"), count: total)
        var i = 0
        while i < total {
            try h.feed(bytes: Array(payload[i..<min(total, i + chunk)]))
            #expect(try h.read() == [], "nothing is reported before the newline")
            i += chunk
        }
        #expect(seen.bytes <= limit + chunk, "buffered \(seen.bytes) bytes")
        try h.feed("\nafter\n")
        #expect(try h.read() == [.tooLong(total), .line("after")])
        #expect(seen.bytes <= max(limit + chunk, "\nafter\n".utf8.count))
        // The decoder is back to normal: a line at the limit passes again.
        let ok = String(repeating: "y", count: limit)
        try h.feed(ok + "\n")
        #expect(try h.read() == [.line(ok)])
    }

    @Test("a final line without a newline is delivered on close")
    func finalLineOnClose() throws {
        let h = Harness(maxLength: 16)
        try h.feed("first\nlast")
        #expect(try h.read() == [.line("first")])
        #expect(try h.close() == [.line("last")])
    }

    @Test("several complete lines and a partial one at close")
    func severalThenPartialOnClose() throws {
        let h = Harness(maxLength: 16)
        try h.feed("a\nb\nc")
        #expect(try h.close() == [.line("a"), .line("b"), .line("c")])
    }

    @Test("a long unterminated line at close is reported as tooLong with its length")
    func longLineOnClose() throws {
        let h = Harness(maxLength: 8)
        try h.feed("0123456789abc")
        #expect(try h.read() == [])
        #expect(try h.close() == [.tooLong(13)])
    }

    @Test("nothing buffered: nothing delivered on close")
    func cleanClose() throws {
        let h = Harness(maxLength: 8)
        try h.feed("done\n")
        #expect(try h.read() == [.line("done")])
        #expect(try h.close() == [])
    }

    @Test("LineFraming (the fuzz target's driver) frames as the channel handler does", arguments: [1, 3, 16, 1000])
    func fuzzDriverMatchesHandler(chunk: Int) throws {
        var rng = SplitMix64(seed: UInt64(chunk))
        let alphabet = Array("ab\r\n\n é".utf8)
        for _ in 0..<200 {
            let bytes = (0..<Int.random(in: 0...80, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            let h = Harness(maxLength: 8)
            for start in stride(from: 0, to: bytes.count, by: chunk) {
                try h.feed(bytes: Array(bytes[start..<min(bytes.count, start + chunk)]))
            }
            let viaHandler = try h.read() + h.close()
            #expect(LineFraming.split(bytes, maxLength: 8, chunk: chunk) == viaHandler, "\(bytes)")
        }
    }

    @Test("a line that is not valid UTF-8 arrives as invalidUTF8(bytes), never repaired; the lines around it are untouched")
    func invalidUTF8() throws {
        let h = Harness(maxLength: 64)
        // A lone continuation byte, a truncated two-byte sequence, an overlong "/", a surrogate.
        try h.feed(bytes: Array("ok\n".utf8) + [0x61, 0x80, 0x0A] + [0xC3, 0x0D, 0x0A] + [0xC0, 0xAF, 0x0A]
                   + [0xED, 0xA0, 0x80, 0x0A] + Array("caf\u{e9}\n".utf8))
        #expect(try h.read() == [.line("ok"), .invalidUTF8(2), .invalidUTF8(2), .invalidUTF8(2), .invalidUTF8(3), .line("caf\u{e9}")])
        try h.feed(bytes: [0x62, 0xFF])
        #expect(try h.close() == [.invalidUTF8(2)])
    }

    @Test("LineEncoder appends a newline")
    func encoder() throws {
        let channel = EmbeddedChannel(handler: MessageToByteHandler(LineEncoder()))
        try channel.writeOutbound("PING {}")
        try channel.writeOutbound("")
        let a: ByteBuffer? = try channel.readOutbound()
        let b: ByteBuffer? = try channel.readOutbound()
        #expect(a.map { String(buffer: $0) } == "PING {}\n")
        #expect(b.map { String(buffer: $0) } == "\n")
        _ = try channel.finish()
    }
}
