import Foundation
import HostTopology
import SchedProtocol

/// What the agent remembers on disk about a task it started (`task.json` in the task's
/// directory, removed once schedd acknowledged the exit), so that an agent restarted after a
/// crash can find its tasks again: still running under their shims, or ended meanwhile.
struct TaskRecord: Codable {
    var start: StartTask
    var binding: HostBinding
    /// The shim's pid: the task's process group and session leader.
    var pid: Int32
    /// The shim's start time in clock ticks since boot (`/proc/PID/stat`), so a reused pid is
    /// not taken for the task.
    var startTicks: UInt64?
    var stdoutPath: String
    var stderrPath: String
    /// The task's cgroup; nil when it has none (an agent without cgroups, or before them).
    var cgroup: TaskCgroup?

    static let fileName = "task.json"
    static let exitFileName = "exit"

    func save(in dir: String) throws {
        let data = try JSONEncoder().encode(self)
        let path = dir + "/" + Self.fileName
        // It holds the job's environment: for the agent's eyes only.
        guard FileManager.default.createFile(atPath: path + ".tmp", contents: data, attributes: [.posixPermissions: 0o600]),
              rename(path + ".tmp", path) == 0 else {
            throw LaunchError("cannot write \(path)")
        }
    }

    static func load(_ path: String) -> TaskRecord? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(TaskRecord.self, from: data)
    }
}

/// A process as `/proc/PID/stat` shows it.
enum ProcessProbe {
    /// The process's start time in clock ticks since boot; nil when it does not exist or is a
    /// zombie (ended, not yet reaped).
    static func startTicks(_ pid: Int32) -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // Fields after "(comm)": state is field 3, starttime field 22.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, fields[0] != "Z", fields[0] != "X" else { return nil }
        return UInt64(fields[19])
    }
}
