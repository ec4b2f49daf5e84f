import Crypto
import Foundation
import SchedTrust
import Testing
import X509

@Suite("SchedTrust: the cluster CA, serving and node certificates")
struct ClusterCATests {
    @Test("a new CA is a self-signed P-256 CA valid for ten years, and reads back from its PEM")
    func caIsSelfSignedAndRoundTrips() throws {
        let now = Date()
        let ca = try ClusterCA.generate(now: now)
        let cert = ca.certificate
        #expect(cert.issuer == cert.subject)
        #expect(cert.publicKey.isValidSignature(cert.signature, for: cert))
        #expect(try cert.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        #expect(try cert.extensions.keyUsage?.keyCertSign == true)
        #expect(P256.Signing.PublicKey(cert.publicKey) != nil)
        let years = cert.notValidAfter.timeIntervalSince(now) / (365 * 86_400)
        #expect(years > 9.99 && years < 10.01)
        let again = try ClusterCA(certificatePEM: try ca.certificatePEM, keyPEM: ca.keyPEM)
        #expect(again.certificate == cert)
        #expect(ca.keyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
    }

    @Test("a CA key that belongs to another certificate is refused")
    func mismatchedKeyRefused() throws {
        let a = try ClusterCA.generate(), b = try ClusterCA.generate()
        #expect(throws: TrustError.self) { try ClusterCA(certificatePEM: try a.certificatePEM, keyPEM: b.keyPEM) }
    }

    @Test("the serving certificate names loopback, localhost, the host and --tls-san values, for server auth only")
    func servingCertificateNames() throws {
        let ca = try ClusterCA.generate()
        let names = try ServerNames(hostName: "Sched-Host", extra: ["schedd.example", "10.1.2.3", "fe80::1"])
        #expect(names.dnsNames == ["localhost", "sched-host", "schedd.example"])
        #expect(names.ipAddresses == ["10.1.2.3", "127.0.0.1", "::1", "fe80::1"])
        let issued = try ca.issueServerCertificate(names: names)
        let cert = issued.certificate
        #expect(ServerNames(of: cert) == names)
        #expect(ca.signed(cert))
        #expect(try cert.extensions.extendedKeyUsage == ExtendedKeyUsage([.serverAuth]))
        #expect(try cert.extensions.basicConstraints == .notCertificateAuthority)
        // The same names, same CA: kept. Other names or another CA: issued again.
        #expect(!names.needNewCertificate(replacing: cert, ca: ca))
        #expect(names.needNewCertificate(replacingPEM: try issued.certificatePEM, ca: try ClusterCA.generate()))
        let more = try ServerNames(hostName: "sched-host", extra: ["schedd.example"])
        #expect(more.needNewCertificate(replacing: cert, ca: ca))
        // A certificate close to its end is issued again too.
        #expect(names.needNewCertificate(replacing: cert, ca: ca, now: Date() + 340 * 86_400))
        #expect(throws: TrustError.self) { try ServerNames(hostName: "h", extra: ["not a name!"]) }
    }

    @Test("a node's CSR is signed for its node name, client auth only, whatever name it asked for")
    func signsNodeRequest() throws {
        let ca = try ClusterCA.generate()
        let key = P256.Signing.PrivateKey()
        let csr = try CertificateSigningRequest(
            version: .v1, subject: try DistinguishedName { CommonName("i-would-like-to-be-admin") },
            privateKey: Certificate.PrivateKey(key), attributes: CertificateSigningRequest.Attributes(),
            signatureAlgorithm: .ecdsaWithSHA256)
        let cert = try ca.signNodeRequest(try csr.serializeAsPEM().pemString, nodeName: "node-7")
        #expect(ca.signed(cert))
        #expect(cert.publicKey == Certificate.PublicKey(key.publicKey))
        #expect(cert.subject.description.contains("CN=node-7"))
        #expect(ServerNames(of: cert).dnsNames == ["node-7"])
        #expect(try cert.extensions.extendedKeyUsage == ExtendedKeyUsage([.clientAuth]))
        #expect(try cert.extensions.basicConstraints == .notCertificateAuthority)
        #expect(cert.notValidAfter <= ca.certificate.notValidAfter)
    }

    @Test("a CSR whose signature does not verify, or that is no CSR, is refused")
    func refusesForgedRequest() throws {
        let ca = try ClusterCA.generate()
        let claimed = P256.Signing.PrivateKey(), other = P256.Signing.PrivateKey()
        let signedByOther = try CertificateSigningRequest(
            version: .v1, subject: try DistinguishedName { CommonName("x") }, privateKey: Certificate.PrivateKey(other),
            attributes: CertificateSigningRequest.Attributes(), signatureAlgorithm: .ecdsaWithSHA256)
        // The public key of one key pair with the signature made by another.
        let forged = try CertificateSigningRequest(
            version: .v1, subject: signedByOther.subject, publicKey: Certificate.PublicKey(claimed.publicKey),
            attributes: signedByOther.attributes, signatureAlgorithm: .ecdsaWithSHA256, signature: signedByOther.signature)
        #expect(throws: TrustError.self) { try ca.signNodeRequest(try forged.serializeAsPEM().pemString, nodeName: "n") }
        #expect(throws: TrustError.self) { try ca.signNodeRequest("-----BEGIN NOTHING-----", nodeName: "n") }
    }
}
