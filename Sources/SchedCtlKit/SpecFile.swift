import Foundation
import SchedProtocol

/// Reads and parses a job spec file for `submit` and `update` ('-' reads standard input).
enum SpecFile {
    static func read(_ file: String) throws -> JobSpec {
        let text: String
        if file == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
            text = String(decoding: data, as: UTF8.self)
        }
        do { return try JobSpecParser.parse(yaml: text, source: file == "-" ? "<stdin>" : file) } catch { throw CLIError(error.description) }
    }
}
