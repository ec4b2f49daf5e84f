import HostTopology
import SchedCore

/// Who a task runs as on this node. An agent running as root switches every task to the user
/// its `START_TASK` names (`nobody` when it names none; `root` only when it says `root`); an
/// agent that is not root cannot switch, and runs every task as itself.
enum TaskUser: Equatable, Sendable {
    /// The task switches to this user (its primary group and supplementary groups too).
    case switchTo(UnixUser)
    /// The task runs as the agent's own uid.
    case agent(uid: UInt32)

    /// The user of a task with no `user` in its `START_TASK`.
    static let defaultUser = "nobody"

    /// The uid the task's command runs as.
    var uid: UInt32 {
        switch self {
        case .switchTo(let u): return u.uid
        case .agent(let uid): return uid
        }
    }

    /// Decides for `requested` (`StartTask.user`) on `node`, an agent with effective uid
    /// `agentUID`; `lookup` reads the account database. The failure is the task's exit reason.
    static func resolve(requested: String?, agentUID: UInt32, node: NodeID,
                        lookup: (String) -> UnixUser?) -> Result<TaskUser, UnknownUser> {
        guard agentUID == 0 else { return .success(.agent(uid: agentUID)) }
        let name = requested ?? defaultUser
        guard let user = lookup(name) else { return .failure(UnknownUser(name: name, node: node)) }
        return .success(.switchTo(user))
    }

    /// A `START_TASK` for a user this node does not know.
    struct UnknownUser: Error, Equatable, CustomStringConvertible {
        var name: String
        var node: NodeID
        var description: String { "no such user \(name) on node \(node)" }
    }
}
