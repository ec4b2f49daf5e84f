import SchedProtocol

/// The payload of a `Message` of one verb, nil for any other: `lines.compactMap(\.startTask)`.
extension Message {
    public var startTask: StartTask? { if case .startTask(let s) = self { s } else { nil } }
    public var killTask: KillTask? { if case .killTask(let k) = self { k } else { nil } }
    public var ackExit: AckExit? { if case .ackExit(let a) = self { a } else { nil } }
    public var registered: Registered? { if case .registered(let r) = self { r } else { nil } }
    public var heartbeatInterval: HeartbeatInterval? { if case .heartbeatInterval(let h) = self { h } else { nil } }
    public var accepted: Accepted? { if case .accepted(let a) = self { a } else { nil } }
    public var jobInfo: JobInfo? { if case .jobInfo(let j) = self { j } else { nil } }
    public var nodeInfo: NodeInfo? { if case .nodeInfo(let n) = self { n } else { nil } }
    public var nodeList: NodeList? { if case .nodeList(let l) = self { l } else { nil } }
    public var errorReply: ErrorReply? { if case .error(let e) = self { e } else { nil } }
}
