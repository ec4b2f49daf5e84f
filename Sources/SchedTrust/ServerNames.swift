import Foundation
import SwiftASN1
import X509
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The names schedd's serving certificate is valid for: 127.0.0.1, ::1, localhost, the host name
/// and the `--tls-san` values. The set is compared with an existing certificate's SANs at start,
/// and the certificate is issued again when they differ.
public struct ServerNames: Sendable, Hashable {
    /// How long a serving certificate is valid; schedd issues a new one at start when less than
    /// `renewBefore` is left.
    public static let certificateValidity: TimeInterval = 365 * 86_400
    public static let renewBefore: TimeInterval = 30 * 86_400

    /// DNS names, lowercased, sorted, without duplicates.
    public let dnsNames: [String]
    /// IP addresses in their canonical text form (`127.0.0.1`, `::1`), sorted.
    public let ipAddresses: [String]

    /// The defaults (loopback, `localhost`, `hostName`) plus `extra` (IP literals or DNS names;
    /// anything else throws). A host name that is no DNS name is left out.
    public init(hostName: String, extra: [String]) throws {
        var dns: Set<String> = ["localhost"]
        var ips: Set<String> = ["127.0.0.1", "::1"]
        for (i, name) in ([hostName] + extra).enumerated() {
            let n = name.trimmingCharacters(in: .whitespaces).lowercased()
            if n.isEmpty { continue }
            if let ip = Self.canonicalIP(n) { ips.insert(ip) } else if Self.isDNSName(n) { dns.insert(n) } else if i > 0 {
                throw TrustError("--tls-san: '\(name)' is neither an IP address nor a DNS name")
            }
        }
        dnsNames = dns.sorted()
        ipAddresses = ips.sorted()
    }

    /// The names a certificate carries in its subjectAltName.
    public init(of certificate: Certificate) {
        var dns: Set<String> = [], ips: Set<String> = []
        for name in (try? certificate.extensions.subjectAlternativeNames) ?? SubjectAlternativeNames([]) {
            switch name {
            case .dnsName(let d): dns.insert(d.lowercased())
            case .ipAddress(let octets): if let ip = Self.ipText(Array(octets.bytes)) { ips.insert(ip) }
            default: break
            }
        }
        dnsNames = dns.sorted()
        ipAddresses = ips.sorted()
    }

    /// The serving certificate's common name: the first name that is not `localhost`.
    var commonName: String { dnsNames.first { $0 != "localhost" } ?? "localhost" }

    func generalNames() -> [GeneralName] {
        dnsNames.map { .dnsName($0) } + ipAddresses.compactMap { ip in Self.ipBytes(ip).map { .ipAddress(ASN1OctetString(contentBytes: $0[...])) } }
    }

    /// True when `certificate` must be issued again: other names, signed by another CA, or less
    /// than `renewBefore` of its validity left.
    public func needNewCertificate(replacing certificate: Certificate, ca: ClusterCA, now: Date = Date()) -> Bool {
        ServerNames(of: certificate) != self || !ca.signed(certificate)
            || certificate.notValidAfter < now + Self.renewBefore || certificate.notValidBefore > now
    }

    /// The same for a certificate in PEM; true when it cannot be read.
    public func needNewCertificate(replacingPEM pem: String, ca: ClusterCA, now: Date = Date()) -> Bool {
        guard let certificate = try? Certificate(pemEncoded: pem) else { return true }
        return needNewCertificate(replacing: certificate, ca: ca, now: now)
    }

    static func isDNSName(_ s: String) -> Bool {
        s.utf8.count <= 253 && s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }

    static func canonicalIP(_ s: String) -> String? { ipBytes(s).flatMap(ipText) }

    static func ipBytes(_ s: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, s, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, s, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    static func ipText(_ bytes: [UInt8]) -> String? {
        let family: Int32
        switch bytes.count {
        case 4: family = AF_INET
        case 16: family = AF_INET6
        default: return nil
        }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) != nil }
        return ok ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
    }
}
