import GRDB

/// The trust tables: `tokens` (hashes and what they stand for) and `cluster_identity` (one row:
/// the CA certificate and key, PEM).
extension SQLiteStore {
    public func insertToken(_ token: StoredToken) throws -> StoredToken {
        try db.write { db in
            try db.execute(sql: """
                INSERT INTO tokens (hash, kind, tenant, role, unix_user, created_at, expires_at, uses_left, revoked_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [token.hash, token.kind.rawValue, token.tenant, token.role, token.unixUser,
                                 token.createdAtMs, token.expiresAtMs, token.usesLeft, token.revokedAtMs])
            var stored = token
            stored.id = db.lastInsertedRowID
            return stored
        }
    }

    public func token(hash: String) throws -> StoredToken? {
        try db.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM tokens WHERE hash = ?", arguments: [hash]).map(Self.token)
        }
    }

    public func tokens() throws -> [StoredToken] {
        try db.read { db in try Row.fetchAll(db, sql: "SELECT * FROM tokens ORDER BY id").map(Self.token) }
    }

    public func revokeToken(id: Int64, atMs: Int64) throws -> Bool {
        try db.write { db in
            try db.execute(sql: "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [atMs, id])
            return db.changesCount > 0
        }
    }

    public func clusterIdentity() throws -> ClusterIdentity? {
        try db.read { db in
            try Row.fetchOne(db, sql: "SELECT ca_cert_pem, ca_key_pem FROM cluster_identity WHERE id = 1").map {
                ClusterIdentity(caCertificatePEM: $0["ca_cert_pem"], caKeyPEM: $0["ca_key_pem"])
            }
        }
    }

    public func saveClusterIdentity(_ identity: ClusterIdentity) throws {
        try db.write { db in
            try db.execute(sql: """
                INSERT INTO cluster_identity (id, ca_cert_pem, ca_key_pem) VALUES (1, ?, ?)
                ON CONFLICT(id) DO UPDATE SET ca_cert_pem = excluded.ca_cert_pem, ca_key_pem = excluded.ca_key_pem
                """, arguments: [identity.caCertificatePEM, identity.caKeyPEM])
        }
    }

    static func token(_ row: Row) throws -> StoredToken {
        let kindText: String = row["kind"]
        guard let kind = TokenKind(rawValue: kindText) else { throw StoreError("token \(row["id"] as Int64): unknown kind '\(kindText)'") }
        return StoredToken(id: row["id"], hash: row["hash"], kind: kind, tenant: row["tenant"], role: row["role"],
                           unixUser: row["unix_user"], createdAtMs: row["created_at"], expiresAtMs: row["expires_at"],
                           usesLeft: row["uses_left"], revokedAtMs: row["revoked_at"])
    }
}
