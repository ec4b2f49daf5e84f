import Foundation
import Testing
@testable import SchedCtlKit

/// A scratch directory for one test, removed when the test's value goes away.
final class ScratchDir {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "schedctl-test-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `text` to `name` with `mode`; returns its path.
    @discardableResult
    func write(_ name: String, _ text: String, mode: mode_t = 0o600) throws -> String {
        let p = path + "/" + name
        try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: p, atomically: false, encoding: .utf8)
        chmod(p, mode)
        return p
    }

    func mode(_ name: String) -> mode_t? {
        var st = stat()
        return stat(path + "/" + name, &st) == 0 ? st.st_mode & 0o777 : nil
    }
}

/// The error `body` throws, as schedctl prints it; "no error" when it throws none.
func failure(_ body: () throws -> Any?) -> String {
    do {
        _ = try body()
        return "no error"
    } catch { return "\(error)" }
}

let samplePEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"

@Suite("schedctl's config file: TOML format, paths, modes")
struct ClientConfigTests {
    @Test("what login writes parses back to the same contexts, with the CA as a multi-line string")
    func roundTrip() throws {
        let config = ClientConfig(currentContext: "prod", contexts: [
            "prod": ClientContext(scheduler: "schedd-host:7070", caPEM: samplePEM, token: "sched_abc-_9"),
            "lab.2": ClientContext(scheduler: "[::1]:7070", caFile: "ca.pem", tokenFile: "/etc/sched/t\"ok\\en"),
        ])
        let text = config.rendered()
        #expect(text.contains("current-context = \"prod\""))
        #expect(text.contains("[contexts.prod]\nscheduler = \"schedd-host:7070\"\ntoken = \"sched_abc-_9\"\nca-pem = '''\n-----BEGIN CERTIFICATE-----\n"))
        #expect(text.contains("[contexts.\"lab.2\"]"))
        #expect(text.contains(#"token-file = "/etc/sched/t\"ok\\en""#))
        #expect(try ClientConfig.parse(text, path: "c.toml") == config)
    }

