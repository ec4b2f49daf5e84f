import Foundation
import SchedCore
import SchedStore
import Testing

@Suite("SQLiteStore: node certificates and joins")
struct SQLiteStoreNodeCertificateTests {
    static func hash(_ c: Character) -> String { String(repeating: c, count: 64) }

    static func cert(_ serial: String, _ node: NodeID, expiresAtMs: Int64 = 10_000) -> StoredNodeCertificate {
        StoredNodeCertificate(serial: serial, node: node, issuedAtMs: 1_000, expiresAtMs: expiresAtMs, pem: "PEM " + serial)
    }

    @Test("a join uses the token once, atomically, and records the certificate with the token's id")
    func joinUsesTheToken() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("s.sqlite"))
        let token = try store.insertToken(StoredToken(hash: Self.hash("a"), kind: .agent, createdAtMs: 0, expiresAtMs: 5_000, usesLeft: 2))
        let after = try store.enrollNode(Self.cert("01", "n1"), joinTokenHash: Self.hash("a"), atMs: 1_000)
        #expect(after.id == token.id && after.usesLeft == 1)
        #expect(try store.token(hash: Self.hash("a"))?.usesLeft == 1)
        _ = try store.enrollNode(Self.cert("02", "n2"), joinTokenHash: Self.hash("a"), atMs: 1_000)
        #expect(try store.token(hash: Self.hash("a"))?.usesLeft == 0)
        // Used up: refused, and nothing recorded.
        #expect(throws: JoinRefusal.usedUp(id: token.id)) {
            try store.enrollNode(Self.cert("03", "n3"), joinTokenHash: Self.hash("a"), atMs: 1_000)
        }
        #expect(try store.token(hash: Self.hash("a"))?.usesLeft == 0)
        #expect(try store.nodeCertificate(serial: "03") == nil)
        let n1 = try #require(try store.nodeCertificate(serial: "01"))
        #expect(n1.node == "n1" && n1.joinTokenID == token.id && n1.revokedAtMs == nil && n1.pem == "PEM 01")
        #expect(try store.nodeCertificates(node: nil).map(\.serial) == ["01", "02"])
        #expect(try store.nodeCertificates(node: "n2").map(\.serial) == ["02"])
        // Kept across a reopen (the migration runs once).
        #expect(try SQLiteStore(path: dir.file("s.sqlite")).nodeCertificate(serial: "02")?.node == "n2")
    }

    @Test("unknown, admin, client, revoked and expired tokens are refused and change nothing")
    func badTokensRefused() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("s.sqlite"))
        let admin = try store.insertToken(StoredToken(hash: Self.hash("a"), kind: .admin, createdAtMs: 0))
        let client = try store.insertToken(StoredToken(hash: Self.hash("c"), kind: .client, tenant: "t", role: "submitter", createdAtMs: 0))
        let revoked = try store.insertToken(StoredToken(hash: Self.hash("r"), kind: .agent, createdAtMs: 0, usesLeft: 1))
        #expect(try store.revokeToken(id: revoked.id, atMs: 10))
        let expired = try store.insertToken(StoredToken(hash: Self.hash("e"), kind: .agent, createdAtMs: 0, expiresAtMs: 1_000, usesLeft: 1))
        let c = Self.cert("01", "n1")
        #expect(throws: JoinRefusal.unknownToken) { try store.enrollNode(c, joinTokenHash: Self.hash("x"), atMs: 500) }
        #expect(throws: JoinRefusal.notAJoinToken(id: admin.id)) { try store.enrollNode(c, joinTokenHash: Self.hash("a"), atMs: 500) }
        #expect(throws: JoinRefusal.notAJoinToken(id: client.id)) { try store.enrollNode(c, joinTokenHash: Self.hash("c"), atMs: 500) }
        #expect(throws: JoinRefusal.revoked(id: revoked.id)) { try store.enrollNode(c, joinTokenHash: Self.hash("r"), atMs: 500) }
        #expect(throws: JoinRefusal.expired(id: expired.id)) { try store.enrollNode(c, joinTokenHash: Self.hash("e"), atMs: 1_000) }
        #expect(try store.nodeCertificates(node: nil).isEmpty)
        #expect(try store.token(hash: Self.hash("e"))?.usesLeft == 1)
        #expect(try store.token(hash: Self.hash("r"))?.usesLeft == 1)
    }

    @Test("a node with a live certificate cannot join again until it is revoked (or expired); revocation returns its serials once")
    func oneLiveCertificatePerNode() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("s.sqlite"))
        _ = try store.insertToken(StoredToken(hash: Self.hash("a"), kind: .agent, createdAtMs: 0, usesLeft: 5))
        _ = try store.enrollNode(Self.cert("01", "n1", expiresAtMs: 10_000), joinTokenHash: Self.hash("a"), atMs: 1_000)
        #expect(throws: JoinRefusal.nodeHasCertificate(node: "n1", serial: "01", expiresAtMs: 10_000)) {
            try store.enrollNode(Self.cert("02", "n1"), joinTokenHash: Self.hash("a"), atMs: 2_000)
        }
        // The refused join used nothing.
        #expect(try store.token(hash: Self.hash("a"))?.usesLeft == 4)
        #expect(try store.revokeNodeCertificates(node: "n1", atMs: 3_000) == ["01"])
        #expect(try store.revokeNodeCertificates(node: "n1", atMs: 3_500) == [])
        #expect(try store.nodeCertificate(serial: "01")?.revokedAtMs == 3_000)
        _ = try store.enrollNode(Self.cert("02", "n1", expiresAtMs: 20_000), joinTokenHash: Self.hash("a"), atMs: 4_000)
        // An expired certificate does not hold the name either.
        _ = try store.enrollNode(Self.cert("03", "n1", expiresAtMs: 30_000), joinTokenHash: Self.hash("a"), atMs: 20_000)
        #expect(try store.nodeCertificates(node: "n1").map(\.serial) == ["01", "02", "03"])
        #expect(try store.token(hash: Self.hash("a"))?.usesLeft == 2)
        #expect(try store.revokeNodeCertificates(node: "n1", atMs: 21_000) == ["02", "03"])
        #expect(try store.revokeNodeCertificates(node: "nobody", atMs: 21_000) == [])
    }

    @Test("one single-use token raced by eight joins: exactly one gets through")
    func concurrentJoins() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("s.sqlite"))
        _ = try store.insertToken(StoredToken(hash: Self.hash("a"), kind: .agent, createdAtMs: 0, usesLeft: 1))
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<8 {
                group.addTask {
                    (try? store.enrollNode(Self.cert(String(format: "%02x", i), NodeID("n\(i)")), joinTokenHash: Self.hash("a"), atMs: 1)) != nil
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 1)
        #expect(try store.nodeCertificates(node: nil).count == 1)
        #expect(try store.token(hash: Self.hash("a"))?.usesLeft == 0)
    }
}
