import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files that hold keys, certificates and tokens: atomically (a temporary file in the same
/// directory, fsync, rename, fsync of the directory) and with their mode set from the first byte
/// on (the file is created with it, so it is never readable by others, whatever the umask).
public enum SecretFile {
    /// Owner read/write only: private keys and tokens.
    public static let secretMode: mode_t = 0o600
    /// Readable by all: the CA certificate clients and agents are given.
    public static let publicMode: mode_t = 0o644

    /// Replaces `path` with `contents`, mode `mode`.
    public static func write(_ contents: String, to path: String, mode: mode_t) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let tmp = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw TrustError("cannot create \(tmp): \(String(cString: strerror(errno)))") }
        var ok = false
        defer {
            if !ok { unlink(tmp) }
        }
        do {
            defer { close(fd) }
            // The umask may have taken bits away from `mode`; set exactly what was asked for.
            guard fchmod(fd, mode) == 0 else { throw TrustError("cannot chmod \(tmp): \(String(cString: strerror(errno)))") }
            let bytes = Array(contents.utf8)
            var written = 0
            while written < bytes.count {
                let n = bytes[written...].withUnsafeBytes { systemWrite(fd, $0.baseAddress, $0.count) }
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { throw TrustError("cannot write \(tmp): \(String(cString: strerror(errno)))") }
                written += n
            }
            guard fsync(fd) == 0 else { throw TrustError("cannot fsync \(tmp): \(String(cString: strerror(errno)))") }
        }
        guard rename(tmp, path) == 0 else { throw TrustError("cannot rename \(tmp) to \(path): \(String(cString: strerror(errno)))") }
        ok = true
        let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }

    /// The file's contents, nil when it does not exist.
    public static func read(_ path: String) throws -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw TrustError("cannot read \(path): \(error.localizedDescription)")
        }
    }

    /// The permission bits of `path` (`0o600`, ...), nil when it does not exist.
    public static func mode(of path: String) -> mode_t? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return st.st_mode & 0o7777
    }
}

private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, buffer, count)
    #else
    Darwin.write(fd, buffer, count)
    #endif
}

extension SecretFile {
    /// Makes sure `path` exists with `mode`: created empty with it if missing (never readable by
    /// others in between), its mode set if present. For files another library then opens (the
    /// store's SQLite database, whose journal files take the same mode).
    public static func create(_ path: String, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, mode)
        guard fd >= 0 else { throw TrustError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fchmod(fd, mode) == 0 else { throw TrustError("cannot chmod \(path): \(String(cString: strerror(errno)))") }
    }
}
