import Synchronization

/// The server's count of open connections per peer address and in all, against its
/// `ConnectionLimits`, and of every connection a limit closed. Shared by the accept path (on
/// event loops) and by connections handing themselves over as agents (in tasks): one mutex,
/// held for a dictionary update.
final class ConnectionGate: Sendable {
    let limits: ConnectionLimits
    private struct State {
        var perPeer: [String: Int] = [:]
        var total = 0
        var counts = ConnectionLimitCounts()
    }
    private let state = Mutex(State())

    init(limits: ConnectionLimits) {
        self.limits = limits
    }

    /// Takes a slot for a connection from `peer`, or says which limit refuses it (and counts that).
    func admit(_ peer: String) -> ConnectionTicket? {
        state.withLock { s in
            if limits.maxTotal > 0, s.total >= limits.maxTotal {
                s.counts.total += 1
                return nil
            }
            let held = s.perPeer[peer, default: 0]
            if limits.maxPerPeer > 0, held >= limits.maxPerPeer {
                s.counts.perPeer += 1
                return nil
            }
            s.perPeer[peer] = held + 1
            s.total += 1
            return ConnectionTicket(gate: self, peer: peer)
        }
    }

    fileprivate func release(_ peer: String) {
        state.withLock { s in
            s.total -= 1
            let left = s.perPeer[peer, default: 1] - 1
            s.perPeer[peer] = left > 0 ? left : nil
        }
    }

    func count(_ closed: ConnectionLimitCounts.Deadline) {
        state.withLock { $0.counts.count(closed) }
    }

    var counts: ConnectionLimitCounts { state.withLock { $0.counts } }
    /// Connections that hold a slot now.
    var open: Int { state.withLock { $0.total } }
}

/// One connection's slot in a `ConnectionGate`, given back once: when the connection closes or
/// when it is admitted as an agent, whichever comes first.
final class ConnectionTicket: Sendable {
    private let gate: ConnectionGate
    private let peer: String
    private let held = Atomic(true)

    fileprivate init(gate: ConnectionGate, peer: String) {
        self.gate = gate
        self.peer = peer
    }

    func release() {
        if held.exchange(false, ordering: .acquiringAndReleasing) { gate.release(peer) }
    }
}
