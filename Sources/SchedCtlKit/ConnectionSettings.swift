import Foundation
import SchedClient
import SchedNet

/// What schedctl needs to reach schedd (its address, the CA its certificate must be signed by,
/// the token to present), each taken from the first source that gives it: flags, then the
/// environment, then the config file's context, then schedd's own files when this is its host.
/// The config file is read only when flags and environment leave something out.
public struct ConnectionSettings: Sendable, Equatable {
    /// Where one setting came from (named in errors; the precedence tests check it).
    public enum Source: Sendable, Equatable, CustomStringConvertible {
        /// A flag: `--scheduler`, `--ca`, `--token`, `--token-file`.
        case flag(String)
        /// An environment variable: `SCHED_SCHEDULER`, `SCHED_CA`, `SCHED_TOKEN`.
        case environment(String)
        /// A context of the config file.
        case configFile(path: String, context: String)
        /// schedd's state directory on this host (its `ca.pem`, `admin.token`) or its default address.
        case scheddHost(String)

        public var description: String {
            switch self {
            case .flag(let f): f
            case .environment(let v): "$" + v
            case .configFile(let path, let context): "\(path) (context \(context))"
            case .scheddHost(let what): what
            }
        }
    }

    /// The CA to trust: a PEM file, or PEM held inline in the config file.
    public enum CA: Sendable, Equatable {
        case file(String)
        case pem(String)
    }

    /// The flags a command was given (nil: not given).
    public struct Flags: Sendable {
        public var scheduler, ca, token, tokenFile, config, context: String?
        public init(scheduler: String? = nil, ca: String? = nil, token: String? = nil, tokenFile: String? = nil,
                    config: String? = nil, context: String? = nil) {
            (self.scheduler, self.ca, self.token, self.tokenFile, self.config, self.context) = (scheduler, ca, token, tokenFile, config, context)
        }
    }

    public var address: HostPort
    public var addressSource: Source
    public var ca: CA
    public var caSource: Source
    /// A secret: never printed.
    public var token: String
    public var tokenSource: Source

    /// schedd's default `--state-dir` and `--listen`: used on schedd's host when nothing else says.
    public static let scheddStateDir = "/var/lib/schedd"
    public static let scheddDefaultAddress = "127.0.0.1:7070"

    /// The settings from `flags`, `environment`, the config file and, when `stateDir/ca.pem`
    /// exists (this is schedd's host), schedd's own files. Throws when one is still missing,
    /// saying where each can come from.
    public static func resolve(_ flags: Flags, environment env: [String: String],
                               stateDir: String = scheddStateDir) throws -> ConnectionSettings {
        func envValue(_ k: String) -> String? { env[k].flatMap { $0.isEmpty ? nil : $0 } }
        var address: (String, Source)?
        if let s = flags.scheduler {
            address = (s, .flag("--scheduler"))
        } else if let s = envValue("SCHED_SCHEDULER") {
            address = (s, .environment("SCHED_SCHEDULER"))
        }
        var ca: (CA, Source)?
        if let f = flags.ca {
            ca = (.file(f), .flag("--ca"))
        } else if let f = envValue("SCHED_CA") {
            ca = (.file(f), .environment("SCHED_CA"))
        }
        var token: (String, Source)?
        if let t = flags.token {
            token = (t, .flag("--token"))
        } else if let f = flags.tokenFile {
            token = (try SchedEndpoint.readToken(file: f), .flag("--token-file"))
        } else if let t = envValue("SCHED_TOKEN") {
            token = (t, .environment("SCHED_TOKEN"))
        }

        let (path, named) = ClientConfigFile.path(flag: flags.config, environment: env)
        var configNote = "the config file is \(path)"
        if address == nil || ca == nil || token == nil {
            if let config = try ClientConfigFile.load(path) {
                if case let (name, c)? = try config.context(named: flags.context ?? envValue("SCHED_CONTEXT"), path: path) {
                    let source = Source.configFile(path: path, context: name)
                    let dir = (path as NSString).deletingLastPathComponent
                    func local(_ file: String) -> String { file.hasPrefix("/") || dir.isEmpty ? file : dir + "/" + file }
                    if address == nil, let s = c.scheduler { address = (s, source) }
                    if ca == nil {
                        if let pem = c.caPEM { ca = (.pem(pem), source) } else if let f = c.caFile { ca = (.file(local(f)), source) }
                    }
                    if token == nil {
                        if let t = c.token { token = (t, source) } else if let f = c.tokenFile { token = (try SchedEndpoint.readToken(file: local(f)), source) }
                    }
                    configNote = "the config file is \(path), context \(name)"
                } else {
                    configNote = "the config file \(path) has no context"
                }
            } else if named {
                throw CLIError("the config file \(path) does not exist; `schedctl login --config \(path) --scheduler HOST:PORT --ca FILE --token-file FILE` writes it")
            } else {
                configNote = "the config file \(path) does not exist (`schedctl login` writes it)"
            }
        }

        // schedd's host: its CA, its admin token where this user may read it, its default address.
        let localCA = stateDir + "/ca.pem", localToken = stateDir + "/admin.token"
        if FileManager.default.fileExists(atPath: localCA) {
            if ca == nil { ca = (.file(localCA), .scheddHost(localCA)) }
            if address == nil { address = (scheddDefaultAddress, .scheddHost("schedd's default address")) }
        }
        if token == nil, FileManager.default.isReadableFile(atPath: localToken), let t = try? SchedEndpoint.readToken(file: localToken) {
            token = (t, .scheddHost(localToken))
        }

        guard let address, let ca, let token else {
            var missing: [String] = []
            if address == nil { missing.append("  no scheduler address: --scheduler HOST:PORT, SCHED_SCHEDULER, or `scheduler` in the config file") }
            if ca == nil { missing.append("  no CA certificate: --ca FILE, SCHED_CA, or `ca-pem` in the config file") }
            if token == nil { missing.append("  no token: --token-file FILE, SCHED_TOKEN, or `token` in the config file") }
            throw CLIError("not enough to reach schedd:\n" + missing.joined(separator: "\n") + "\n"
                + "(\(configNote); `schedctl login --scheduler HOST:PORT --ca FILE --token-file FILE` checks and saves all three. "
                + "On schedd's host, \(localCA) and \(localToken) are used when readable, with \(scheddDefaultAddress).)")
        }
        guard let hp = HostPort(address.0) else {
            throw CLIError("the scheduler address must be HOST:PORT, got '\(address.0)' (from \(address.1))")
        }
        return ConnectionSettings(address: hp, addressSource: address.1, ca: ca.0, caSource: ca.1, token: token.0, tokenSource: token.1)
    }

    /// The endpoint to connect to: the CA read from its file, or from the config file's PEM.
    public func endpoint() throws -> SchedEndpoint {
        switch ca {
        case .file(let f): try SchedEndpoint(address: address, caFile: f, token: token)
        case .pem(let pem): try SchedEndpoint(address: address, caPEM: pem, caSource: caSource.description, token: token)
        }
    }
}
