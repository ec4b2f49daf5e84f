import Crypto
import Foundation
import SchedNet
import SchedTrust
import Testing
import X509

/// SchedNet's TLS on 127.0.0.1 with certificates from SchedTrust: a server certificate from the
/// cluster CA, a node's client certificate signed from its CSR (mutual TLS, as agents will use).
@Suite("SchedNet: TLS 1.3 with the cluster CA", .timeLimit(.minutes(1)))
struct TLSLoopbackTests {
    /// A LineServer on a free port whose handler reports each peer, then echoes one line.
    struct EchoServer {
        let server: LineServer
        let task: Task<Void, any Error>
        let peers: AsyncStream<LinePeer>
        let host: String
        var address: HostPort { HostPort(host: host, port: server.boundPort) }

        init(ca: ClusterCA, host: String = "127.0.0.1") async throws {
            self.host = host
            let issued = try ca.issueServerCertificate(names: try ServerNames(hostName: "test-host", extra: []))
            let tls = try TLSServerConfiguration(certificateChainPEM: try issued.certificatePEM, privateKeyPEM: issued.keyPEM,
                                                 clientCertificateTrustRootsPEM: try ca.certificatePEM)
            server = try await LineServer.bind(HostPort(host: host, port: 0), tls: tls, maxLineBytes: 1024)
            let (peers, sink) = AsyncStream<LinePeer>.makeStream()
            self.peers = peers
            task = Task { [server] in
                try await server.run { connection, peer in
                    sink.yield(peer)
                    try? await connection.executeThenClose { inbound, outbound in
                        for try await case .line(let l) in inbound { try await outbound.write("echo " + l) }
                    }
                }
            }
        }

        func stop() async {
            await server.close()
            task.cancel()
        }
    }

    func roundTrip(_ address: HostPort, _ tls: TLSClientConfiguration) async throws -> String? {
        let connection = try await LineClient.connect(address, tls: tls)
        return try await connection.executeThenClose { inbound, outbound in
            try await outbound.write("hi")
            for try await case .line(let l) in inbound { return l }
            return nil
        }
    }

    @Test("a client trusting the cluster CA talks lines; the server sees no client certificate")
    func serverAuthOnly() async throws {
        let ca = try ClusterCA.generate()
        let s = try await EchoServer(ca: ca)
        let reply = try await roundTrip(s.address, try TLSClientConfiguration(trustRootsPEM: try ca.certificatePEM))
        #expect(reply == "echo hi")
        var it = s.peers.makeAsyncIterator()
        let peer = await it.next()
        #expect(peer?.certificate == nil)
        #expect(peer?.address.contains("127.0.0.1") == true)
        await s.stop()
    }

    @Test("a node certificate signed from its CSR reaches the handler as the peer's verified identity")
    func mutualTLS() async throws {
        let ca = try ClusterCA.generate()
        let s = try await EchoServer(ca: ca)
        let key = P256.Signing.PrivateKey()
        let csr = try CertificateSigningRequest(
            version: .v1, subject: try DistinguishedName { CommonName("node-7") }, privateKey: Certificate.PrivateKey(key),
            attributes: CertificateSigningRequest.Attributes(), signatureAlgorithm: .ecdsaWithSHA256)
        let nodeCert = try ca.signNodeRequest(try csr.serializeAsPEM().pemString, nodeName: "node-7")
        let tls = try TLSClientConfiguration(trustRootsPEM: try ca.certificatePEM,
                                             certificateChainPEM: try nodeCert.serializeAsPEM().pemString,
                                             privateKeyPEM: key.pemRepresentation)
        #expect(try await roundTrip(s.address, tls) == "echo hi")
        var it = s.peers.makeAsyncIterator()
        let peer = try #require(await it.next())
        #expect(peer.certificate?.commonName == "node-7")
        #expect(peer.certificate?.dnsNames == ["node-7"])
        #expect(peer.certificate?.subject.contains("CN=node-7") == true)
        await s.stop()
    }

    @Test("a client certificate from another CA is refused: the handler never sees that peer")
    func foreignClientCertificateRefused() async throws {
        let ca = try ClusterCA.generate(), rogue = try ClusterCA.generate()
        let s = try await EchoServer(ca: ca)
        let key = P256.Signing.PrivateKey()
        let csr = try CertificateSigningRequest(
            version: .v1, subject: try DistinguishedName { CommonName("node-x") }, privateKey: Certificate.PrivateKey(key),
            attributes: CertificateSigningRequest.Attributes(), signatureAlgorithm: .ecdsaWithSHA256)
        let rogueCert = try rogue.signNodeRequest(try csr.serializeAsPEM().pemString, nodeName: "node-x")
        let tls = try TLSClientConfiguration(trustRootsPEM: try ca.certificatePEM,
                                             certificateChainPEM: try rogueCert.serializeAsPEM().pemString,
                                             privateKeyPEM: key.pemRepresentation)
        // In TLS 1.3 the client's side of the handshake ends first; the server's refusal arrives
        // as the connection failing or closing before any reply.
        let reply = try? await roundTrip(s.address, tls)
        #expect(reply == nil)
        // A good client afterwards is the first peer the handler sees.
        #expect(try await roundTrip(s.address, try TLSClientConfiguration(trustRootsPEM: try ca.certificatePEM)) == "echo hi")
        var it = s.peers.makeAsyncIterator()
        #expect(await it.next()?.certificate == nil)
        await s.stop()
    }

    @Test("a client trusting another CA fails with certificateNotTrusted; an address or name the certificate lacks with nameMismatch")
    func clientChecksTheServer() async throws {
        let ca = try ClusterCA.generate()
        let s = try await EchoServer(ca: ca)
        let other = try TLSClientConfiguration(trustRootsPEM: try ClusterCA.generate().certificatePEM)
        await #expect { try await roundTrip(s.address, other) } throws: { ($0 as? TLSConnectError)?.kind == .certificateNotTrusted }
        await s.stop()
        // 127.0.0.2 (loopback too) is not among the certificate's addresses.
        let elsewhere = try await EchoServer(ca: ca, host: "127.0.0.2")
        let plain = try TLSClientConfiguration(trustRootsPEM: try ca.certificatePEM)
        await #expect { try await roundTrip(elsewhere.address, plain) } throws: { ($0 as? TLSConnectError)?.kind == .nameMismatch }
        var wrongName = plain
        wrongName.serverName = "elsewhere.example"
        await #expect { try await roundTrip(elsewhere.address, wrongName) } throws: { ($0 as? TLSConnectError)?.kind == .nameMismatch }
        var byName = plain
        byName.serverName = "localhost"
        #expect(try await roundTrip(elsewhere.address, byName) == "echo hi")
        await elsewhere.stop()
    }
}
