import Foundation
import SchedTrust
import Testing
@testable import SchedCtlKit

/// Where schedctl's address, CA and token come from: flags, then the environment, then the
/// config file, then schedd's own files on its host. Each test has its own HOME and
/// XDG_CONFIG_HOME in a scratch directory, and a state directory that is not there unless it says.
@Suite("schedctl: flags, then environment, then the config file")
struct ConnectionSettingsTests {
    typealias Flags = ConnectionSettings.Flags

    let d: ScratchDir
    let env: [String: String]
    var configPath: String { d.path + "/xdg/sched/config.toml" }
    var noStateDir: String { d.path + "/no-state" }

    init() throws {
        d = try ScratchDir()
        env = ["HOME": d.path + "/home", "XDG_CONFIG_HOME": d.path + "/xdg"]
    }

    func writeConfig(_ contexts: [String: ClientContext], current: String? = nil) throws {
        try ClientConfigFile.save(ClientConfig(currentContext: current, contexts: contexts), to: configPath, privateDirectory: true)
    }

    func resolve(_ flags: Flags = Flags(), _ extra: [String: String] = [:], stateDir: String? = nil) throws -> ConnectionSettings {
        try ConnectionSettings.resolve(flags, environment: env.merging(extra) { $1 }, stateDir: stateDir ?? noStateDir)
    }

    @Test("the config file alone gives all three")
    func configAlone() throws {
        try writeConfig(["default": ClientContext(scheduler: "cfg-host:7001", caPEM: samplePEM, token: "sched_cfg")], current: "default")
        let s = try resolve()
        let fromFile = ConnectionSettings.Source.configFile(path: configPath, context: "default")
        #expect(s.address.description == "cfg-host:7001" && s.addressSource == fromFile)
        #expect(s.ca == .pem(samplePEM) && s.caSource == fromFile)
        #expect(s.token == "sched_cfg" && s.tokenSource == fromFile)
    }

    @Test("each setting on its own: a flag beats the environment, which beats the config file")
    func precedence() throws {
        try writeConfig(["default": ClientContext(scheduler: "cfg-host:7001", caPEM: samplePEM, token: "sched_cfg")])
        let tokenFile = try d.write("t", "sched_file\n")
        let s = try resolve(Flags(scheduler: "flag-host:7002", tokenFile: tokenFile),
                            ["SCHED_SCHEDULER": "env-host:7003", "SCHED_TOKEN": "sched_env"])
        #expect(s.address.description == "flag-host:7002" && s.addressSource == .flag("--scheduler"))
        #expect(s.ca == .pem(samplePEM) && s.caSource == .configFile(path: configPath, context: "default"))
        #expect(s.token == "sched_file" && s.tokenSource == .flag("--token-file"))

        let e = try resolve(Flags(), ["SCHED_SCHEDULER": "env-host:7003", "SCHED_CA": "/env/ca.pem", "SCHED_TOKEN": "sched_env"])
        #expect(e.address.description == "env-host:7003" && e.addressSource == .environment("SCHED_SCHEDULER"))
        #expect(e.ca == .file("/env/ca.pem") && e.caSource == .environment("SCHED_CA"))
        #expect(e.token == "sched_env" && e.tokenSource == .environment("SCHED_TOKEN"))

        let f = try resolve(Flags(ca: "/flag/ca.pem", token: "sched_flag"), ["SCHED_CA": "/env/ca.pem", "SCHED_TOKEN": "sched_env"])
        #expect(f.ca == .file("/flag/ca.pem") && f.token == "sched_flag" && f.tokenSource == .flag("--token"))
        #expect(f.addressSource == .configFile(path: configPath, context: "default"))
        // An empty variable counts as unset.
        let g = try resolve(Flags(), ["SCHED_TOKEN": "", "SCHED_SCHEDULER": ""])
        #expect(g.token == "sched_cfg" && g.address.description == "cfg-host:7001")
    }

    @Test("the config file is read only when flags and environment leave something out")
    func configReadOnlyWhenNeeded() throws {
        let broken = try d.write("broken.toml", "this is = = not toml", mode: 0o644)
        let all = ["SCHED_CONFIG": broken, "SCHED_SCHEDULER": "h:1", "SCHED_CA": "/ca.pem", "SCHED_TOKEN": "sched_t"]
        #expect(try resolve(Flags(), all).token == "sched_t")
        var some = all
        some["SCHED_TOKEN"] = nil
        #expect(failure { try resolve(Flags(), some) }.contains("broken.toml has mode 0644"))
        chmod(broken, 0o600)
        #expect(failure { try resolve(Flags(), some) }.hasPrefix("\(broken):1: malformed TOML"))
    }

