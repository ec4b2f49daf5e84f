import Foundation
import Logging
import SchedCore
import SchedProtocol
import SchedStore
import SchedTrust

/// Turns a `JOIN` into a node certificate: checks the node name, signs the agent's CSR with the
/// cluster CA for that name (client auth only, CN and DNS SAN = the node), then records it in the
/// store in one transaction with the join token's use (`SchedulerStore.enrollNode`: token still
/// good, uses decremented, no live certificate for the node). A certificate whose recording is
/// refused is thrown away. Every join, refused ones too, is audited.
struct NodeEnrollment: Sendable {
    let ca: ClusterCA
    let store: any SchedulerStore
    /// How long a node certificate is valid.
    var validity: TimeInterval = 365 * 86_400

    /// The `JOINED` to send, or the `ERR`. `tokenHash` is the SHA-256 of the HELLO's join token.
    func enroll(_ join: Join, tokenHash: String, now: Date = Date()) -> Result<Joined, ErrorReply> {
        if let problem = Self.nameProblem(join.node.rawValue) { return .failure(ErrorReply(.malformed, "JOIN: node: \(problem)")) }
        let certificate: NodeCertificate
        do {
            certificate = try NodeCertificate(try ca.signNodeRequest(join.csr, nodeName: join.node.rawValue, validity: validity, now: now))
        } catch {
            return .failure(ErrorReply(.malformed, "JOIN: csr: \(error)"))
        }
        let nowMs = Int64(now.timeIntervalSince1970 * 1000)
        let expiresMs = Int64(certificate.notValidAfter.timeIntervalSince1970 * 1000)
        let record = StoredNodeCertificate(serial: certificate.serial, node: join.node, issuedAtMs: nowMs, expiresAtMs: expiresMs,
                                           pem: certificate.pem)
        do {
            _ = try store.enrollNode(record, joinTokenHash: tokenHash, atMs: nowMs)
        } catch let refusal as JoinRefusal {
            if case .nodeHasCertificate = refusal { return .failure(ErrorReply(.conflict, "JOIN: \(refusal)")) }
            return .failure(ErrorReply(.unauthenticated, "JOIN: \(refusal)"))
        } catch {
            return .failure(ErrorReply(.unavailable, "JOIN: the certificate could not be recorded: \(error)"))
        }
        return .success(Joined(node: join.node, certificate: certificate.pem, serial: certificate.serial, expiresAtMs: expiresMs))
    }

    /// Node names a certificate may carry: 1–253 letters, digits, `-`, `_` and `.`, starting with
    /// a letter or digit (host names and the emulated fleets' names fit).
    static func nameProblem(_ name: String) -> String? {
        guard !name.isEmpty, name.utf8.count <= 253 else { return "must be 1-253 characters" }
        func isAlphanumeric(_ c: UInt8) -> Bool {
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
        }
        guard let first = name.utf8.first, isAlphanumeric(first),
              name.utf8.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") })
        else { return "'\(name.prefix(64))' must be letters, digits, '-', '_' and '.', starting with a letter or digit" }
        return nil
    }
}
