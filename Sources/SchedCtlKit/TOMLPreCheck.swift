/// Keeps from TOMLKit 0.6.0's toml++ the input it cannot take. Its parser asserts instead of
/// failing on some malformed input (an abort in a debug build, undefined behaviour with NDEBUG):
/// a table header whose `[` is not followed by a key (`[#`, `[.a]`, `[é`, `[` then a line
/// break), and some array values (`a = [}`), found by fuzzing it. The config file needs neither
/// arrays nor any value but strings, so its text is checked here first: every header names a key,
/// every value is a quoted string. A small lexer; what it lets through, toml++ parses or refuses
/// with an error of its own.
enum TOMLPreCheck {
    /// The first problem: its 1-based line and what is wrong; nil when the text may go to toml++.
    static func firstProblem(in text: String) -> (line: Int, message: String)? {
        enum State { case normal, comment, basic, literal, multiBasic, multiLiteral }
        let s = Array(text.unicodeScalars)
        var state = State.normal
        var line = 1
        var lineStart = true, inHeader = false, wantValue = false
        var i = s.first == "\u{FEFF}" ? 1 : 0   // toml++ skips a byte-order mark
        func at(_ j: Int) -> Unicode.Scalar? { j < s.count ? s[j] : nil }
        func isKeyStart(_ c: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "_" || c == "-"
                || c == "\"" || c == "'" || c == "]"
        }
        let header = "a table header must name a key: [NAME] or [\"NAME\"]"
        let value = "every value in this file is a string: put it in quotes"
        while i < s.count {
            let c = s[i]
            if c == "\n" { line += 1 }
            switch state {
            case .normal:
                if wantValue, c != " ", c != "\t" {
                    guard c == "\"" || c == "'" else { return (line - (c == "\n" ? 1 : 0), value) }
                    wantValue = false
                }
                switch c {
                case "\n":
                    lineStart = true
                    inHeader = false
                case " ", "\t", "\r": break
                case "#": state = .comment
                case "\"":
                    if at(i + 1) == "\"", at(i + 2) == "\"" { state = .multiBasic; i += 2 } else { state = .basic }
                    lineStart = false
                case "'":
                    if at(i + 1) == "'", at(i + 2) == "'" { state = .multiLiteral; i += 2 } else { state = .literal }
                    lineStart = false
                case "[" where lineStart:
                    var j = i + 1
                    while at(j) == " " || at(j) == "\t" { j += 1 }
                    if at(j) == "[" {
                        j += 1
                        while at(j) == " " || at(j) == "\t" { j += 1 }
                    }
                    if let next = at(j), !isKeyStart(next) { return (line, header) }
                    lineStart = false
                    inHeader = true
                case "=" where !inHeader:
                    wantValue = true
                    lineStart = false
                default: lineStart = false
                }
            case .comment:
                if c == "\n" {
                    state = .normal
                    lineStart = true
                    inHeader = false
                }
            case .basic:
                if c == "\\" {
                    i += 1
                } else if c == "\"" {
                    state = .normal
                } else if c == "\n" {
                    state = .normal
                    lineStart = true
                }
            case .literal:
                if c == "'" {
                    state = .normal
                } else if c == "\n" {
                    state = .normal
                    lineStart = true
                }
            case .multiBasic:
                if c == "\\" {
                    if at(i + 1) == "\n" { line += 1 }
                    i += 1
                } else if c == "\"", at(i + 1) == "\"", at(i + 2) == "\"" {
                    state = .normal
                    i += 2
                }
            case .multiLiteral:
                if c == "'", at(i + 1) == "'", at(i + 2) == "'" {
                    state = .normal
                    i += 2
                }
            }
            i += 1
        }
        return wantValue ? (line, value) : nil
    }
}
