import X509

/// Who is on the other end of an accepted connection: its address and, when it presented one,
/// its certificate (already verified against the server's client trust roots by TLS).
public struct LinePeer: Sendable, CustomStringConvertible {
    /// `IP:PORT` of the peer.
    public var address: String
    /// The peer's verified certificate; nil when it presented none.
    public var certificate: PeerCertificate?
    public var description: String { address }
    public init(address: String, certificate: PeerCertificate?) {
        self.address = address
        self.certificate = certificate
    }
}

/// A verified peer certificate, as the connection handler needs it: the subject and the names
/// in its subjectAltName (a node certificate carries its node name in both).
public struct PeerCertificate: Sendable, Hashable {
    /// The subject, RFC 4514 style (`CN=node-7,O=sched nodes`).
    public var subject: String
    /// The subject's common name, if it has one.
    public var commonName: String?
    /// DNS names from the subjectAltName extension.
    public var dnsNames: [String]
    /// Its serial number, lowercase hex without separators (what schedd's store records for
    /// the node certificates it issued).
    public var serialNumber: String
    /// The certificate, DER.
    public var derBytes: [UInt8]

    /// Reads a DER certificate. `LineServer` makes one from what TLS verified; anything else that
    /// makes one (tests) vouches for it itself.
    public init(derBytes: [UInt8]) throws {
        let certificate = try Certificate(derEncoded: derBytes)
        self.derBytes = derBytes
        subject = certificate.subject.description
        let digits = Array("0123456789abcdef")
        serialNumber = String(certificate.serialNumber.bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
        commonName = certificate.subject.lazy.flatMap { $0 }.first { $0.type == .RDNAttributeType.commonName }
            .flatMap { String($0.value) }
        dnsNames = ((try? certificate.extensions.subjectAlternativeNames) ?? SubjectAlternativeNames([])).compactMap {
            if case .dnsName(let name) = $0 { return name }
            return nil
        }
    }
}
