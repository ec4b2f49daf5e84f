#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SchedCore

/// Builds JSON text byte by byte, for the few records written per job on the hot path (the
/// stored `JobInfo` and `PlacementRecord`, the agent's task lines). The writers (RecordJSON*.swift)
/// write keys in sorted order, byte for byte what `JSONEncoder` with `.sortedKeys` and
/// `.withoutEscapingSlashes` writes for the same value; MessageRoundTripTests compares the bytes
/// and decodes them back with the Codable decoders. Rare, nested fields are handed to
/// `JSONEncoder` (`encodable(_:)`).
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 512) { bytes.reserveCapacity(capacity) }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// A comma unless the container was just opened.
    @inline(__always) mutating func separator() {
        if let last = bytes.last, last != UInt8(ascii: "{"), last != UInt8(ascii: "[") { bytes.append(UInt8(ascii: ",")) }
    }

    public mutating func beginObject() { separatorIfInArray(); bytes.append(UInt8(ascii: "{")) }
    public mutating func endObject() { bytes.append(UInt8(ascii: "}")) }
    public mutating func beginArray() { separatorIfInArray(); bytes.append(UInt8(ascii: "[")) }
    public mutating func endArray() { bytes.append(UInt8(ascii: "]")) }

    /// Values directly inside an array are separated by commas; a value after a key is not.
    @inline(__always) mutating func separatorIfInArray() {
        if let last = bytes.last, last != UInt8(ascii: ":") { separator() }
    }

    /// Writes `"name":` (with a comma before it unless it is the first key).
    public mutating func key(_ name: StaticString) {
        separator()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// Writes `"name":` for a key known only at run time (a dictionary's).
    public mutating func key(_ name: String) {
        separator()
        string(name, separated: false)
        bytes.append(UInt8(ascii: ":"))
    }

    public mutating func string(_ s: String) { string(s, separated: true) }

    mutating func string(_ s: String, separated: Bool) {
        if separated { separatorIfInArray() }
        bytes.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            var plain = true
            for b in utf8 where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { plain = false; break }
            if plain { bytes.append(contentsOf: utf8); return }
            for b in utf8 {
                switch b {
                case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\\")); bytes.append(b)
                case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(b)
                case 0x0A: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "t"))
                case 0x08: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "f"))
                case 0..<0x20:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                              hex[Int(b >> 4)], hex[Int(b & 0xF)]])
                default: bytes.append(b)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func int<T: BinaryInteger>(_ v: T) {
        separatorIfInArray()
        var n = Int64(v)
        if n == 0 { bytes.append(UInt8(ascii: "0")); return }
        if n < 0 {
            bytes.append(UInt8(ascii: "-"))
            if n == .min { bytes.append(contentsOf: Array("9223372036854775808".utf8)); return }
            n = -n
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buf in
            while n > 0 {
                buf[count] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
                count += 1
            }
            for i in stride(from: count - 1, through: 0, by: -1) { bytes.append(buf[i]) }
        }
    }

    public mutating func bool(_ v: Bool) {
        separatorIfInArray()
        bytes.append(contentsOf: v ? Array("true".utf8) : Array("false".utf8))
    }

    /// A rare or nested value, through `JSONEncoder` (keys sorted, as the writers sort theirs).
    public mutating func encodable<T: Encodable>(_ v: T) {
        separatorIfInArray()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding our own value types cannot fail; a failure is a programming error.
        bytes.append(contentsOf: try! encoder.encode(v))
    }

    // MARK: keyed helpers

    public mutating func field(_ k: StaticString, _ v: String) { key(k); string(v, separated: false) }
    public mutating func field(_ k: StaticString, _ v: String?) { if let v { field(k, v) } }
    public mutating func field<T: BinaryInteger>(_ k: StaticString, _ v: T) { key(k); int(v) }
    public mutating func field<T: BinaryInteger>(_ k: StaticString, _ v: T?) { if let v { field(k, v) } }
    public mutating func field(_ k: StaticString, _ v: Bool?) { if let v { key(k); bool(v) } }
    public mutating func field(_ k: StaticString, _ v: [String: String]) {
        key(k)
        beginObject()
        for (name, value) in v { key(name); string(value, separated: false) }
        endObject()
    }
    public mutating func field(_ k: StaticString, _ v: [String]) {
        key(k)
        beginArray()
        for s in v { string(s) }
        endArray()
    }
    public mutating func field(_ k: StaticString, _ v: [Int]) {
        key(k)
        beginArray()
        for i in v { int(i) }
        endArray()
    }
    public mutating func field(_ k: StaticString, _ v: IndexSet64) { key(k); string(v.description, separated: false) }
    public mutating func field(_ k: StaticString, _ v: IndexSet64?) { if let v { field(k, v) } }
}
