import SchedCore

// MARK: joining (agent → schedd, on a connection whose HELLO carried a join token)

/// `JOIN`: an agent asks for its node certificate, presenting a certificate signing request
/// (PEM) for the key it made. Sent once, on a connection whose `HELLO` carried an agent join
/// token; answered `JOINED` (or `ERR`), then schedd closes the connection.
public struct Join: Sendable, Codable, Hashable {
    /// The node name the certificate is to carry (common name and DNS SAN).
    public var node: NodeID
    /// A PKCS#10 certificate signing request, PEM; only its public key and signature are used.
    public var csr: String
    public init(node: NodeID, csr: String) {
        self.node = node
        self.csr = csr
    }
}

/// `JOINED`: the node certificate schedd signed (client auth only, for `node`). The agent keeps
/// it beside its key and uses it for mutual TLS from then on.
public struct Joined: Sendable, Codable, Hashable {
    public var node: NodeID
    /// The certificate, PEM.
    public var certificate: String
    /// Its serial number, lowercase hex (what `NODE_REVOKE` and the store name it by).
    public var serial: String
    /// When it stops being valid (Unix ms).
    public var expiresAtMs: Int64
    public init(node: NodeID, certificate: String, serial: String, expiresAtMs: Int64) {
        self.node = node
        self.certificate = certificate
        self.serial = serial
        self.expiresAtMs = expiresAtMs
    }
}

// MARK: node certificates (schedctl → schedd, cluster admins)

/// `NODE_REVOKE`: revoke every certificate of a node, close its connection and put its jobs
/// back in the queue. Answered `NODE_REVOKED`.
public struct NodeRevoke: Sendable, Codable, Hashable {
    public var node: NodeID
    public init(node: NodeID) { self.node = node }
}

/// The answer to `NODE_REVOKE`.
public struct NodeRevoked: Sendable, Codable, Hashable {
    public var node: NodeID
    /// The serials revoked now (empty when the node had no live certificate).
    public var serials: [String]
    /// Jobs that were on the node and are pending again.
    public var requeued: [JobID]
    /// Jobs that were on the node and ended instead (a gang member, a job being cancelled).
    public var ended: [JobID]
    public init(node: NodeID, serials: [String], requeued: [JobID], ended: [JobID]) {
        self.node = node
        self.serials = serials
        self.requeued = requeued
        self.ended = ended
    }
}

/// `NODE_CERTS`: the node certificates schedd issued (of one node when `node` is given).
public struct NodeCertificateQuery: Sendable, Codable, Hashable {
    public var node: NodeID?
    public init(node: NodeID? = nil) { self.node = node }
}

/// One issued node certificate, as listings show it.
public struct NodeCertificateInfo: Sendable, Codable, Hashable {
    public var serial: String
    public var node: NodeID
    public var issuedAtMs: Int64
    public var expiresAtMs: Int64
    /// The join token it was issued for (its id).
    public var joinToken: Int64?
    public var revokedAtMs: Int64?
    public init(serial: String, node: NodeID, issuedAtMs: Int64, expiresAtMs: Int64, joinToken: Int64? = nil,
                revokedAtMs: Int64? = nil) {
        self.serial = serial
        self.node = node
        self.issuedAtMs = issuedAtMs
        self.expiresAtMs = expiresAtMs
        self.joinToken = joinToken
        self.revokedAtMs = revokedAtMs
    }
}

/// The answer to `NODE_CERTS`, oldest first.
public struct NodeCertificateList: Sendable, Codable, Hashable {
    public var certificates: [NodeCertificateInfo]
    public init(certificates: [NodeCertificateInfo]) { self.certificates = certificates }
}
