import Foundation
import SchedCore
import SchedNet
import SchedProtocol
import SchedStore
import SchedTrust
import Testing
@testable import SchedulerKit

/// What schedd accepts at HELLO and JOIN: node certificates checked by serial against the store,
/// join tokens that only join, and which credentials open which session.
@Suite("SchedulerKit: node certificates and join tokens at HELLO and JOIN")
struct NodeAuthenticationTests {
    /// A store with a CA and one agent join token (uses `uses`).
    struct Setup {
        let dir: TempDir
        let store: SQLiteStore
        let ca: ClusterCA
        let joinToken: BearerToken
        let joinTokenID: Int64
        var authenticator: Authenticator { Authenticator(store: store) }
        var enrollment: NodeEnrollment { NodeEnrollment(ca: ca, store: store) }

        init(uses: Int = 3, ttlMs: Int64 = 3_600_000) throws {
            dir = try TempDir()
            store = try SQLiteStore(path: dir.file("s.sqlite"))
            ca = try ClusterCA.generate()
            joinToken = BearerToken.generate()
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            joinTokenID = try store.insertToken(StoredToken(hash: joinToken.hash, kind: .agent, createdAtMs: now,
                                                            expiresAtMs: now + ttlMs, usesLeft: uses)).id
        }

        /// Joins `node` with the join token; the key and what schedd answered.
        func join(_ node: NodeID) throws -> (key: NodeKey, joined: Joined) {
            let key = try NodeKey.generate(nodeName: node.rawValue)
            let joined = try enrollment.enroll(Join(node: node, csr: key.requestPEM), tokenHash: joinToken.hash).get()
            return (key, joined)
        }

        /// The peer TLS would hand schedd for this certificate.
        func peer(_ pem: String) throws -> LinePeer {
            LinePeer(address: "127.0.0.1:1", certificate: try PeerCertificate(derBytes: try NodeCertificate(pem: pem).derBytes))
        }
    }

    @Test("a JOIN gets a certificate for its node, recorded by serial with its join token; the token's uses go down")
    func joinRecordsTheCertificate() throws {
        let s = try Setup()
        defer { s.dir.remove() }
        let (key, joined) = try s.join("gpu-07")
        let cert = try NodeCertificate(pem: joined.certificate)
        #expect(cert.nodeName == "gpu-07" && cert.serial == joined.serial)
        #expect(cert.usable(nodeName: "gpu-07", keyPEM: key.keyPEM, caPEM: try s.ca.certificatePEM))
        let stored = try #require(try s.store.nodeCertificate(serial: joined.serial))
        #expect(stored.node == "gpu-07" && stored.joinTokenID == s.joinTokenID && stored.revokedAtMs == nil)
        #expect(stored.expiresAtMs == joined.expiresAtMs)
        #expect(try s.store.token(hash: s.joinToken.hash)?.usesLeft == 2)
    }

    @Test("JOIN refusals: a bad name or CSR is malformed, a node with a live certificate a conflict, a used-up token unauthenticated")
    func joinRefusals() throws {
        let s = try Setup(uses: 2)
        defer { s.dir.remove() }
        let key = try NodeKey.generate(nodeName: "n1")
        #expect(s.enrollment.enroll(Join(node: "bad name", csr: key.requestPEM), tokenHash: s.joinToken.hash).failure?.code == .malformed)
        #expect(s.enrollment.enroll(Join(node: "-x", csr: key.requestPEM), tokenHash: s.joinToken.hash).failure?.code == .malformed)
        #expect(s.enrollment.enroll(Join(node: "n1", csr: "no csr"), tokenHash: s.joinToken.hash).failure?.code == .malformed)
        _ = try s.join("n1")
        let again = s.enrollment.enroll(Join(node: "n1", csr: key.requestPEM), tokenHash: s.joinToken.hash).failure
        #expect(again?.code == .conflict)
        #expect(again?.message.contains("revoke it first: schedctl node revoke n1") == true)
        _ = try s.join("n2")
        let usedUp = s.enrollment.enroll(Join(node: "n3", csr: key.requestPEM), tokenHash: s.joinToken.hash).failure
        #expect(usedUp?.code == .unauthenticated)
        #expect(usedUp?.message.contains("used up") == true)
        #expect(try s.store.nodeCertificates(node: nil).map(\.node) == ["n1", "n2"])
    }

