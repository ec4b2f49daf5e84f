import Foundation
@testable import AgentKit
import HostTopology
import SchedCore
import SchedProtocol
import Testing

/// Who a task runs as, decided from its START_TASK and the agent's own uid; and the exit file
/// the shim leaves, with the reason when the command never ran.
@Suite("Task users and exit files")
struct TaskUserTests {
    static let alice = UnixUser(name: "alice", uid: 1001, gid: 1001, groups: [1001, 27], home: "/home/alice", shell: "/bin/bash")
    static let nobody = UnixUser(name: "nobody", uid: 65534, gid: 65534, groups: [65534], home: "/nonexistent", shell: "/usr/sbin/nologin")
    static let root = UnixUser(name: "root", uid: 0, gid: 0, groups: [0], home: "/root", shell: "/bin/sh")
    static func lookup(_ name: String) -> UnixUser? { [alice, nobody, root].first { $0.name == name } }

    @Test("a root agent switches to the named user, to nobody when none is named, to root only when named")
    func rootAgent() throws {
        let node = NodeID("gpu-01")
        #expect(try TaskUser.resolve(requested: "alice", agentUID: 0, node: node, lookup: Self.lookup).get() == .switchTo(Self.alice))
        #expect(try TaskUser.resolve(requested: nil, agentUID: 0, node: node, lookup: Self.lookup).get() == .switchTo(Self.nobody))
        #expect(try TaskUser.resolve(requested: "root", agentUID: 0, node: node, lookup: Self.lookup).get() == .switchTo(Self.root))
        #expect(TaskUser.resolve(requested: "alice", agentUID: 0, node: node, lookup: Self.lookup).map(\.uid) == .success(1001))
    }

    @Test("an unknown user fails the task with a reason naming the user and the node")
    func unknownUser() {
        let r = TaskUser.resolve(requested: "mallory", agentUID: 0, node: NodeID("gpu-01"), lookup: Self.lookup)
        #expect(r == .failure(.init(name: "mallory", node: NodeID("gpu-01"))))
        if case .failure(let e) = r { #expect(e.description == "no such user mallory on node gpu-01") }
        // No nobody on the node: the default user is unknown too.
        let none = TaskUser.resolve(requested: nil, agentUID: 0, node: NodeID("n"), lookup: { _ in nil })
        if case .failure(let e) = none { #expect(e.description == "no such user nobody on node n") } else { Issue.record("\(none)") }
    }

    @Test("an agent that is not root runs every task as itself, whatever the START_TASK names")
    func unprivilegedAgent() throws {
        for requested in ["alice", "root", "mallory", nil] as [String?] {
            #expect(try TaskUser.resolve(requested: requested, agentUID: 1500, node: NodeID("n"), lookup: Self.lookup).get() == .agent(uid: 1500))
        }
    }

    @Test("exit files: exit and signal lines, the error line beside them, and files from before the error line")
    func exitFiles() throws {
        let dir = NSTemporaryDirectory() + "exitfile-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/exit"
        for exit in [TaskExit(exitCode: 0), TaskExit(signal: 9), TaskExit(exitCode: 126, error: "cannot change to working directory /root as user nobody (uid 65534): Permission denied")] {
            TaskExitFile.write(exit, to: path)
            #expect(TaskExitFile.read(path) == exit)
        }
        TaskExitFile.write(TaskExit(exitCode: 125, error: "two\nlines"), to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "exit 125\nerror two lines\n")
        try "exit 4\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(TaskExitFile.read(path) == TaskExit(exitCode: 4))
    }
}
