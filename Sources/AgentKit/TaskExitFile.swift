import Foundation
import SchedProtocol

/// How a task ended, as its shim records it in the task's directory: `exit N` or `signal N`,
/// and when the command never ran for a reason the shim knows (no such working directory for
/// the task's user, the switch to the user failed), a second line `error TEXT`. Written to a
/// temporary name and renamed, so a reader sees all of it or nothing.
enum TaskExitFile {
    static func write(_ exit: TaskExit, to path: String) {
        var text = exit.signal.map { "signal \($0)\n" } ?? "exit \(exit.exitCode ?? 0)\n"
        if let error = exit.error { text += "error " + error.replacingOccurrences(of: "\n", with: " ") + "\n" }
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)) else { return }
        _ = rename(temporary, path)
    }

    /// The recorded exit, nil when there is none (or it is not one the shim writes).
    static func read(_ path: String) -> TaskExit? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard let first = lines.first else { return nil }
        let parts = first.split(whereSeparator: \.isWhitespace)
        guard parts.count == 2, let n = Int32(parts[1]) else { return nil }
        var exit: TaskExit
        switch parts[0] {
        case "exit": exit = TaskExit(exitCode: n)
        case "signal": exit = TaskExit(signal: n)
        default: return nil
        }
        if lines.count > 1, lines[1].hasPrefix("error ") { exit.error = String(lines[1].dropFirst("error ".count)) }
        return exit
    }
}
