import Foundation
import SchedProtocol

/// Reads and parses a job spec file for `submit` and `update` ('-' reads standard input).
enum SpecFile {
    static func read(_ file: String) throws -> JobSpec {
        let data: Data
        if file == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let d = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
            data = d
        }
        let source = file == "-" ? "<stdin>" : file
        let text = try utf8Text(Array(data), source: source)
        do { return try JobSpecParser.parse(yaml: text, source: source) } catch { throw CLIError(error.description) }
    }

    /// The file's text; invalid UTF-8 is an error naming where it is, never replaced by U+FFFD
    /// (which would change a command or an argument without saying so).
    static func utf8Text(_ bytes: [UInt8], source: String) throws -> String {
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        var parser = Unicode.UTF8.ForwardParser()
        var input = bytes.makeIterator()
        var offset = 0, line = 1
        while true {
            switch parser.parseScalar(from: &input) {
            case .valid(let encoded):
                if encoded.count == 1, encoded.first == UInt8(ascii: "\n") { line += 1 }
                offset += encoded.count
            case .error:
                throw CLIError("\(source):\(line): not valid UTF-8 (byte \(offset) of the file); a job spec must be UTF-8 text")
            case .emptyInput:
                throw CLIError("\(source): not valid UTF-8")
            }
        }
    }
}
