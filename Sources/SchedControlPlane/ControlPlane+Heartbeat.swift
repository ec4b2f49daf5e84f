import SchedProtocol

/// Heartbeats at fleet scale: the interval agents are given doubles as the fleet grows, so the
/// whole fleet sends at most `SchedulerConfig.heartbeatsPerSecond` heartbeats a second, and the
/// node timeout grows with it. Agents already connected are told with `HEARTBEAT_INTERVAL`.
/// The interval never shrinks while schedd runs (a restart starts again from the base).
extension ControlPlane {
    /// The smallest `base × 2^k` (at most one hour) at which `nodes` agents send at most
    /// `perSecond` heartbeats a second; `base` when `perSecond` is 0.
    public static func heartbeatInterval(base: Int, nodes: Int, perSecond: Int) -> Int {
        guard perSecond > 0, base > 0 else { return base }
        var ms = base
        while nodes * 1000 > perSecond * ms, ms < 3_600_000 { ms *= 2 }
        return ms
    }

    /// The interval agents are told now.
    var heartbeatIntervalMs: Int { announcedHeartbeatMs }

    /// Silence after which a node is down: the configured timeout, scaled with the interval.
    var nodeTimeoutMs: Int {
        config.nodeTimeoutMs / max(1, config.heartbeatIntervalMs) * announcedHeartbeatMs
            + config.nodeTimeoutMs % max(1, config.heartbeatIntervalMs)
    }

    /// Grows the interval when the fleet grew past what the current one allows, and tells every
    /// connected agent (one line each, at most once per doubling).
    mutating func adjustHeartbeatInterval() {
        let want = Self.heartbeatInterval(base: config.heartbeatIntervalMs, nodes: nodes.count,
                                          perSecond: config.heartbeatsPerSecond)
        guard want > announcedHeartbeatMs else { return }
        announcedHeartbeatMs = want
        let count = nodes.count, timeout = nodeTimeoutMs
        log(.notice, "heartbeat interval grows with the fleet", ["nodes": "\(count)",
                                                                            "heartbeat.ms": "\(want)",
                                                                            "node.timeout.ms": "\(timeout)"])
        for node in links.nodes { send(.heartbeatInterval(HeartbeatInterval(heartbeatIntervalMs: want)), to: node) }
    }
}
