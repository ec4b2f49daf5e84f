/// A failure to create, read or check the cluster's keys, certificates or tokens; the message
/// says which file or value and why.
public struct TrustError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
