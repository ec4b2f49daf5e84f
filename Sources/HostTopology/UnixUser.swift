#if canImport(Glibc)
import Glibc
#endif

/// A user of this host's account database (`getpwnam_r`), with the groups `initgroups(3)` would
/// give it (`getgrouplist`: its primary group and every group listing it as a member).
public struct UnixUser: Sendable, Hashable {
    public var name: String
    public var uid: UInt32
    public var gid: UInt32
    public var groups: [UInt32]
    public var home: String
    public var shell: String

    public init(name: String, uid: UInt32, gid: UInt32, groups: [UInt32], home: String, shell: String) {
        self.name = name
        self.uid = uid
        self.gid = gid
        self.groups = groups
        self.home = home
        self.shell = shell
    }

    /// The credentials a process switching to this user takes.
    public var credentials: ProcessControl.Credentials { .init(uid: uid, gid: gid, groups: groups) }

    /// The user named `name`, nil when there is none (or the database cannot be read).
    public static func named(_ name: String) -> UnixUser? {
        guard !name.isEmpty else { return nil }
        return withEntry { pw, buffer, size, result in getpwnam_r(name, pw, buffer, size, result) }
    }

    /// The user with uid `uid`, nil when there is none.
    public static func withID(_ uid: UInt32) -> UnixUser? {
        withEntry { pw, buffer, size, result in getpwuid_r(uid, pw, buffer, size, result) }
    }

    /// The calling process's effective uid.
    public static var effectiveUID: UInt32 { geteuid() }

    private static func withEntry(_ get: (UnsafeMutablePointer<passwd>, UnsafeMutablePointer<CChar>, Int,
                                          UnsafeMutablePointer<UnsafeMutablePointer<passwd>?>) -> Int32) -> UnixUser? {
        var size = 4096
        while size <= 1 << 20 {
            var pw = passwd()
            var result: UnsafeMutablePointer<passwd>?
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: size)
            defer { buffer.deallocate() }
            let rc = get(&pw, buffer, size, &result)
            if rc == ERANGE { size *= 4; continue }
            guard rc == 0, result != nil else { return nil }
            let name = String(cString: pw.pw_name)
            return UnixUser(name: name, uid: pw.pw_uid, gid: pw.pw_gid, groups: groupList(name, pw.pw_gid),
                            home: String(cString: pw.pw_dir), shell: String(cString: pw.pw_shell))
        }
        return nil
    }

    private static func groupList(_ name: String, _ gid: UInt32) -> [UInt32] {
        var count: Int32 = 64
        while true {
            var groups = [gid_t](repeating: 0, count: Int(count))
            var n = count
            if getgrouplist(name, gid, &groups, &n) >= 0 { return Array(groups.prefix(Int(n))) }
            guard n > count else { return [gid] }  // cannot happen: -1 means the list needs more room
            count = n
        }
    }
}
