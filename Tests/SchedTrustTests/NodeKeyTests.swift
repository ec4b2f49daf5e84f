import Crypto
import Foundation
import SchedNet
import SchedTrust
import Testing
import X509

/// The agent's side of a join: its key and CSR, the certificate schedd signs from it, and what
/// makes a stored certificate usable.
@Suite("SchedTrust: node keys, CSRs and node certificates", .timeLimit(.minutes(1)))
struct NodeKeyTests {
    @Test("a node's CSR verifies, is signed by the CA for that node, and the certificate fits the key")
    func csrSignedForTheNode() throws {
        let ca = try ClusterCA.generate()
        let key = try NodeKey.generate(nodeName: "gpu-07")
        #expect(key.keyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let csr = try CertificateSigningRequest(pemEncoded: key.requestPEM)
        #expect(csr.publicKey.isValidSignature(csr.signature, for: csr))
        #expect(csr.subject.description.contains("CN=gpu-07"))
        let signed = try NodeCertificate(try ca.signNodeRequest(key.requestPEM, nodeName: "gpu-07"))
        #expect(signed.nodeName == "gpu-07")
        #expect(signed.serial == CertificateSerial.hex(signed.certificate))
        #expect(signed.serial.allSatisfy { $0.isHexDigit && !$0.isUppercase } && !signed.serial.isEmpty)
        #expect(try ca.signed(Certificate(pemEncoded: signed.pem)))
        #expect(signed.usable(nodeName: "gpu-07", keyPEM: key.keyPEM, caPEM: try ca.certificatePEM))
        // Read back from its PEM, it is the same certificate.
        #expect(try NodeCertificate(pem: signed.pem).serial == signed.serial)
        // Two certificates never share a serial.
        #expect(try NodeCertificate(try ca.signNodeRequest(key.requestPEM, nodeName: "gpu-07")).serial != signed.serial)
    }

    @Test("a stored certificate is not usable for another node, with another key, from another CA, or outside its validity")
    func usability() throws {
        let ca = try ClusterCA.generate()
        let key = try NodeKey.generate(nodeName: "n1")
        let cert = try NodeCertificate(try ca.signNodeRequest(key.requestPEM, nodeName: "n1", validity: 3600))
        let caPEM = try ca.certificatePEM
        #expect(cert.usable(nodeName: "n1", keyPEM: key.keyPEM, caPEM: caPEM))
        #expect(!cert.usable(nodeName: "n2", keyPEM: key.keyPEM, caPEM: caPEM))
        #expect(!cert.usable(nodeName: "n1", keyPEM: try NodeKey.generate(nodeName: "n1").keyPEM, caPEM: caPEM))
        #expect(!cert.usable(nodeName: "n1", keyPEM: key.keyPEM, caPEM: try ClusterCA.generate().certificatePEM))
        #expect(!cert.usable(nodeName: "n1", keyPEM: key.keyPEM, caPEM: caPEM, now: Date() + 7200))
        #expect(!cert.usable(nodeName: "n1", keyPEM: key.keyPEM, caPEM: caPEM, now: Date() - 600))
        #expect(!cert.usable(nodeName: "n1", keyPEM: "not a key", caPEM: caPEM))
        #expect(throws: TrustError.self) { try NodeCertificate(pem: "-----BEGIN NOTHING-----") }
    }

    @Test("the serial the server sees in the peer's certificate is the serial the CA issued")
    func peerSerialMatches() async throws {
        let ca = try ClusterCA.generate()
        let issued = try ca.issueServerCertificate(names: try ServerNames(hostName: "test-host", extra: []))
        let server = try await LineServer.bind(HostPort(host: "127.0.0.1", port: 0),
                                               tls: try TLSServerConfiguration(certificateChainPEM: try issued.certificatePEM,
                                                                               privateKeyPEM: issued.keyPEM,
                                                                               clientCertificateTrustRootsPEM: try ca.certificatePEM),
                                               maxLineBytes: 1024)
        let (peers, sink) = AsyncStream<LinePeer>.makeStream()
        let task = Task {
            try await server.run { connection, peer in
                sink.yield(peer)
                try? await connection.executeThenClose { inbound, outbound in
                    for try await case .line(let l) in inbound { try await outbound.write(l) }
                }
            }
        }
        let key = try NodeKey.generate(nodeName: "node-9")
        let cert = try NodeCertificate(try ca.signNodeRequest(key.requestPEM, nodeName: "node-9"))
        let tls = try TLSClientConfiguration(trustRootsPEM: try ca.certificatePEM, certificateChainPEM: cert.pem, privateKeyPEM: key.keyPEM)
        let connection = try await LineClient.connect(HostPort(host: "127.0.0.1", port: server.boundPort), tls: tls)
        let echoed: String? = try await connection.executeThenClose { inbound, outbound in
            try await outbound.write("hi")
            for try await case .line(let l) in inbound { return l }
            return nil
        }
        #expect(echoed == "hi")
        var it = peers.makeAsyncIterator()
        let peer = try #require(await it.next())
        #expect(peer.certificate?.serialNumber == cert.serial)
        #expect(peer.certificate?.commonName == "node-9")
        await server.close()
        task.cancel()
    }
}
