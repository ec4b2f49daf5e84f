import Foundation
import Logging
import SchedNet
import SchedStore
import SchedTrust

/// The trust material in schedd's state directory. The first start creates it; later starts
/// reuse it, issuing a new serving certificate when its names changed (`--tls-san`), it was signed
/// by another CA or less than 30 days of it are left. The files are the source of truth: the store
/// is brought in line with them (the CA in `cluster_identity`, the admin token's hash in `tokens`),
/// so deleting a file and restarting replaces what it held.
public struct TrustFiles: Sendable {
    /// `ca.pem` (0644): the CA certificate, given to schedctl and agents (`--ca`, `SCHED_CA`).
    public let caCertificate: String
    /// `ca.key` (0600): the CA's private key.
    public let caKey: String
    /// `server.pem` (0644): schedd's serving certificate, signed by the CA.
    public let serverCertificate: String
    /// `server.key` (0600): its private key.
    public let serverKey: String
    /// `admin.token` (0600): the cluster-admin bearer token (the store keeps only its SHA-256).
    public let adminToken: String

    public init(stateDir: String) {
        caCertificate = stateDir + "/ca.pem"
        caKey = stateDir + "/ca.key"
        serverCertificate = stateDir + "/server.pem"
        serverKey = stateDir + "/server.key"
        adminToken = stateDir + "/admin.token"
    }

    /// Loads or creates the CA, the serving certificate and the admin token, records the CA and
    /// the token's hash in `store`, and returns the TLS settings to listen with and the CA (which
    /// signs node certificates when agents join).
    func prepare(store: any SchedulerStore, names: ServerNames, handshakeTimeout: Duration, logger: Logger,
                 now: Date = Date()) throws -> (tls: TLSServerConfiguration, ca: ClusterCA) {
        let ca = try loadOrCreateCA(logger: logger, now: now)
        let identity = ClusterIdentity(caCertificatePEM: try ca.certificatePEM, caKeyPEM: ca.keyPEM)
        if try store.clusterIdentity() != identity { try store.saveClusterIdentity(identity) }
        let (certificatePEM, keyPEM) = try loadOrIssueServerCertificate(ca: ca, names: names, logger: logger, now: now)
        try ensureAdminToken(store: store, logger: logger, now: now)
        let tls = try TLSServerConfiguration(certificateChainPEM: certificatePEM, privateKeyPEM: keyPEM,
                                             clientCertificateTrustRootsPEM: try ca.certificatePEM,
                                             handshakeTimeout: handshakeTimeout)
        return (tls, ca)
    }

    func loadOrCreateCA(logger: Logger, now: Date) throws -> ClusterCA {
        if let cert = try SecretFile.read(caCertificate), let key = try SecretFile.read(caKey) {
            do {
                return try ClusterCA(certificatePEM: cert, keyPEM: key)
            } catch {
                throw TrustError("\(caCertificate) / \(caKey): \(error); delete both to have schedd create a new CA")
            }
        }
        let ca = try ClusterCA.generate(now: now)
        try SecretFile.write(ca.keyPEM, to: caKey, mode: SecretFile.secretMode)
        try SecretFile.write(try ca.certificatePEM, to: caCertificate, mode: SecretFile.publicMode)
        logger.notice("created the cluster CA", metadata: ["ca": "\(caCertificate)"])
        return ca
    }

    func loadOrIssueServerCertificate(ca: ClusterCA, names: ServerNames, logger: Logger, now: Date) throws -> (String, String) {
        if let certPEM = try SecretFile.read(serverCertificate), let keyPEM = try SecretFile.read(serverKey),
           !names.needNewCertificate(replacingPEM: certPEM, ca: ca, now: now) {
            return (certPEM, keyPEM)
        }
        let issued = try ca.issueServerCertificate(names: names, now: now)
        let certPEM = try issued.certificatePEM
        try SecretFile.write(issued.keyPEM, to: serverKey, mode: SecretFile.secretMode)
        try SecretFile.write(certPEM, to: serverCertificate, mode: SecretFile.publicMode)
        logger.notice("issued the serving certificate", metadata: [
            "certificate": "\(serverCertificate)", "dns": "\(names.dnsNames.joined(separator: ","))",
            "ip": "\(names.ipAddresses.joined(separator: ","))",
        ])
        return (certPEM, issued.keyPEM)
    }

    /// The token in `admin.token` is the one valid admin token: stored (hash) if it is not yet,
    /// replaced by a new one if it was revoked or the file is missing, and every other admin
    /// token revoked (deleting the file and restarting rotates it).
    func ensureAdminToken(store: any SchedulerStore, logger: Logger, now: Date) throws {
        let nowMs = Int64(now.timeIntervalSince1970 * 1000)
        var token: BearerToken?
        if let text = try SecretFile.read(adminToken) {
            guard let t = BearerToken(text) else {
                throw TrustError("\(adminToken) holds no sched token; delete it to have schedd create a new one")
            }
            token = t
            if let stored = try store.token(hash: t.hash), !stored.isValid(atMs: nowMs) || stored.kind != .admin {
                logger.notice("the admin token was revoked; creating a new one", metadata: ["file": "\(adminToken)"])
                token = nil
            }
        }
        let current = token ?? BearerToken.generate()
        if token == nil {
            try SecretFile.write(current.secret + "\n", to: adminToken, mode: SecretFile.secretMode)
            logger.notice("created the admin token", metadata: ["file": "\(adminToken)"])
        }
        if try store.token(hash: current.hash) == nil {
            _ = try store.insertToken(StoredToken(hash: current.hash, kind: .admin, createdAtMs: nowMs))
        }
        for old in try store.tokens() where old.kind == .admin && old.hash != current.hash && old.revokedAtMs == nil {
            _ = try store.revokeToken(id: old.id, atMs: nowMs)
            logger.notice("revoked a replaced admin token", metadata: ["token.id": "\(old.id)"])
        }
    }
}
