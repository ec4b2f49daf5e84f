#if canImport(Glibc)
import Glibc
#endif

/// A cgroup file or directory operation that failed: which, on what, and errno.
public struct CgroupError: Error, CustomStringConvertible, Sendable, Hashable {
    public var operation: String
    public var path: String
    public var errno: Int32

    public init(_ operation: String, _ path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var description: String { "cannot \(operation) \(path): \(TopologyError.message(for: errno))" }
}

/// Reading and writing cgroup control files the way `echo VALUE > FILE` does (one `write` per
/// value, so the kernel parses each on its own), and the directory calls. Plain files behave
/// the same, which lets tests run the cgroup logic against a temporary directory tree.
enum CgroupFile {
    static func write(_ value: String, to path: String) throws(CgroupError) {
        try write([value], to: path, append: false)
    }

    /// Writes each of `values` with a `write` call of its own (`devices.deny` takes one rule per write).
    static func write(_ values: [String], to path: String, append: Bool) throws(CgroupError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0o644)
        guard fd >= 0 else { throw CgroupError("open", path, errno: Glibc.errno) }
        defer { close(fd) }
        for value in values {
            let line = value + "\n"
            let n = line.withCString { Glibc.write(fd, $0, strlen($0)) }
            guard n >= 0 else { throw CgroupError("write '\(value)' to", path, errno: Glibc.errno) }
        }
    }

    /// The file's text, nil when it cannot be read.
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 4096) }
            if n < 0 { if Glibc.errno == EINTR { continue } else { return nil } }
            if n == 0 { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The file's first line without surrounding white space; nil when unreadable.
    static func value(_ path: String) -> String? {
        read(path).map { String($0.split(separator: "\n", omittingEmptySubsequences: false).first ?? "").trimmed }
    }

    /// `KEY N` lines (`memory.events`, `memory.oom_control`): the number after `key`.
    static func keyedValue(_ path: String, _ key: String) -> Int64? {
        guard let text = read(path) else { return nil }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == key { return Int64(parts[1]) }
        }
        return nil
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Creates `path`; true when it was created, false when it already was a directory.
    @discardableResult
    static func makeDirectory(_ path: String) throws(CgroupError) -> Bool {
        if mkdir(path, 0o755) == 0 { return true }
        let e = Glibc.errno
        if e == EEXIST, isDirectory(path) { return false }
        throw CgroupError("create", path, errno: e)
    }

    static func removeDirectory(_ path: String) throws(CgroupError) {
        guard rmdir(path) == 0 else { throw CgroupError("remove", path, errno: Glibc.errno) }
    }

    /// The names of `path`'s subdirectories (not `.` and `..`), sorted; empty when unreadable.
    static func subdirectories(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != ".", name != "..", isDirectory(path + "/" + name) { names.append(name) }
        }
        return names.sorted()
    }
}

extension StringProtocol {
    var trimmed: String {
        String(drop { $0 == " " || $0 == "\n" || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\n" || $0 == "\t" }.reversed())
    }
}
