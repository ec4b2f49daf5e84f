/// Why a TLS connection to schedd could not be set up.
public struct TLSConnectError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Hashable {
        /// The server's certificate is not signed by the CA this side trusts.
        case certificateNotTrusted
        /// The certificate is signed by that CA but does not name the host connected to.
        case nameMismatch
        /// The server did not finish the handshake in time.
        case timedOut
        /// Anything else (the peer closed, speaks another protocol, ...).
        case failed
    }
    public var kind: Kind
    /// What TLS reported.
    public var detail: String
    public var description: String {
        switch kind {
        case .certificateNotTrusted: return "certificate not trusted: \(detail)"
        case .nameMismatch: return "certificate does not name this server: \(detail)"
        case .timedOut: return "TLS handshake timed out"
        case .failed: return "TLS handshake failed: \(detail)"
        }
    }
    init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }
}
