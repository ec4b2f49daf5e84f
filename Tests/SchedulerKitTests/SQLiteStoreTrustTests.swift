import Foundation
import SchedStore
import Testing

@Suite("SQLiteStore: token hashes and the cluster CA")
struct SQLiteStoreTrustTests {
    @Test("tokens are stored by hash, found by hash, listed oldest first, revoked once; a hash is stored once")
    func tokens() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("s.sqlite"))
        let admin = try store.insertToken(StoredToken(hash: String(repeating: "a", count: 64), kind: .admin, createdAtMs: 1_000))
        let client = try store.insertToken(StoredToken(hash: String(repeating: "b", count: 64), kind: .client, tenant: "ml",
                                                       role: "submitter", unixUser: "alice", createdAtMs: 2_000,
                                                       expiresAtMs: 9_000, usesLeft: 3))
        #expect(admin.id != client.id)
        #expect(try store.token(hash: String(repeating: "b", count: 64)) == client)
        #expect(try store.token(hash: String(repeating: "c", count: 64)) == nil)
        #expect(try store.tokens() == [admin, client])
        #expect(throws: (any Error).self) {
            try store.insertToken(StoredToken(hash: String(repeating: "a", count: 64), kind: .agent, createdAtMs: 3_000))
        }
        #expect(try store.revokeToken(id: admin.id, atMs: 5_000))
        #expect(try !store.revokeToken(id: admin.id, atMs: 6_000))
        #expect(try !store.revokeToken(id: 999, atMs: 6_000))
        let revoked = try #require(try store.token(hash: admin.hash))
        #expect(revoked.revokedAtMs == 5_000)
        #expect(!revoked.isValid(atMs: 5_001))
        #expect(client.isValid(atMs: 8_999) && !client.isValid(atMs: 9_000))
        // Kept across a reopen (the migration runs once).
        let reopened = try SQLiteStore(path: dir.file("s.sqlite"))
        #expect(try reopened.tokens().count == 2)
    }

    @Test("the cluster identity is nil at first, then the one saved last")
    func clusterIdentity() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("s.sqlite"))
        #expect(try store.clusterIdentity() == nil)
        try store.saveClusterIdentity(ClusterIdentity(caCertificatePEM: "cert1", caKeyPEM: "key1"))
        try store.saveClusterIdentity(ClusterIdentity(caCertificatePEM: "cert2", caKeyPEM: "key2"))
        #expect(try store.clusterIdentity() == ClusterIdentity(caCertificatePEM: "cert2", caKeyPEM: "key2"))
    }
}
