/// What a `LineServer` allows a peer before it has proved who it is, and while it is a client:
/// how many such connections one address and all addresses together may hold, how long a peer
/// has after TLS to send its first line (the HELLO), and how long a client may stay silent
/// between requests. Connections handed over as agents (`LineConnection.admitAsAgent()`) no
/// longer count: a fleet's agents are bounded by the open-file limit alone.
public struct ConnectionLimits: Sendable, Equatable {
    /// Connections from one IP address not (yet) admitted as agents; 0: no limit.
    public var maxPerPeer: Int
    /// Connections from all addresses not admitted as agents; 0: no limit.
    public var maxTotal: Int
    /// After the TLS handshake, the first complete line must arrive within this (nil: no limit).
    public var firstLineTimeout: Duration?
    /// Between requests, a client's next complete line must arrive within this (nil: no limit).
    /// A trickle of bytes without a newline does not count (slowloris).
    public var idleTimeout: Duration?

    public init(maxPerPeer: Int = 512, maxTotal: Int = 8_192, firstLineTimeout: Duration? = .seconds(5),
                idleTimeout: Duration? = .seconds(120)) {
        self.maxPerPeer = maxPerPeer
        self.maxTotal = maxTotal
        self.firstLineTimeout = firstLineTimeout
        self.idleTimeout = idleTimeout
    }

    /// No limits at all (the client side, and tests of other things).
    public static let none = ConnectionLimits(maxPerPeer: 0, maxTotal: 0, firstLineTimeout: nil, idleTimeout: nil)
}

/// How often a `LineServer` closed a connection because of a `ConnectionLimits` rule.
public struct ConnectionLimitCounts: Sendable, Equatable {
    /// Refused at accept: the peer's address already held `maxPerPeer` connections.
    public var perPeer = 0
    /// Refused at accept: `maxTotal` connections were already open.
    public var total = 0
    /// Closed: TLS did not finish within the handshake timeout (or was not TLS at all).
    public var handshakeTimeouts = 0
    /// Closed: no first line within `firstLineTimeout`.
    public var firstLineTimeouts = 0
    /// Closed: a client silent past `idleTimeout`.
    public var idleTimeouts = 0

    public init() {}

    /// Why a connection that was let in was closed by a deadline.
    enum Deadline: Sendable {
        case handshake, firstLine, idle
    }

    mutating func count(_ d: Deadline) {
        switch d {
        case .handshake: handshakeTimeouts += 1
        case .firstLine: firstLineTimeouts += 1
        case .idle: idleTimeouts += 1
        }
    }

    /// The non-zero counts under the names `schedctl status` shows.
    public var named: [String: Int] {
        var d: [String: Int] = [:]
        for (k, v) in [("connections_per_peer", perPeer), ("connections_total", total),
                       ("tls_handshake_timeout", handshakeTimeouts), ("hello_timeout", firstLineTimeouts),
                       ("idle_timeout", idleTimeouts)] where v > 0 { d[k] = v }
        return d
    }
}
