/// Protocol constants shared by schedd, sched-agent and schedctl.
public enum WireProtocol {
    /// The version spoken by this build. A peer with a different major version is refused.
    public static let version = 1
    /// Longest line accepted by default, newline excluded (1 MiB). Longer lines are discarded.
    public static let defaultMaxLineBytes = 1 << 20
    /// Software name sent in HELLO/WELCOME.
    public static let software = "sched 0.1.0"
}

/// Stable error codes carried in `ERR` lines.
public enum WireErrorCode: String, Sendable, Codable, Hashable {
    case malformed                  // not `VERB {json}`, or JSON that does not fit the verb
    case unknownVerb = "unknown_verb"
    case lineTooLong = "line_too_long"
    case invalidUTF8 = "invalid_utf8" // a line that is not valid UTF-8 (it is never repaired into text)
    case handshakeRequired = "handshake_required"
    case unsupportedVersion = "unsupported_version"
    case unauthenticated            // HELLO without a token schedd knows (or revoked, expired)
    case wrongRole = "wrong_role"   // e.g. a client sending HEARTBEAT
    case forbidden                  // the token's role or tenant does not allow the request
    case limitExceeded = "limit_exceeded"   // an admission limit: jobs per request, pending per tenant, submit rate
    case invalidSpec = "invalid_spec"
    case notFound = "not_found"     // unknown job or node
    case conflict                   // e.g. cancelling a finished job
    case unavailable                // the store refused a write
    case internalError = "internal"
}
