import SchedCore

/// A node certificate schedd issued, as the store keeps it: by serial, with the node it names,
/// when it was issued and expires (Unix ms), the join token it was issued for, and when it was
/// revoked. Every agent connection that presents a certificate is checked against this record.
public struct StoredNodeCertificate: Sendable, Hashable {
    /// Lowercase hex, as `CertificateSerial.hex` and `PeerCertificate.serialNumber` write it.
    public var serial: String
    public var node: NodeID
    public var issuedAtMs: Int64
    public var expiresAtMs: Int64
    /// The join token's id (nil for a certificate recorded without one).
    public var joinTokenID: Int64?
    /// The certificate itself, PEM (public).
    public var pem: String
    public var revokedAtMs: Int64?

    public init(serial: String, node: NodeID, issuedAtMs: Int64, expiresAtMs: Int64, joinTokenID: Int64? = nil,
                pem: String, revokedAtMs: Int64? = nil) {
        self.serial = serial
        self.node = node
        self.issuedAtMs = issuedAtMs
        self.expiresAtMs = expiresAtMs
        self.joinTokenID = joinTokenID
        self.pem = pem
        self.revokedAtMs = revokedAtMs
    }

    /// Not revoked and not expired at `nowMs`.
    public func isLive(atMs nowMs: Int64) -> Bool { revokedAtMs == nil && nowMs < expiresAtMs }
}

/// Why the store refused to record a join: the join token is not (or no longer) good, or the node
/// already has a live certificate. Nothing was changed.
public enum JoinRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    case unknownToken
    /// The token is not an agent join token (an admin or client token).
    case notAJoinToken(id: Int64)
    case revoked(id: Int64)
    case expired(id: Int64)
    case usedUp(id: Int64)
    /// The node has a certificate that is neither revoked nor expired.
    case nodeHasCertificate(node: NodeID, serial: String, expiresAtMs: Int64)

    public var description: String {
        switch self {
        case .unknownToken: "unknown join token"
        case .notAJoinToken(let id): "token \(id) is not an agent join token (create one with: schedctl token create --agent)"
        case .revoked(let id): "join token \(id) was revoked"
        case .expired(let id): "join token \(id) expired (create another with: schedctl token create --agent)"
        case .usedUp(let id): "join token \(id) is used up (create another with: schedctl token create --agent)"
        case .nodeHasCertificate(let node, let serial, _):
            "node \(node) already has a live certificate (serial \(serial)); revoke it first: schedctl node revoke \(node)"
        }
    }
}
