import Crypto
import Foundation
import SwiftASN1
import X509

/// A node's own key and the certificate signing request an agent sends with `JOIN`: a new P-256
/// key (it never leaves the node) and a CSR signed with it that names the node.
public struct NodeKey: Sendable {
    /// The private key, PEM (PKCS#8; the agent keeps it as `node.key`, mode 0600).
    public let keyPEM: String
    /// The certificate signing request, PEM.
    public let requestPEM: String

    /// A new key and a CSR for `nodeName` (common name and DNS SAN; schedd sets both itself anyway).
    public static func generate(nodeName: String) throws -> NodeKey {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            OrganizationName("sched nodes")
            CommonName(nodeName)
        }
        let csr = try CertificateSigningRequest(
            version: .v1, subject: subject, privateKey: Certificate.PrivateKey(key),
            attributes: CertificateSigningRequest.Attributes(), signatureAlgorithm: .ecdsaWithSHA256)
        return NodeKey(keyPEM: key.pemRepresentation, requestPEM: try csr.serializeAsPEM().pemString)
    }
}

/// What an agent needs to know of the node certificate it keeps: whom it names, until when,
/// whether it belongs to its key and was signed by the CA it trusts.
public struct NodeCertificate: Sendable {
    public let certificate: Certificate
    /// The certificate, PEM.
    public let pem: String

    /// Fails when `pem` holds no certificate.
    public init(pem: String) throws {
        do {
            certificate = try Certificate(pemEncoded: pem)
        } catch {
            throw TrustError("not a certificate: \(error)")
        }
        self.pem = pem
    }

    public init(_ certificate: Certificate) throws {
        self.certificate = certificate
        pem = try certificate.serializeAsPEM().pemString
    }

    /// The certificate, DER.
    public var derBytes: [UInt8] { get throws { try certificate.serializeAsPEM().derBytes } }

    /// Its serial number in lowercase hex, as the store and `NODE_REVOKE` name it.
    public var serial: String { CertificateSerial.hex(certificate) }

    /// The node it names (its common name).
    public var nodeName: String? {
        certificate.subject.lazy.flatMap { $0 }.first { $0.type == .RDNAttributeType.commonName }.flatMap { String($0.value) }
    }

    public var notValidAfter: Date { certificate.notValidAfter }

    /// True when it is good to present at `now` for `nodeName` with the key `keyPEM`: it names
    /// the node, it is within its validity, its public key is the key's, and the CA in `caPEM`
    /// signed it.
    public func usable(nodeName name: String, keyPEM: String, caPEM: String, now: Date = Date()) -> Bool {
        guard nodeName == name, certificate.notValidBefore <= now, now < certificate.notValidAfter,
              let key = try? Certificate.PrivateKey(pemEncoded: keyPEM), key.publicKey == certificate.publicKey,
              let ca = try? Certificate(pemEncoded: caPEM) else { return false }
        return certificate.issuer == ca.subject && ca.publicKey.isValidSignature(certificate.signature, for: certificate)
    }
}

/// Certificate serial numbers as text: lowercase hex of the serial's bytes, no separators.
/// (`PeerCertificate.serialNumber` in SchedNet writes the same form.)
public enum CertificateSerial {
    public static func hex(_ certificate: Certificate) -> String {
        certificate.serialNumber.bytes.map { String(format: "%02x", $0) }.joined()
    }
}
