import SchedCore

/// The template a service's replicas are being moved to by a rolling update.
public struct RolloutTarget: Sendable, Codable, Hashable {
    /// The revision the replicas move to (the first template is revision 1).
    public var revision: Int
    /// The new template: command, resources, environment, ...
    public var spec: JobSpec
    public init(revision: Int, spec: JobSpec) {
        self.revision = revision
        self.spec = spec
    }
}

/// How far a service's rolling update is, for `schedctl job`.
public struct RolloutProgress: Sendable, Codable, Hashable {
    public var revision: Int
    /// Replicas already running the new revision (started, or waiting to start with it).
    public var updated: Int
    /// Replicas of the service that are not cancelled or ended.
    public var total: Int
    /// The replica being replaced now, if any.
    public var replacing: JobID?
    public init(revision: Int, updated: Int, total: Int, replacing: JobID?) {
        self.revision = revision
        self.updated = updated
        self.total = total
        self.replacing = replacing
    }
}

/// Update a service in place (UPDATE): its replicas are replaced one at a time by tasks of `spec`.
public struct UpdateJob: Sendable, Codable, Hashable {
    /// The service: any replica's id (or the array's first id).
    public var job: JobID
    public var spec: JobSpec
    public init(job: JobID, spec: JobSpec) {
        self.job = job
        self.spec = spec
    }
}
