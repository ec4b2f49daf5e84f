/// The cgroup controllers the agent uses for its tasks.
public enum CgroupController: String, Codable, Sendable, CaseIterable, Comparable {
    case cpuset, memory, pids, devices
    public static func < (a: CgroupController, b: CgroupController) -> Bool { a.rawValue < b.rawValue }
}

/// cgroup v1 (one hierarchy per controller) or v2 (one unified hierarchy).
public enum CgroupVersion: String, Codable, Sendable {
    case v1, v2
}

/// Where this host mounts its cgroup hierarchies (`/proc/self/mountinfo`), and where in each
/// the calling process is (`/proc/self/cgroup`): what `CgroupTree.locate` starts from.
public struct CgroupMounts: Sendable, Hashable {
    /// A mounted hierarchy: its mount point and the directory of the hierarchy mounted there
    /// (`/` unless a namespace or bind mount shows only part of it).
    public struct Mount: Sendable, Hashable {
        public var mountPoint: String
        public var root: String
        public init(mountPoint: String, root: String = "/") {
            self.mountPoint = mountPoint
            self.root = root
        }
    }

    /// The v1 hierarchies of the controllers the agent uses.
    public var v1: [CgroupController: Mount]
    /// The unified (v2) hierarchy, when mounted; with v1 controllers beside it this is a
    /// "hybrid" host, whose v2 tree has no controllers of those.
    public var v2: Mount?
    /// The calling process's cgroup in each v1 hierarchy, by controller, and in the v2 one.
    public var ownV1: [CgroupController: String]
    public var ownV2: String?

    public init(v1: [CgroupController: Mount] = [:], v2: Mount? = nil, ownV1: [CgroupController: String] = [:], ownV2: String? = nil) {
        self.v1 = v1
        self.v2 = v2
        self.ownV1 = ownV1
        self.ownV2 = ownV2
    }

    /// Parses `/proc/self/mountinfo` and `/proc/self/cgroup` text.
    public init(mountinfo: String, procCgroup: String) {
        self.init()
        for line in mountinfo.split(separator: "\n") {
            // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
            let fields = line.split(separator: " ")
            guard let dash = fields.firstIndex(of: "-"), dash >= 5, dash + 1 < fields.count else { continue }
            let root = Self.unescape(fields[3]), point = Self.unescape(fields[4])
            let type = fields[dash + 1]
            if type == "cgroup2" {
                if v2 == nil { v2 = Mount(mountPoint: point, root: root) }
            } else if type == "cgroup", dash + 3 < fields.count {
                for option in fields[dash + 3].split(separator: ",") {
                    if let c = CgroupController(rawValue: String(option)), v1[c] == nil { v1[c] = Mount(mountPoint: point, root: root) }
                }
            }
        }
        for line in procCgroup.split(separator: "\n") {
            // ID:CONTROLLERS:PATH; v2 is 0::PATH
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let path = String(parts[2])
            if parts[0] == "0", parts[1].isEmpty {
                ownV2 = path
            } else {
                for name in parts[1].split(separator: ",") {
                    if let c = CgroupController(rawValue: String(name)) { ownV1[c] = path }
                }
            }
        }
    }

    /// This host's, as the calling process sees them.
    public static func current() -> CgroupMounts {
        CgroupMounts(mountinfo: CgroupFile.read("/proc/self/mountinfo") ?? "", procCgroup: CgroupFile.read("/proc/self/cgroup") ?? "")
    }

    /// The directory, under its mount point, of `path` in the hierarchy mounted at `mount`
    /// (nil when the mount does not show it).
    static func directory(of path: String, in mount: Mount) -> String? {
        let root = mount.root == "/" ? "" : mount.root
        guard path == root || path.hasPrefix(root + "/") || root.isEmpty else { return nil }
        let rest = String(path.dropFirst(root.count))
        return mount.mountPoint + (rest == "/" ? "" : rest)
    }

    /// mountinfo escapes space, tab, newline and backslash as \ooo.
    static func unescape(_ s: Substring) -> String {
        guard s.contains("\\") else { return String(s) }
        var out: [UInt8] = []
        let bytes = Array(s.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\\"), i + 3 < bytes.count,
               let v = UInt8(String(decoding: bytes[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                out.append(v)
                i += 4
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