    @Test("a hand-written file: keys in any order, comments, literal strings")
    func handWritten() throws {
        let text = """
            # mine
            [contexts.a]
            token = 'sched_x'   # the token
            scheduler = "h:1"
            ca-file = "ca.pem"

            [contexts.b]
            scheduler = "h:2"
            """
        let c = try ClientConfig.parse(text, path: "c.toml")
        #expect(c.currentContext == nil)
        #expect(c.contexts == ["a": ClientContext(scheduler: "h:1", caFile: "ca.pem", token: "sched_x"),
                               "b": ClientContext(scheduler: "h:2")])
    }

    @Test("malformed TOML names the file and the line")
    func malformed() {
        let text = "current-context = \"a\"\n\n[contexts.a]\nscheduler = = \"h:1\"\n"
        #expect(failure { try ClientConfig.parse(text, path: "/x/config.toml") }.hasPrefix("/x/config.toml:4: malformed TOML"))
        #expect(failure { try ClientConfig.parse("token = \"unterminated\n", path: "/x/config.toml") }.hasPrefix("/x/config.toml:1: malformed TOML"))
    }

    @Test("unknown keys, wrong types and doubled sources are refused, naming the file, line and key")
    func semanticErrors() {
        func error(_ text: String) -> String { failure { try ClientConfig.parse(text, path: "c.toml") } }
        #expect(error("[contexts.a]\nscheduler = \"h:1\"\nschedulr = \"h:2\"\n").hasPrefix("c.toml:3: contexts.a: unknown key 'schedulr'"))
        #expect(error("[contexts.a]\nscheduler = 7070\n") == "c.toml:2: malformed TOML: every value in this file is a string: put it in quotes")
        #expect(error("server = \"x\"\n").hasPrefix("c.toml:1: unknown key 'server'"))
        #expect(error("contexts = \"x\"\n").hasPrefix("c.toml:1: contexts must be a table"))
        #expect(error("[contexts]\na = \"x\"\n") == "c.toml:2: contexts.a must be a table")
        #expect(error("[contexts.a]\ntoken = \"t\"\ntoken-file = \"f\"\n") == "c.toml:3: contexts.a: give token or token-file, not both")
    }

    @Test("input TOMLKit's toml++ asserts on is refused before it gets there: headers without a key, values that are not strings")
    func preCheck() {
        func problem(_ text: String) -> String? { TOMLPreCheck.firstProblem(in: text).map { "\($0.line): \($0.message)" } }
        let header = "a table header must name a key: [NAME] or [\"NAME\"]"
        let value = "every value in this file is a string: put it in quotes"
        // Each of these aborted schedctl (toml++'s parse_table_header and parse_value assertions).
        #expect(problem("a = \"x\"\n[é]\n") == "2: " + header)
        #expect(problem("[\n") == "1: " + header)
        #expect(problem("[#]") == "1: " + header)
        #expect(problem("\u{FEFF}[.a]") == "1: " + header)
        #expect(problem("  [[ =]]") == "1: " + header)
        #expect(problem("a = [}") == "1: " + value)
        #expect(problem("x = \"1\"\nb =\n") == "2: " + value)
        #expect(problem("b = 1") == "1: " + value)
        #expect(problem("b = { c = \"x\" }") == "1: " + value)
        // What the file may hold passes: keys, quoted keys, comments, strings with brackets and
        // equals signs in them, multi-line strings whose lines start with '['.
        let rendered = ClientConfig(currentContext: "a", contexts: ["a": ClientContext(scheduler: "h:1", caPEM: samplePEM, token: "t")]).rendered()
        #expect(problem(rendered) == nil)
        let tricky = #"""
            # [é
            [contexts."é x"]  # =
            k = 'a = [#' # b = 1
            m = '''
            [#
            c = 1
            '''
            n = """
            [\""""
            [ contexts . a ]
            [[t]]

            """#
        #expect(problem(tricky) == nil)
        #expect(problem("[]") == nil && problem("[") == nil, "toml++ refuses these itself")
    }

    @Test("choosing the context: named, else current-context, else the only one")
    func contextChoice() throws {
        let one = ClientConfig(contexts: ["x": ClientContext(scheduler: "h:1")])
        #expect(try one.context(named: nil, path: "c")?.name == "x")
        let two = ClientConfig(currentContext: "y", contexts: ["x": ClientContext(), "y": ClientContext(scheduler: "h:2")])
        #expect(try two.context(named: nil, path: "c")?.context.scheduler == "h:2")
        #expect(try two.context(named: "x", path: "c")?.name == "x")
        #expect(try ClientConfig().context(named: nil, path: "c") == nil)
        #expect(failure { try two.context(named: "z", path: "c") } == "c: no context 'z' (contexts: x, y); `schedctl login --context z` writes it")
        var noCurrent = two
        noCurrent.currentContext = nil
        #expect(failure { try noCurrent.context(named: nil, path: "c") }.contains("2 contexts and no current-context: pass --context NAME"))
    }

    @Test("the default path: $XDG_CONFIG_HOME (absolute only), else $HOME/.config; --config, then SCHED_CONFIG, name another")
    func paths() {
        #expect(ClientConfigFile.defaultPath(environment: ["XDG_CONFIG_HOME": "/x", "HOME": "/h"]) == "/x/sched/config.toml")
        #expect(ClientConfigFile.defaultPath(environment: ["XDG_CONFIG_HOME": "rel", "HOME": "/h"]) == "/h/.config/sched/config.toml")
        #expect(ClientConfigFile.defaultPath(environment: ["HOME": "/h/"]) == "/h/.config/sched/config.toml")
        func path(_ flag: String?, _ env: [String: String]) -> String {
            let (p, named) = ClientConfigFile.path(flag: flag, environment: env)
            return named ? "named " + p : p
        }
        #expect(path("/f", ["SCHED_CONFIG": "/e", "HOME": "/h"]) == "named /f")
        #expect(path(nil, ["SCHED_CONFIG": "/e", "HOME": "/h"]) == "named /e")
        #expect(path(nil, ["SCHED_CONFIG": "", "HOME": "/h"]) == "/h/.config/sched/config.toml")
    }

    @Test("save writes mode 0600 in new directories of mode 0700, whatever the umask; load reads it back")
    func saveModes() throws {
        let d = try ScratchDir()
        let old = umask(0)
        defer { umask(old) }
        let path = d.path + "/xdg/sched/config.toml"
        let config = ClientConfig(currentContext: "default", contexts: ["default": ClientContext(scheduler: "h:1", caPEM: samplePEM, token: "sched_t")])
        try ClientConfigFile.save(config, to: path, privateDirectory: true)
        #expect(d.mode("xdg/sched/config.toml") == 0o600)
        #expect(d.mode("xdg/sched") == 0o700)
        #expect(d.mode("xdg") == 0o700)
        #expect(try ClientConfigFile.load(path) == config)
        // An existing directory is left as it is unless it is schedctl's own.
        let other = d.path + "/shared"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: false)
        chmod(other, 0o755)
        try ClientConfigFile.save(config, to: other + "/config.toml", privateDirectory: false)
        #expect(d.mode("shared") == 0o755 && d.mode("shared/config.toml") == 0o600)
        chmod(other, 0o755)
        try ClientConfigFile.save(config, to: other + "/config.toml", privateDirectory: true)
        #expect(d.mode("shared") == 0o700)
    }

    @Test("a config file group or others may read or write is refused, naming the file, its mode and the fix")
    func refusesOpenModes() throws {
        let d = try ScratchDir()
        let text = "[contexts.a]\ntoken = \"sched_t\"\n"
        for mode: mode_t in [0o644, 0o640, 0o604, 0o620, 0o602] {
            let p = try d.write("c.toml", text, mode: mode)
            let e = failure { try ClientConfigFile.load(p) }
            #expect(e.contains("\(p) has mode 0\(String(mode, radix: 8))") && e.contains("chmod 600 \(p)"), "\(e)")
            // login and logout rewrite it with 0600, so they may read it.
            #expect(try ClientConfigFile.load(p, checkMode: false)?.contexts["a"]?.token == "sched_t")
        }
        for mode: mode_t in [0o600, 0o400] {
            let p = try d.write("c.toml", text, mode: mode)
            #expect(try ClientConfigFile.load(p)?.contexts["a"]?.token == "sched_t")
        }
        #expect(try ClientConfigFile.load(d.path + "/none.toml") == nil)
    }
}
