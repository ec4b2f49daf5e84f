import Foundation
import SchedProtocol

/// How a task ended, as its shim records it in the task's directory: one line, `exit N` or
/// `signal N`, written to a temporary name and renamed, so a reader sees all of it or nothing.
enum TaskExitFile {
    static func write(_ exit: TaskExit, to path: String) {
        let text = exit.signal.map { "signal \($0)\n" } ?? "exit \(exit.exitCode ?? 0)\n"
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)) else { return }
        _ = rename(temporary, path)
    }

    /// The recorded exit, nil when there is none (or it is not one the shim writes).
    static func read(_ path: String) -> TaskExit? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let parts = text.split(whereSeparator: \.isWhitespace)
        guard parts.count == 2, let n = Int32(parts[1]) else { return nil }
        switch parts[0] {
        case "exit": return TaskExit(exitCode: n)
        case "signal": return TaskExit(signal: n)
        default: return nil
        }
    }
}
