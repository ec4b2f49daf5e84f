import Foundation
import TOMLKit

/// The config file's TOML: parsed with TOMLKit (syntax errors name the file and line), written
/// by hand so the file reads well (a header, one table per context, the CA as a multi-line string).
extension ClientConfig {
    static let contextKeys = ["scheduler", "ca-pem", "ca-file", "token", "token-file"]

    /// Parses a config file's text; every error names `path`, and the line where it can tell.
    public static func parse(_ text: String, path: String) throws -> ClientConfig {
        if let problem = TOMLPreCheck.firstProblem(in: text) {
            throw CLIError("\(path):\(problem.line): malformed TOML: \(problem.message)")
        }
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw CLIError("\(path):\(e.source.begin.line): malformed TOML: \(e.description)")
        }
        func fail(_ what: String, key: String) -> CLIError {
            CLIError("\(path)\(line(of: key, in: text).map { ":\($0)" } ?? ""): \(what)")
        }
        var config = ClientConfig()
        for key in root.keys {
            switch key {
            case "current-context":
                guard let s = root[key]?.string else { throw fail("current-context must be a string", key: key) }
                config.currentContext = s
            case "contexts":
                guard let table = root[key]?.table else { throw fail("contexts must be a table: [contexts.NAME]", key: key) }
                for name in table.keys {
                    guard let entry = table[name]?.table else { throw fail("contexts.\(name) must be a table", key: name) }
                    config.contexts[name] = try context(entry, name: name, fail: fail)
                }
            default:
                throw fail("unknown key '\(key)' (known: current-context, [contexts.NAME])", key: key)
            }
        }
        return config
    }

    static func context(_ t: TOMLTable, name: String, fail: (String, String) -> CLIError) throws -> ClientContext {
        var c = ClientContext()
        for key in t.keys {
            guard contextKeys.contains(key) else {
                throw fail("contexts.\(name): unknown key '\(key)' (known: \(contextKeys.joined(separator: ", ")))", key)
            }
            guard let value = t[key]?.string else { throw fail("contexts.\(name).\(key) must be a string", key) }
            switch key {
            case "scheduler": c.scheduler = value
            case "ca-pem": c.caPEM = value
            case "ca-file": c.caFile = value
            case "token": c.token = value
            default: c.tokenFile = value
            }
        }
        if c.caPEM != nil, c.caFile != nil { throw fail("contexts.\(name): give ca-pem or ca-file, not both", "ca-file") }
        if c.token != nil, c.tokenFile != nil { throw fail("contexts.\(name): give token or token-file, not both", "token-file") }
        return c
    }

    /// The first line (1-based) that sets `key` or opens a table named by it; nil when none does
    /// (TOMLKit tells positions only for syntax errors).
    static func line(of key: String, in text: String) -> Int? {
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let l = raw.drop { $0 == " " || $0 == "\t" }
            for form in [key, "\"\(key)\"", "'\(key)'"] where l.hasPrefix(form) {
                let rest = l.dropFirst(form.count).drop { $0 == " " || $0 == "\t" }
                if rest.first == "=" { return i + 1 }
            }
            if l.hasPrefix("["), l.contains(key) { return i + 1 }
        }
        return nil
    }

    /// The file's text: a header comment, `current-context`, then one `[contexts.NAME]` table per
    /// context (sorted by name), the CA as a multi-line literal string.
    public func rendered() -> String {
        var out = """
            # schedctl's client configuration, written by `schedctl login` (docs/operations.md).
            # It holds bearer tokens: keep it mode 0600; schedctl refuses it if group or others may read it.

            """
        if let currentContext { out += "\ncurrent-context = \(Self.quoted(currentContext))\n" }
        for name in contexts.keys.sorted() {
            let c = contexts[name]!
            out += "\n[contexts.\(Self.key(name))]\n"
            if let v = c.scheduler { out += "scheduler = \(Self.quoted(v))\n" }
            if let v = c.token { out += "token = \(Self.quoted(v))\n" }
            if let v = c.tokenFile { out += "token-file = \(Self.quoted(v))\n" }
            if let v = c.caFile { out += "ca-file = \(Self.quoted(v))\n" }
            if let v = c.caPEM { out += "ca-pem = \(Self.multiline(v))\n" }
        }
        return out
    }

    /// A bare key when TOML allows one, else a quoted key.
    static func key(_ k: String) -> String {
        let bare = !k.isEmpty && k.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
        return bare ? k : quoted(k)
    }

    /// A TOML basic string: `"`, `\` and control characters escaped.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 || u.value == 0x7F {
                    let hex = String(u.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    /// PEM as a multi-line literal string (`'''`, no escapes), which TOML allows while the text
    /// holds no `'''` and no control characters but line ends; otherwise a basic string.
    static func multiline(_ s: String) -> String {
        let text = s.replacingOccurrences(of: "\r\n", with: "\n")
        let plain = !text.contains("'''") && text.unicodeScalars.allSatisfy { $0 == "\n" || $0 == "\t" || ($0.value >= 0x20 && $0.value != 0x7F) }
        guard plain else { return quoted(s) }
        return "'''\n" + text + (text.hasSuffix("\n") ? "" : "\n") + "'''"
    }
}
