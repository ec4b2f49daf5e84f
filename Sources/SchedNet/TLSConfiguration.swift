internal import NIOCore
internal import NIOSSL

/// How a `LineServer` speaks TLS 1.3 (the only version it accepts): its certificate chain and
/// private key (PEM), the CA that client certificates are verified against when a peer presents
/// one (a peer without a certificate is accepted; one whose certificate does not verify is not),
/// and how long a peer has to finish the handshake before it is closed.
public struct TLSServerConfiguration: Sendable {
    /// A peer that has not finished the TLS handshake after this long is closed (5 s by default).
    public var handshakeTimeout: Duration
    let context: NIOSSLContext

    /// Fails when the PEM cannot be read or the key does not fit the certificate.
    public init(certificateChainPEM: String, privateKeyPEM: String, clientCertificateTrustRootsPEM: String?,
                handshakeTimeout: Duration = .seconds(5)) throws {
        do {
            let chain = try NIOSSLCertificate.fromPEMBytes(Array(certificateChainPEM.utf8))
            guard !chain.isEmpty else { throw TLSSetupError("no certificate in the server certificate PEM") }
            let key = try NIOSSLPrivateKey(bytes: Array(privateKeyPEM.utf8), format: .pem)
            var config = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                                  privateKey: .privateKey(key))
            config.minimumTLSVersion = .tlsv13
            config.maximumTLSVersion = .tlsv13
            if let roots = clientCertificateTrustRootsPEM {
                config.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(roots.utf8)))
                config.certificateVerification = .optionalVerification
                config.sendCANameList = true
            } else {
                config.certificateVerification = .none
            }
            context = try NIOSSLContext(configuration: config)
        } catch let e as TLSSetupError {
            throw e
        } catch {
            throw TLSSetupError("cannot set up TLS with the server certificate and key: \(error)")
        }
        self.handshakeTimeout = handshakeTimeout
    }
}

/// How `LineClient.connect` speaks TLS 1.3: the CA the server's certificate must be signed by
/// (nothing else is trusted), the name the certificate must carry (by default the host connected
/// to; as in swift-nio-ssl, a certificate that carries the IP address connected to is accepted
/// too), and optionally this side's own certificate and key (mutual TLS).
public struct TLSClientConfiguration: Sendable {
    /// Checked against the server certificate's SANs (and sent as SNI when it is a DNS name);
    /// nil: the host of the address connected to.
    public var serverName: String?
    /// A server that has not finished the handshake after this long fails the connect.
    public var handshakeTimeout: Duration = .seconds(5)
    let context: NIOSSLContext

    /// Fails when the PEM cannot be read.
    public init(trustRootsPEM: String, serverName: String? = nil,
                certificateChainPEM: String? = nil, privateKeyPEM: String? = nil) throws {
        do {
            let roots = try NIOSSLCertificate.fromPEMBytes(Array(trustRootsPEM.utf8))
            guard !roots.isEmpty else { throw TLSSetupError("no certificate in the CA PEM") }
            var config = TLSConfiguration.makeClientConfiguration()
            config.minimumTLSVersion = .tlsv13
            config.maximumTLSVersion = .tlsv13
            config.trustRoots = .certificates(roots)
            config.certificateVerification = .fullVerification
            if let chain = certificateChainPEM, let key = privateKeyPEM {
                config.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(chain.utf8)).map { .certificate($0) }
                config.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem))
            }
            context = try NIOSSLContext(configuration: config)
        } catch let e as TLSSetupError {
            throw e
        } catch {
            throw TLSSetupError("cannot set up TLS with this CA: \(error)")
        }
        self.serverName = serverName
    }
}

/// The TLS settings could not be used (unreadable PEM, a key that does not fit).
public struct TLSSetupError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}
