import Crypto
import Foundation
import SwiftASN1
import X509

/// The cluster's certificate authority: a P-256 key and a self-signed CA certificate (10 years).
/// It signs schedd's serving certificate and, through `signNodeRequest`, node certificates.
public struct ClusterCA: Sendable {
    /// How long a new CA certificate is valid.
    public static let validity: TimeInterval = 10 * 365 * 86_400
    public let certificate: Certificate
    let key: Certificate.PrivateKey
    /// The private key in PEM (PKCS#8; `ca.key`, mode 0600).
    public let keyPEM: String

    /// A new CA named `commonName` (schedd uses "sched cluster CA"), valid from a minute ago.
    public static func generate(commonName: String = "sched cluster CA", now: Date = Date()) throws -> ClusterCA {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("sched")
            CommonName(commonName)
        }
        let publicKey = Certificate.PublicKey(key.publicKey)
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: now - 60, notValidAfter: now + validity, issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: publicKey)
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
        return ClusterCA(certificate: certificate, key: Certificate.PrivateKey(key), keyPEM: key.pemRepresentation)
    }

    /// A CA read back from its PEM files; fails when the key does not belong to the certificate
    /// or the certificate is no CA.
    public init(certificatePEM: String, keyPEM: String) throws {
        do {
            certificate = try Certificate(pemEncoded: certificatePEM)
            key = try Certificate.PrivateKey(pemEncoded: keyPEM)
        } catch {
            throw TrustError("cannot read the CA certificate or key: \(error)")
        }
        self.keyPEM = keyPEM
        guard certificate.publicKey == key.publicKey else {
            throw TrustError("the CA key does not belong to the CA certificate")
        }
        guard case .isCertificateAuthority = try? certificate.extensions.basicConstraints else {
            throw TrustError("the CA certificate is not a CA (basicConstraints)")
        }
    }

    init(certificate: Certificate, key: Certificate.PrivateKey, keyPEM: String) {
        self.certificate = certificate
        self.key = key
        self.keyPEM = keyPEM
    }

    /// The certificate in PEM (`ca.pem`: given to clients and agents).
    public var certificatePEM: String { get throws { try certificate.serializeAsPEM().pemString } }

    /// A serving certificate for schedd with these names in its subjectAltName (`ServerNames`:
    /// IP literals become IP SANs, the rest DNS SANs), server-auth only, valid for `validity`.
    public func issueServerCertificate(names: ServerNames, validity: TimeInterval = ServerNames.certificateValidity,
                                       now: Date = Date()) throws -> IssuedCertificate {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            OrganizationName("sched")
            CommonName(names.commonName)
        }
        let certificate = try issue(publicKey: Certificate.PublicKey(key.publicKey), subject: subject,
                                    usage: .serverAuth, sans: names.generalNames(), validity: validity, now: now)
        return IssuedCertificate(certificate: certificate, keyPEM: key.pemRepresentation)
    }

    /// Signs a node's certificate signing request (PEM): the CSR's own signature must verify;
    /// the certificate names `nodeName` (common name and DNS SAN, whatever the request asked for),
    /// may be used for client authentication only and is valid for `validity` (1 year).
    /// A later phase has agents send a CSR when they join, with a join token.
    public func signNodeRequest(_ csrPEM: String, nodeName: String, validity: TimeInterval = 365 * 86_400,
                                now: Date = Date()) throws -> Certificate {
        let csr: CertificateSigningRequest
        do {
            csr = try CertificateSigningRequest(pemEncoded: csrPEM)
        } catch {
            throw TrustError("not a certificate signing request: \(error)")
        }
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else {
            throw TrustError("the certificate signing request's signature does not verify")
        }
        guard !nodeName.isEmpty, nodeName.utf8.count <= 253 else { throw TrustError("bad node name '\(nodeName)'") }
        let subject = try DistinguishedName {
            OrganizationName("sched nodes")
            CommonName(nodeName)
        }
        return try issue(publicKey: csr.publicKey, subject: subject, usage: .clientAuth,
                         sans: [.dnsName(nodeName)], validity: validity, now: now)
    }

    private func issue(publicKey: Certificate.PublicKey, subject: DistinguishedName, usage: ExtendedKeyUsage.Usage,
                       sans: [GeneralName], validity: TimeInterval, now: Date) throws -> Certificate {
        let caKeyID = try certificate.extensions.subjectKeyIdentifier?.keyIdentifier
        return try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: now - 60, notValidAfter: min(now + validity, certificate.notValidAfter),
            issuer: certificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([usage])
                SubjectAlternativeNames(sans)
                SubjectKeyIdentifier(hash: publicKey)
                AuthorityKeyIdentifier(keyIdentifier: caKeyID)
            },
            issuerPrivateKey: key)
    }

    /// True when `certificate` was signed by this CA's key.
    public func signed(_ certificate: Certificate) -> Bool {
        certificate.issuer == self.certificate.subject
            && self.certificate.publicKey.isValidSignature(certificate.signature, for: certificate)
    }
}

/// A certificate and its private key, both PEM (`server.pem`, `server.key`).
public struct IssuedCertificate: Sendable {
    public let certificate: Certificate
    public let keyPEM: String
    public init(certificate: Certificate, keyPEM: String) {
        self.certificate = certificate
        self.keyPEM = keyPEM
    }
    public var certificatePEM: String { get throws { try certificate.serializeAsPEM().pemString } }
}
