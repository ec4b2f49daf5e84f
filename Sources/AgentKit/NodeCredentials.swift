import Foundation
import SchedCore
import SchedTrust

/// The node's own identity in its work directory: `node.key` (its private key, 0600, never sent
/// anywhere) and `node.pem` (the node certificate schedd signed for it, 0644). The agent presents
/// them for mutual TLS on every connection once it has joined, across restarts.
public struct NodeCredentialFiles: Sendable {
    public let keyPath: String
    public let certificatePath: String

    public init(workDir: String) {
        keyPath = workDir + "/node.key"
        certificatePath = workDir + "/node.pem"
    }

    /// The certificate and key, when both are there and the certificate is good for `node` now:
    /// it names the node, is within its validity, belongs to the key and was signed by the CA in
    /// `caPEM`. Nil otherwise (the agent then joins, if it has a join token).
    public func load(node: NodeID, caPEM: String, now: Date = Date()) -> (certificatePEM: String, keyPEM: String)? {
        guard let keyPEM = try? SecretFile.read(keyPath), let certificatePEM = try? SecretFile.read(certificatePath),
              let certificate = try? NodeCertificate(pem: certificatePEM),
              certificate.usable(nodeName: node.rawValue, keyPEM: keyPEM, caPEM: caPEM, now: now) else { return nil }
        return (certificatePEM, keyPEM)
    }

    /// Whether a certificate file is there at all (usable or not).
    public var certificateExists: Bool { FileManager.default.fileExists(atPath: certificatePath) }

    /// Writes the key (0600), creating the work directory if needed.
    func saveKey(_ pem: String) throws {
        try FileManager.default.createDirectory(atPath: (keyPath as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try SecretFile.write(pem, to: keyPath, mode: SecretFile.secretMode)
    }

    /// Writes the certificate (0644).
    func saveCertificate(_ pem: String) throws {
        try SecretFile.write(pem, to: certificatePath, mode: SecretFile.publicMode)
    }
}
