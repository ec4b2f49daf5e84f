import SchedControlPlane
import SchedCore
import SchedProtocol

/// The kinds of fault `sched-bench chaos --faults` can inject.
public struct FaultSet: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// schedd crashes, losing everything not committed, and restarts from the store.
    public static let scheddCrash = FaultSet(rawValue: 1 << 0)
    /// Agents crash and restart, with or without their tasks surviving.
    public static let agentCrash = FaultSet(rawValue: 1 << 1)
    /// Agent messages delayed, duplicated and reordered; connections reset (what TCP loses).
    public static let network = FaultSet(rawValue: 1 << 2)
    /// A node cut off from schedd both ways for a while, then healed.
    public static let partition = FaultSet(rawValue: 1 << 3)
    /// Store commits and inserts that fail or stall.
    public static let store = FaultSet(rawValue: 1 << 4)
    /// Wall-clock jumps and timers that fire late.
    public static let clock = FaultSet(rawValue: 1 << 5)

    public static let all: FaultSet = [.scheddCrash, .agentCrash, .network, .partition, .store, .clock]
    public static let names: [(String, FaultSet)] = [("schedd-crash", .scheddCrash), ("agent-crash", .agentCrash),
                                                     ("network", .network), ("partition", .partition),
                                                     ("store", .store), ("clock", .clock)]

    /// `schedd-crash,network` (or `all`, or `none`).
    public init?(list: String) {
        var set: FaultSet = []
        for part in list.split(separator: ",").map({ $0.trimmingCharacters() }) where !part.isEmpty {
            if part == "all" { set.formUnion(.all); continue }
            if part == "none" { continue }
            guard let f = Self.names.first(where: { $0.0 == part })?.1 else { return nil }
            set.insert(f)
        }
        self = set
    }
}

extension Substring {
    func trimmingCharacters() -> String {
        String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

/// One simulation run's settings.
public struct ChaosConfig: Sendable {
    public var seed: UInt64
    /// World events in the fault phase; a quiet phase follows (see `quietLimitMs`).
    public var steps: Int
    public var faults: FaultSet = .all
    public var bugs = PlantedBugs()
    public var gpuTrays = 8
    public var armNodes = 8
    /// Simulated time the quiet phase may take before liveness is a violation.
    public var quietLimitMs: Int64 = 600_000
    /// World events kept for a violation's trace.
    public var traceLength = 40
    public init(seed: UInt64, steps: Int) {
        self.seed = seed
        self.steps = steps
    }
}

/// A broken invariant: which, when, and what was seen.
public struct Violation: Sendable, CustomStringConvertible {
    public var invariant: String
    public var step: Int
    public var simulatedMs: Int64
    public var detail: String
    /// The world events up to the violation, oldest first.
    public var trace: [String]
    public var description: String { "step \(step) (t=\(simulatedMs) ms): \(invariant): \(detail)" }
}

/// What one run did and found.
public struct ChaosResult: Sendable {
    public var seed: UInt64
    /// World events processed (fault and quiet phase).
    public var steps = 0
    /// Events handled by the control plane.
    public var events = 0
    public var violation: Violation?
    public var simulatedMs: Int64 = 0
    public var jobsAcknowledged = 0
    public var jobsFinished = 0
    public var scheddCrashes = 0
    public var agentCrashes = 0
    public var commitsFailed = 0
    /// START_TASKs an agent refused because a task it still ran held the PUs (see docs).
    public var refusedOverlap = 0
}