    @Test("--config beats SCHED_CONFIG beats the default; a named file must exist")
    func whichFile() throws {
        try writeConfig(["default": ClientContext(scheduler: "default-file:1", caPEM: samplePEM, token: "sched_a")])
        let other = d.path + "/other.toml"
        try ClientConfigFile.save(ClientConfig(contexts: ["x": ClientContext(scheduler: "other-file:2", caPEM: samplePEM, token: "sched_b")]),
                                  to: other, privateDirectory: false)
        #expect(try resolve(Flags(), ["SCHED_CONFIG": other]).address.description == "other-file:2")
        #expect(try resolve(Flags(config: configPath), ["SCHED_CONFIG": other]).address.description == "default-file:1")
        let missing = d.path + "/missing.toml"
        #expect(failure { try resolve(Flags(config: missing)) }.contains("the config file \(missing) does not exist; `schedctl login --config \(missing)"))
        #expect(failure { try resolve(Flags(), ["SCHED_CONFIG": missing]) }.contains("\(missing) does not exist"))
    }

    @Test("--context beats SCHED_CONTEXT beats current-context")
    func contexts() throws {
        try writeConfig(["a": ClientContext(scheduler: "a:1", caPEM: samplePEM, token: "sched_a"),
                         "b": ClientContext(scheduler: "b:2", caPEM: samplePEM, token: "sched_b"),
                         "c": ClientContext(scheduler: "c:3", caPEM: samplePEM, token: "sched_c")], current: "a")
        #expect(try resolve().token == "sched_a")
        #expect(try resolve(Flags(), ["SCHED_CONTEXT": "b"]).token == "sched_b")
        let s = try resolve(Flags(context: "c"), ["SCHED_CONTEXT": "b"])
        #expect(s.token == "sched_c" && s.tokenSource == .configFile(path: configPath, context: "c"))
        #expect(failure { try resolve(Flags(context: "z")) }.contains("no context 'z' (contexts: a, b, c)"))
    }

    @Test("ca-file and token-file in the config file are relative to its directory")
    func filesInConfig() throws {
        try d.write("xdg/sched/token", "sched_from_file\n")
        try writeConfig(["default": ClientContext(scheduler: "h:1", caFile: "ca.pem", tokenFile: "token")])
        let s = try resolve()
        #expect(s.ca == .file(d.path + "/xdg/sched/ca.pem"))
        #expect(s.token == "sched_from_file")
    }

    @Test("with none of them, one error says what is missing and where each can come from")
    func nothing() throws {
        let e = failure { try resolve() }
        #expect(e.contains("no scheduler address: --scheduler HOST:PORT, SCHED_SCHEDULER, or `scheduler` in the config file"), "\(e)")
        #expect(e.contains("no CA certificate: --ca FILE, SCHED_CA, or `ca-pem` in the config file"))
        #expect(e.contains("no token: --token-file FILE, SCHED_TOKEN, or `token` in the config file"))
        #expect(e.contains("the config file \(configPath) does not exist (`schedctl login` writes it)"))
        #expect(e.contains("schedctl login --scheduler HOST:PORT --ca FILE --token-file FILE"))
        #expect(e.contains("\(noStateDir)/admin.token"))
        // Only what is missing is listed.
        let t = failure { try resolve(Flags(scheduler: "h:1", ca: "/ca.pem")) }
        #expect(t.contains("no token:") && !t.contains("no scheduler address") && !t.contains("no CA certificate"), "\(t)")
        try writeConfig(["default": ClientContext(scheduler: "h:1")])
        let c = failure { try resolve() }
        #expect(c.contains("the config file is \(configPath), context default") && c.contains("no token:") && !c.contains("no scheduler address"), "\(c)")
    }

    @Test("on schedd's host its ca.pem, admin.token and default address fill in what is missing")
    func scheddHost() throws {
        let state = d.path + "/state"
        try d.write("state/ca.pem", samplePEM, mode: 0o644)
        try d.write("state/admin.token", "sched_admin\n")
        let s = try resolve(stateDir: state)
        #expect(s.address.description == "127.0.0.1:7070" && s.ca == .file(state + "/ca.pem") && s.token == "sched_admin")
        #expect(s.tokenSource == .scheddHost(state + "/admin.token"))
        // The config file comes first.
        try writeConfig(["default": ClientContext(scheduler: "h:1", token: "sched_cfg")])
        let c = try resolve(stateDir: state)
        #expect(c.address.description == "h:1" && c.token == "sched_cfg" && c.caSource == .scheddHost(state + "/ca.pem"))
    }

    @Test("a bad address is named with where it came from")
    func badAddress() throws {
        #expect(failure { try resolve(Flags(ca: "/ca", token: "t"), ["SCHED_SCHEDULER": "nohost"]) }
            == "the scheduler address must be HOST:PORT, got 'nohost' (from $SCHED_SCHEDULER)")
    }

    @Test("the CA inline in the config file makes the endpoint; a broken one names the file and context")
    func endpointFromPEM() throws {
        let ca = try ClusterCA.generate()
        try writeConfig(["default": ClientContext(scheduler: "h:1", caPEM: try ca.certificatePEM, token: "sched_t")])
        let endpoint = try resolve().endpoint()
        #expect(endpoint.caFile == "\(configPath) (context default)" && endpoint.token == "sched_t")
        try writeConfig(["default": ClientContext(scheduler: "h:1", caPEM: samplePEM, token: "sched_t")])
        #expect(failure { try resolve().endpoint() }.hasPrefix("\(configPath) (context default): "))
    }
}
