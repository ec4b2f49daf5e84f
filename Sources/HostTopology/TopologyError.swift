#if canImport(Glibc)
import Glibc
#endif

/// A failure of topology discovery or of binding, with the C function that failed and its errno.
public struct TopologyError: Error, CustomStringConvertible, Sendable, Hashable {
    /// What went wrong.
    public enum Code: String, Sendable, Hashable {
        /// `hwloc_topology_init` failed.
        case initFailed
        /// The hwloc XML file could not be read or parsed.
        case xmlLoadFailed
        /// `hwloc_topology_load` (or a configuration call before it) failed.
        case loadFailed
        /// `sched_setaffinity` or `numa_set_membind` refused the requested sets.
        case bindFailed
    }

    public var code: Code
    /// The hwloc / libc / libnuma function that reported the failure.
    public var function: String
    /// `errno` right after the failing call (0 when the call does not set it).
    public var errno: Int32
    /// What was being done, e.g. `cannot load hwloc XML /x/y.xml`.
    public var context: String

    public init(_ code: Code, function: String, errno: Int32, context: String) {
        self.code = code
        self.function = function
        self.errno = errno
        self.context = context
    }

    public var description: String {
        guard errno != 0 else { return "\(context): \(function) failed" }
        return "\(context): \(function) failed: \(Self.message(for: errno)) (errno \(errno))"
    }

    static func message(for code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }

    /// The calling thread's current errno.
    static var currentErrno: Int32 { Glibc.errno }
}
