import ArgumentParser
import Foundation
import SchedCore

extension SchedCtl.Simulate {
    /// `schedctl simulate replay`: arrivals and departures on a fleet described in YAML.
    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replay a trace with arrivals and departures on a YAML fleet.")
        func run() throws { throw CLIError("not implemented yet") }
    }
}
