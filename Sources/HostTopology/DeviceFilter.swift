import CProcessControl
#if canImport(Glibc)
import Glibc
#endif

/// cgroup v2 device control: an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) attached to a cgroup
/// directory, built from `Rule`s by the C target (`sched_attach_device_filter`). Needs CAP_BPF or
/// CAP_SYS_ADMIN (root).
public enum DeviceFilter {
    /// A device, or every minor of a major (`minor` nil), allowed or denied.
    public struct Rule: Sendable, Hashable {
        public enum Kind: Sendable, Hashable { case char, block }
        public var type: Kind
        public var major: UInt32
        public var minor: Int?
        public var allow: Bool
        public init(type: Kind, major: UInt32, minor: Int?, allow: Bool) {
            self.type = type
            self.major = major
            self.minor = minor
            self.allow = allow
        }
    }

    /// Attaches a program applying `rules` in order (first match decides; no match: allowed) to
    /// the cgroup directory `dir`, beside any program already there (BPF_F_ALLOW_MULTI).
    public static func attach(_ rules: [Rule], to dir: String) throws(CgroupError) {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw CgroupError("open", dir, errno: errno) }
        defer { close(fd) }
        let c = rules.map {
            sched_device_rule(type: CChar(UInt8(ascii: $0.type == .char ? "c" : "b")), major: $0.major,
                              minor: Int64($0.minor ?? -1), allow: $0.allow ? 1 : 0)
        }
        var log = [CChar](repeating: 0, count: 4096)
        let rc = c.withUnsafeBufferPointer { rules in
            sched_attach_device_filter(fd, rules.baseAddress, rules.count, &log, log.count)
        }
        guard rc == 0 else {
            let e = errno
            let text = String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let verifier = text.split(separator: "\n").last.map { " (verifier: \($0))" } ?? ""
            throw CgroupError("attach an eBPF device filter\(verifier) to", dir, errno: e)
        }
    }

    /// How many device programs are attached to `dir` itself; nil when that cannot be asked.
    public static func attachedCount(_ dir: String) -> Int? {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let n = sched_device_filter_count(fd)
        return n < 0 ? nil : Int(n)
    }
}
