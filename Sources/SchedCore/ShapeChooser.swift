/// One way to run a task: the resources it needs and how fast it runs that way, relative to the
/// others (in thousandths: 1000 = the reference speed).
public struct TaskShape: Sendable, Codable, Hashable {
    public var resources: ResourceRequest
    public var speedMilli: Int
    public init(resources: ResourceRequest, speedMilli: Int = 1000) {
        self.resources = resources
        self.speedMilli = speedMilli
    }
}

/// Chooses among a task's alternative shapes (say 1 GPU at speed 1.0, or 16 aarch64 cores at
/// 0.4): the fastest shape that can be placed now wins; equal speeds go to the shape listed first.
/// Pure, like the placer it drives.
public enum ShapeChooser {
    /// The chosen shape's index and its decision, or nil with every shape's unplaceable decision.
    public static func choose(_ shapes: [TaskShape], placer: Placer, in snapshot: ClusterSnapshot)
        -> (index: Int, decision: PlacementDecision)? {
        let order = shapes.indices.sorted { (shapes[$1].speedMilli, $0) < (shapes[$0].speedMilli, $1) }
        for i in order {
            let d = placer.place(shapes[i].resources, in: snapshot)
            if case .placed = d { return (i, d) }
        }
        return nil
    }
}
