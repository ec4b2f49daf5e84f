import SchedCore
import Testing
import SchedTestSupport

@Suite("Backfill")
struct BackfillTests {
    static func node(_ id: String = "n1", cores: Int = 4) -> NodeState {
        TopologyFixture.node(id, TopologyFixture.make(numa: 1, coresPerNUMA: cores, threadsPerCore: 1))
    }
    static func task(_ node: NodeID, _ pus: [Int], end: Int64?) -> RunningTask {
        RunningTask(assignment: Assignment(node: node, pus: CPUSet(pus), numaNodes: NUMASet([0])), endMs: end)
    }

    @Test("the reservation starts when enough running tasks have reached their time limits")
    func earliestStart() throws {
        var n = Self.node()
        let running = [Self.task("n1", [0, 1], end: 5_000), Self.task("n1", [2], end: 2_000), Self.task("n1", [3], end: nil)]
        for r in running { n.apply(r.assignment) }
        let snap = ClusterSnapshot(nodes: [n])
        // 1 PU: free at 2 s (the earliest end); 3 PUs: at 5 s; 4 PUs: never (one task has no limit).
        #expect(Backfill.reservation(for: ResourceRequest(cpus: 1), in: snap, running: running, nowMs: 0) == Reservation(node: "n1", startMs: 2_000))
        #expect(Backfill.reservation(for: ResourceRequest(cpus: 3), in: snap, running: running, nowMs: 0) == Reservation(node: "n1", startMs: 5_000))
        #expect(Backfill.reservation(for: ResourceRequest(cpus: 4), in: snap, running: running, nowMs: 0) == nil)
        // A request that fits now is reserved for now.
        #expect(Backfill.reservation(for: ResourceRequest(cpus: 1), in: ClusterSnapshot(nodes: [Self.node()]), running: [], nowMs: 7) == Reservation(node: "n1", startMs: 7))
    }

    @Test("only jobs that end before the reserved start may use the reserved node")
    func respects() {
        let r = Reservation(node: "n1", startMs: 10_000)
        #expect(Backfill.respects(r, node: "n2", timeLimitMs: nil, nowMs: 0))
        #expect(Backfill.respects(r, node: "n1", timeLimitMs: 10_000, nowMs: 0))
        #expect(!Backfill.respects(r, node: "n1", timeLimitMs: 10_001, nowMs: 0))
        #expect(!Backfill.respects(r, node: "n1", timeLimitMs: nil, nowMs: 0))
    }

    @Test("property: a backfilled job never delays the reservation", arguments: 1...40)
    func backfillNeverDelays(seed: Int) {
        var rng = SplitMix64(seed: UInt64(seed))
        var nodes: [NodeState] = []
        var running: [RunningTask] = []
        for k in 0..<2 {
            var n = Self.node("n\(k)", cores: 8)
            for _ in 0..<rng.int(in: 1...5) {
                guard let a = CPUAllocator.pick(ResourceRequest(cpus: rng.int(in: 1...3)), on: n) else { break }
                n.apply(a)
                running.append(RunningTask(assignment: a, endMs: rng.int(in: 0...3) == 0 ? nil : Int64(rng.int(in: 1...100)) * 1000))
            }
            nodes.append(n)
        }
        var snap = ClusterSnapshot(nodes: nodes)
        let head = ResourceRequest(cpus: rng.int(in: 4...8))
        guard let r = Backfill.reservation(for: head, in: snap, running: running, nowMs: 0) else { return }
        // A later job that respects the reservation is placed where it fits...
        let limit: Int64? = rng.int(in: 0...2) == 0 ? nil : Int64(rng.int(in: 1...150)) * 1000
        let small = ResourceRequest(cpus: rng.int(in: 1...2))
        for (i, n) in snap.nodes.enumerated() {
            guard Backfill.respects(r, node: n.id, timeLimitMs: limit, nowMs: 0), let a = CPUAllocator.pick(small, on: n) else { continue }
            snap.apply(a, toNodeAt: i)
            running.append(RunningTask(assignment: a, endMs: limit))
            break
        }
        // ...and the head job's reservation is no later than before.
        let after = Backfill.reservation(for: head, in: snap, running: running, nowMs: 0)
        #expect(after != nil)
        if let after { #expect(after.startMs <= r.startMs) }
    }
}