    @Test("a HELLO with only a live node certificate is that node; revoked, unknown or misnamed certificates are refused")
    func certificateAtHello() throws {
        let s = try Setup()
        defer { s.dir.remove() }
        let (_, joined) = try s.join("n1")
        let hello = Hello(role: .agent)
        let identity = try s.authenticator.authenticate(hello, peer: try s.peer(joined.certificate)).get()
        #expect(identity.certifiedNode == "n1" && identity.kind == nil && identity.tokenID == nil)
        #expect(!identity.isClusterAdmin && !identity.isJoinToken)
        #expect(s.authenticator.recheck(identity) == nil)

        // A certificate the CA signed but schedd never recorded (not from a JOIN).
        let stray = try NodeCertificate(try s.ca.signNodeRequest(try NodeKey.generate(nodeName: "n9").requestPEM, nodeName: "n9"))
        let unknown = s.authenticator.authenticate(hello, peer: try s.peer(stray.pem)).failure
        #expect(unknown?.code == .unauthenticated && unknown?.message.contains("was not issued to a node") == true)

        // A record whose node is not the certificate's name is not trusted either.
        let misnamed = try NodeCertificate(try s.ca.signNodeRequest(try NodeKey.generate(nodeName: "n2").requestPEM, nodeName: "n2"))
        try s.store.insertNodeCertificate(StoredNodeCertificate(serial: misnamed.serial, node: "n3", issuedAtMs: 0,
                                                                expiresAtMs: .max, pem: misnamed.pem))
        #expect(s.authenticator.authenticate(hello, peer: try s.peer(misnamed.pem)).failure?.code == .unauthenticated)

        // Revoked: refused at HELLO, and by the re-check of a connection already accepted.
        #expect(try s.store.revokeNodeCertificates(node: "n1", atMs: 1) == [joined.serial])
        let revoked = s.authenticator.authenticate(hello, peer: try s.peer(joined.certificate)).failure
        #expect(revoked?.code == .unauthenticated)
        #expect(revoked?.message.contains("node certificate of n1") == true && revoked?.message.contains("revoked") == true)
        #expect(s.authenticator.recheck(identity)?.code == .unauthenticated)
        // A valid token does not make a revoked certificate acceptable.
        #expect(s.authenticator.authenticate(Hello(role: .agent, token: s.joinToken.secret), peer: try s.peer(joined.certificate))
            .failure?.code == .unauthenticated)
    }

    @Test("join tokens at HELLO: accepted while good, refused with what to do when used up or expired")
    func joinTokenAtHello() throws {
        let s = try Setup(uses: 1)
        defer { s.dir.remove() }
        let plain = LinePeer(address: "127.0.0.1:1", certificate: nil)
        let hello = Hello(role: .agent, token: s.joinToken.secret)
        let identity = try s.authenticator.authenticate(hello, peer: plain).get()
        #expect(identity.isJoinToken && identity.certifiedNode == nil && !identity.isClusterAdmin)
        _ = try s.join("n1")
        let usedUp = s.authenticator.authenticate(hello, peer: plain).failure
        #expect(usedUp?.code == .unauthenticated)
        #expect(usedUp?.message == "join token \(s.joinTokenID) is used up; create another: schedctl token create --agent [--uses N]")

        let expired = try Setup(uses: 1, ttlMs: -1)
        defer { expired.dir.remove() }
        let e = expired.authenticator.authenticate(Hello(role: .agent, token: expired.joinToken.secret), peer: plain).failure
        #expect(e?.code == .unauthenticated && e?.message.contains("expired") == true)
        #expect(s.authenticator.authenticate(Hello(role: .agent), peer: plain).failure?.code == .unauthenticated)
    }

    @Test("which credentials open which session: agents need a certificate, a join token or a cluster-admin token")
    func sessions() {
        let admin = ConnectionIdentity(tokenID: 1, kind: .admin)
        let clusterAdminClient = ConnectionIdentity(tokenID: 2, kind: .client, role: "cluster-admin")
        let submitter = ConnectionIdentity(tokenID: 3, kind: .client, tenant: "t", role: "submitter")
        let join = ConnectionIdentity(tokenID: 4, kind: .agent)
        let node = ConnectionIdentity(certifiedNode: "n1")
        #expect(ConnectionHandler.sessionRefusal(.agent, admin) == nil)
        #expect(ConnectionHandler.sessionRefusal(.agent, clusterAdminClient) == nil)
        #expect(ConnectionHandler.sessionRefusal(.agent, join) == nil)
        #expect(ConnectionHandler.sessionRefusal(.agent, node) == nil)
        #expect(ConnectionHandler.sessionRefusal(.agent, submitter)?.code == .forbidden)
        #expect(ConnectionHandler.sessionRefusal(.client, submitter) == nil)
        #expect(ConnectionHandler.sessionRefusal(.client, admin) == nil)
        #expect(ConnectionHandler.sessionRefusal(.client, join)?.code == .forbidden)
        #expect(ConnectionHandler.sessionRefusal(.client, node)?.code == .forbidden)
        #expect(node.principal.role == .viewer && join.principal.role == .viewer)
    }
}

extension Result {
    /// The error, nil on success.
    var failure: Failure? { if case .failure(let e) = self { e } else { nil } }
}
