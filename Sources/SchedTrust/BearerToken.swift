import Crypto
import Foundation

/// A bearer token: 32 random bytes, written as `sched_` and 43 base64url characters (no padding),
/// so that it is recognisable in a file or a leaked log. schedd stores only `hash`, the SHA-256 of
/// the written form in lowercase hex; `description` never shows the secret.
public struct BearerToken: Sendable, Hashable, CustomStringConvertible {
    /// What every token starts with.
    public static let prefix = "sched_"
    /// The written form (`sched_…`): the secret itself.
    public let secret: String

    /// A new token from the system's secure random generator.
    public static func generate() -> BearerToken {
        let key = SymmetricKey(size: .bits256)
        let bytes = key.withUnsafeBytes { Array($0) }
        return BearerToken(unchecked: prefix + base64URL(bytes))
    }

    /// Reads a written token (surrounding white space, as in a file with a final newline, is
    /// dropped); nil when it is not `sched_` and 43 base64url characters.
    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix(Self.prefix) else { return nil }
        let body = trimmed.dropFirst(Self.prefix.count)
        guard body.count == 43, body.utf8.allSatisfy(Self.isBase64URL) else { return nil }
        secret = trimmed
    }

    private init(unchecked secret: String) { self.secret = secret }

    /// SHA-256 of the written form, lowercase hex: what the store keeps and looks tokens up by.
    public var hash: String { Self.hash(of: secret) }

    /// SHA-256 of any presented string, lowercase hex (a malformed token hashes too, and is
    /// simply not found).
    public static func hash(of presented: String) -> String {
        SHA256.hash(data: Array(presented.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Never the secret: `sched_…` and the first 8 characters of the hash.
    public var description: String { "\(Self.prefix)…(sha256 \(hash.prefix(8)))" }

    private static func isBase64URL(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z"))
            || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_")
    }

    /// Base64url without padding (RFC 4648 §5), through Foundation's base64.
    private static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

