@_spi(Fuzzing) import SchedNet
@_spi(Fuzzing) import SchedProtocol

/// One input as a peer's byte stream: framed as a connection frames it (checked against a plain
/// model of the framing rules), then every line decoded, re-encoded and decoded again.
enum FuzzLines {
    /// schedd's default line limit (`--max-line-bytes`).
    static let lineLimit = 1 << 20

    static func run(_ bytes: [UInt8]) {
        checkFraming(bytes)
        for case .line(let text) in LineFraming.split(bytes, maxLength: lineLimit, chunk: max(1, bytes.count)) {
            check(line: text)
        }
    }

    /// The decoder, fed whole and in small reads, with a small limit (so lines go over it),
    /// must give what `modelFraming` gives.
    static func checkFraming(_ bytes: [UInt8]) {
        let h = bytes.reduce(UInt32(truncatingIfNeeded: bytes.count)) { $0 &* 31 &+ UInt32($1) }
        let limit = 1 + Int(h % 64), chunk = 1 + Int((h >> 8) % 16)
        let expected = modelFraming(bytes, maxLength: limit)
        for reads in [max(1, bytes.count), chunk] {
            let got = LineFraming.split(bytes, maxLength: limit, chunk: reads)
            if got != expected {
                fuzzFailure("framing differs from the model (limit \(limit), reads of \(reads) bytes)",
                            "got      \(got)\nexpected \(expected)")
            }
        }
    }

    /// The framing rules of docs/protocol.md, written plainly: a line ends at `\n`, one `\r`
    /// before it is dropped; a line over the limit (counted with its `\r`) is `tooLong(bytes)`;
    /// a final line without `\n` still counts (nothing is dropped from it); a line within the
    /// limit that is not UTF-8 is `invalidUTF8(bytes)`, never repaired.
    static func modelFraming(_ bytes: [UInt8], maxLength: Int) -> [InboundLine] {
        var pieces = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let last = pieces.removeLast()
        func text(_ p: ArraySlice<UInt8>, length: Int) -> InboundLine {
            String(validating: p, as: UTF8.self).map { .line($0) } ?? .invalidUTF8(length)
        }
        var lines: [InboundLine] = pieces.map { p in
            p.count > maxLength ? .tooLong(p.count) : text(p.last == UInt8(ascii: "\r") ? p.dropLast() : p, length: p.count)
        }
        if !last.isEmpty { lines.append(last.count > maxLength ? .tooLong(last.count) : text(last, length: last.count)) }
        return lines
    }

    /// A line that decodes must decode the same without the scanner, and survive a round trip.
    static func check(line text: String) {
        guard let message = try? LineCodec.decode(Substring(text)) else {
            checkStoredRecord(text)
            return
        }
        switch message {
        case .taskStarted, .taskExited, .startTask, .ackExit, .submitBatch:
            let codable = try? LineCodec.decodeWithoutScanner(Substring(text))
            if codable != message {
                fuzzFailure("the scanner and the Codable decoder disagree", "line:    \(text)\nscanner: \(message)\nCodable: \(String(describing: codable))")
            }
        default: break
        }
        roundTrip(message, from: text)
    }

    /// encode → decode gives an equal message, on one line, and encoding that again the same bytes.
    static func roundTrip(_ message: Message, from text: String) {
        let encoded = LineCodec.encode(message)
        if encoded.utf8.contains(UInt8(ascii: "\n")) || encoded.utf8.contains(UInt8(ascii: "\r")) {
            fuzzFailure("an encoded line contains a line break", "input:   \(text)\nencoded: \(encoded)")
        }
        let again: Message
        do { again = try LineCodec.decode(Substring(encoded)) } catch {
            fuzzFailure("an encoded line does not decode: \(error.message)", "input:   \(text)\nencoded: \(encoded)")
        }
        if again != message {
            fuzzFailure("the round trip changed the message", "input:   \(text)\nencoded: \(encoded)\nfirst:   \(message)\nsecond:  \(again)")
        }
        let twice = LineCodec.encode(again)
        if !twice.utf8.elementsEqual(encoded.utf8) {
            fuzzFailure("encoding is not stable", "input:   \(text)\nfirst:   \(encoded)\nsecond:  \(twice)")
        }
    }

    /// Lines `STORED_JOB {json}`, `STORED_PLACEMENT {json}`, `STORED_NODE {json}` (not protocol
    /// verbs) are store records: decoded as SQLiteStore reads them, written as it writes them.
    static func checkStoredRecord(_ text: String) {
        guard let sp = text.firstIndex(of: " ") else { return }
        let json = String(text[text.index(after: sp)...])
        switch text[..<sp] {
        case "STORED_JOB":
            guard let job = try? LineCodec.fromJSON(JobInfo.self, json) else { return }
            storedRecord(job, written: job.recordJSON, wire: "JOB_INFO", from: text)
        case "STORED_PLACEMENT":
            guard let record = try? LineCodec.fromJSON(PlacementRecord.self, json) else { return }
            storedRecord(record, written: record.recordJSON, wire: "LOG_RECORD", from: text)
        case "STORED_NODE":
            guard let node = try? LineCodec.fromJSON(StoredNode.self, json) else { return }
            storedRecord(node, written: LineCodec.json(node), wire: nil, from: text)
        default: break
        }
    }

    /// A stored record reads back equal, and is the body of its wire message byte for byte.
    static func storedRecord<T: Codable & Equatable>(_ value: T, written: String, wire verb: String?, from text: String) {
        guard let back = try? LineCodec.fromJSON(T.self, written), back == value else {
            fuzzFailure("a stored record does not read back equal", "input:   \(text)\nwritten: \(written)")
        }
        guard let verb else { return }
        let expected = verb + " " + written
        let line = (try? LineCodec.decode(Substring(expected))).map(LineCodec.encode)
        if !(line?.utf8.elementsEqual(expected.utf8) ?? false) {
            fuzzFailure("a stored record differs from its wire message", "input:   \(text)\nstored:  \(written)\nwire:    \(line ?? "-")")
        }
    }
}
