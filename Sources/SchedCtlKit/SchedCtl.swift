import ArgumentParser
import SchedProtocol

/// `schedctl`: submit and inspect jobs, look at nodes, read the placement log; `login` saves where
/// schedd is and the credentials for it in the config file.
public struct SchedCtl: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "schedctl",
        abstract: "Talk to schedd: run and submit jobs, list and inspect them, manage nodes, read the placement log.",
        subcommands: [Run.self, Submit.self, Update.self, Jobs.self, Job.self, Nodes.self, Node.self, Cancel.self, Drain.self, Undrain.self,
                      Explain.self, Log.self, Status.self, Audit.self, Token.self, Login.self, Logout.self, Simulate.self])
    public init() {}
}
