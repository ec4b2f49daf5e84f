import Foundation
import SchedNet

/// Where schedd is and how to reach it safely: its address, the CA its certificate must be signed
/// by (read from `caFile`, named in errors) and the bearer token every HELLO carries.
public struct SchedEndpoint: Sendable {
    public var address: HostPort
    /// Where the CA the TLS settings trust came from, named in "not trusted" errors: its file, or
    /// the config file holding it inline (`FILE (context NAME)`).
    public var caFile: String
    public var tls: TLSClientConfiguration
    /// The token sent in HELLO; a secret, never printed.
    public var token: String?

    public init(address: HostPort, caFile: String, tls: TLSClientConfiguration, token: String?) {
        self.address = address
        self.caFile = caFile
        self.tls = tls
        self.token = token
    }

    /// Reads the CA from `caFile`; `serverName` (default: the address's host) is the name or IP
    /// address schedd's certificate must carry.
    public init(address: HostPort, caFile: String, token: String?, serverName: String? = nil) throws {
        let pem: String
        do {
            pem = try String(contentsOfFile: caFile, encoding: .utf8)
        } catch {
            throw ClientError("cannot read the CA file \(caFile): \(error.localizedDescription)\n"
                + "(schedd writes ca.pem in its state directory; pass --ca FILE or set SCHED_CA)")
        }
        do {
            self.init(address: address, caFile: caFile, tls: try TLSClientConfiguration(trustRootsPEM: pem, serverName: serverName),
                      token: token)
        } catch {
            throw ClientError("\(caFile): \(error)")
        }
    }

    /// Trusts the CA certificate(s) in `caPEM`, which came from `caSource` (named in errors:
    /// `~/.config/sched/config.toml (context default)`).
    public init(address: HostPort, caPEM: String, caSource: String, token: String?, serverName: String? = nil) throws {
        do {
            self.init(address: address, caFile: caSource, tls: try TLSClientConfiguration(trustRootsPEM: caPEM, serverName: serverName),
                      token: token)
        } catch {
            throw ClientError("\(caSource): \(error)")
        }
    }

    /// Reads a token file (`admin.token`): its first line, without white space.
    public static func readToken(file: String) throws -> String {
        do {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            let token = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard !token.isEmpty else { throw ClientError("the token file \(file) is empty") }
            return token
        } catch let e as ClientError {
            throw e
        } catch {
            throw ClientError("cannot read the token file \(file): \(error.localizedDescription)")
        }
    }

    /// Explains a failed TLS connection in words a user can act on.
    func explain(_ error: any Error) -> String {
        guard let tls = error as? TLSConnectError else {
            return "cannot reach schedd at \(address): \(error)\n(start it, or point --scheduler, SCHED_SCHEDULER or `schedctl login` at it)"
        }
        switch tls.kind {
        case .certificateNotTrusted:
            return "schedd at \(address): certificate not trusted by the CA in \(caFile)\n"
                + "(use the ca.pem from schedd's state directory: --ca FILE, SCHED_CA, or `schedctl login --ca FILE`)"
        case .nameMismatch:
            let name = self.tls.serverName ?? address.host
            return "schedd at \(address): its certificate does not name \(name); start schedd with --tls-san \(name)"
        case .timedOut:
            return "schedd at \(address) did not finish the TLS handshake in time"
        case .failed:
            return "schedd at \(address): TLS handshake failed: \(tls.detail)"
        }
    }
}
