import AgentKit
import ArgumentParser

/// Entry point: the exec helper runs first, synchronously on the main thread, because CPU
/// affinity and memory policy are per thread and must be set on the thread that calls execvp.
@main
enum SchedAgentMain {
    static func main() async {
        if CommandLine.arguments.count > 1, CommandLine.arguments[1] == ExecHelper.verb {
            ExecHelper.run(Array(CommandLine.arguments.dropFirst(2)))
        }
        await SchedAgentCommand.main()
    }
}
