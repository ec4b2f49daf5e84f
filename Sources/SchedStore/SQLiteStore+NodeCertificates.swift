import GRDB
import SchedCore

/// The `node_certificates` table (migration `v3-node-certificates`): every node certificate
/// schedd issued, by serial. A join is one transaction: the join token is checked and its uses
/// decremented, the node checked for a live certificate, and the new one recorded, all or none.
extension SQLiteStore {
    static func registerNodeCertificateMigration(_ m: inout DatabaseMigrator) {
        m.registerMigration("v3-node-certificates") { db in
            try db.execute(sql: """
                CREATE TABLE node_certificates (serial TEXT PRIMARY KEY, node TEXT NOT NULL,
                    issued_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, join_token INTEGER REFERENCES tokens(id),
                    pem TEXT NOT NULL, revoked_at INTEGER);
                CREATE INDEX node_certificates_node ON node_certificates(node);
                """)
        }
    }

    public func enrollNode(_ certificate: StoredNodeCertificate, joinTokenHash: String, atMs nowMs: Int64) throws -> StoredToken {
        let outcome: Result<StoredToken, JoinRefusal> = try db.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM tokens WHERE hash = ?", arguments: [joinTokenHash]) else {
                return .failure(.unknownToken)
            }
            let token = try Self.token(row)
            guard token.kind == .agent else { return .failure(.notAJoinToken(id: token.id)) }
            if token.revokedAtMs != nil { return .failure(.revoked(id: token.id)) }
            if let e = token.expiresAtMs, nowMs >= e { return .failure(.expired(id: token.id)) }
            if let live = try Row.fetchOne(db, sql: """
                SELECT serial, expires_at FROM node_certificates
                WHERE node = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY issued_at DESC LIMIT 1
                """, arguments: [certificate.node.rawValue, nowMs]) {
                return .failure(.nodeHasCertificate(node: certificate.node, serial: live["serial"], expiresAtMs: live["expires_at"]))
            }
            // The decrement is the check: a token with no uses left changes no row.
            try db.execute(sql: "UPDATE tokens SET uses_left = uses_left - 1 WHERE id = ? AND (uses_left IS NULL OR uses_left > 0)",
                           arguments: [token.id])
            guard db.changesCount == 1 else { return .failure(.usedUp(id: token.id)) }
            var record = certificate
            record.joinTokenID = token.id
            try Self.insert(record, db)
            var used = token
            used.usesLeft = token.usesLeft.map { $0 - 1 }
            return .success(used)
        }
        return try outcome.get()
    }

    public func insertNodeCertificate(_ certificate: StoredNodeCertificate) throws {
        try db.write { db in try Self.insert(certificate, db) }
    }

    public func nodeCertificate(serial: String) throws -> StoredNodeCertificate? {
        try db.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM node_certificates WHERE serial = ?", arguments: [serial]).map(Self.nodeCertificate)
        }
    }

    public func nodeCertificates(node: NodeID?) throws -> [StoredNodeCertificate] {
        try db.read { db in
            if let node {
                return try Row.fetchAll(db, sql: "SELECT * FROM node_certificates WHERE node = ? ORDER BY issued_at, serial",
                                        arguments: [node.rawValue]).map(Self.nodeCertificate)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM node_certificates ORDER BY issued_at, serial").map(Self.nodeCertificate)
        }
    }

    public func revokeNodeCertificates(node: NodeID, atMs: Int64) throws -> [String] {
        try db.write { db in
            let serials = try String.fetchAll(db, sql: "SELECT serial FROM node_certificates WHERE node = ? AND revoked_at IS NULL ORDER BY serial",
                                              arguments: [node.rawValue])
            try db.execute(sql: "UPDATE node_certificates SET revoked_at = ? WHERE node = ? AND revoked_at IS NULL",
                           arguments: [atMs, node.rawValue])
            return serials
        }
    }

    static func insert(_ c: StoredNodeCertificate, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO node_certificates (serial, node, issued_at, expires_at, join_token, pem, revoked_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [c.serial, c.node.rawValue, c.issuedAtMs, c.expiresAtMs, c.joinTokenID, c.pem, c.revokedAtMs])
    }

    static func nodeCertificate(_ row: Row) -> StoredNodeCertificate {
        StoredNodeCertificate(serial: row["serial"], node: NodeID(row["node"] as String), issuedAtMs: row["issued_at"],
                              expiresAtMs: row["expires_at"], joinTokenID: row["join_token"], pem: row["pem"],
                              revokedAtMs: row["revoked_at"])
    }
}
