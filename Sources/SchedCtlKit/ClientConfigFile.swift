import Foundation
import SchedTrust
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where schedctl's config file lives and how it is read and written. It holds tokens, so like
/// ssh with a private key, schedctl refuses one that group or others may read or write, or that
/// belongs to another user; `schedctl login` writes it with mode 0600 (atomically), creating
/// missing directories with mode 0700.
public enum ClientConfigFile {
    /// `$XDG_CONFIG_HOME/sched/config.toml` (an absolute `XDG_CONFIG_HOME` only, as the XDG
    /// spec says), else `$HOME/.config/sched/config.toml`, else the account's home directory's.
    public static func defaultPath(environment env: [String: String]) -> String {
        if let xdg = env["XDG_CONFIG_HOME"], xdg.hasPrefix("/") { return xdg + "/sched/config.toml" }
        let home = env["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? accountHome() ?? "/"
        return (home.hasSuffix("/") ? home : home + "/") + ".config/sched/config.toml"
    }

    /// The config file to use: `--config`, then `SCHED_CONFIG`, then the default path; and
    /// whether it was named (a named file that does not exist is an error, the default is not).
    public static func path(flag: String?, environment env: [String: String]) -> (path: String, named: Bool) {
        if let flag { return (flag, true) }
        if let p = env["SCHED_CONFIG"], !p.isEmpty { return (p, true) }
        return (defaultPath(environment: env), false)
    }

    /// The parsed file; nil when it does not exist. With `checkMode` (every read but the one
    /// `login`/`logout` make before rewriting it with mode 0600) a file that group or others may
    /// read or write, or that another user owns, is refused.
    public static func load(_ path: String, checkMode: Bool = true) throws -> ClientConfig? {
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ENOENT { return nil }
            throw CLIError("cannot read the config file \(path): \(String(cString: strerror(errno)))")
        }
        if checkMode { try checkPrivate(path, st) }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw CLIError("cannot read the config file \(path) as UTF-8 text: \(error.localizedDescription)")
        }
        return try ClientConfig.parse(text, path: path)
    }

    /// Refuses a config file others may read or change (it holds tokens), as ssh does a private key.
    static func checkPrivate(_ path: String, _ st: stat) throws {
        let mode = st.st_mode & 0o777
        if mode & 0o077 != 0 {
            throw CLIError("the config file \(path) has mode \(octal(mode)): group or others may read or change it, and it holds tokens; "
                + "schedctl will not use it until `chmod 600 \(path)` (and replace a token others may have read)")
        }
        let me = geteuid()
        if st.st_uid != me, st.st_uid != 0 {
            throw CLIError("the config file \(path) belongs to uid \(st.st_uid), not to you (uid \(me)); schedctl will not use it")
        }
    }

    /// Writes `config` to `path`: atomically, mode 0600 from its first byte. Missing directories
    /// are created with mode 0700; with `privateDirectory` (the default location's `sched`
    /// directory, schedctl's own) an existing parent directory is set to 0700 too.
    public static func save(_ config: ClientConfig, to path: String, privateDirectory: Bool) throws {
        let dir = (path as NSString).deletingLastPathComponent
        try makeDirectories(dir.isEmpty ? "." : dir)
        if privateDirectory, !dir.isEmpty, chmod(dir, 0o700) != 0 {
            throw CLIError("cannot set mode 0700 on \(dir): \(String(cString: strerror(errno)))")
        }
        do {
            try SecretFile.write(config.rendered(), to: path, mode: SecretFile.secretMode)
        } catch {
            throw CLIError("cannot write the config file: \(error)")
        }
    }

    /// Creates `dir` and its missing parents, each with mode 0700 (whatever the umask).
    static func makeDirectories(_ dir: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw CLIError("\(dir) is not a directory") }
            return
        }
        let parent = (dir as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != dir { try makeDirectories(parent) }
        if mkdir(dir, 0o700) == 0 {
            _ = chmod(dir, 0o700)
        } else if errno != EEXIST {
            throw CLIError("cannot create the directory \(dir): \(String(cString: strerror(errno)))")
        }
    }

    static func octal(_ mode: mode_t) -> String {
        let s = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }

    static func accountHome() -> String? {
        guard let pw = getpwuid(geteuid()), let dir = pw.pointee.pw_dir else { return nil }
        return String(cString: dir)
    }
}
