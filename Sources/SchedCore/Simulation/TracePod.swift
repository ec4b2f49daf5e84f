/// One task of a trace: its name (the experiment sorts by it), its request, and when it was
/// created and deleted (seconds from the trace's start; nil where the trace has no times).
public struct TracePod: Sendable, Hashable {
    public var name: String
    public var request: ShareRequest
    public var createdAt: Int?
    public var deletedAt: Int?

    public init(name: String, request: ShareRequest, createdAt: Int? = nil, deletedAt: Int? = nil) {
        self.name = name
        self.request = request
        self.createdAt = createdAt
        self.deletedAt = deletedAt
    }
}
