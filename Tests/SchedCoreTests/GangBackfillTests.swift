import SchedCore
import Testing
import SchedTestSupport

@Suite("Backfill for gangs")
struct GangBackfillTests {
    static func node(_ id: String) -> NodeState {
        TopologyFixture.node(id, TopologyFixture.make(numa: 1, coresPerNUMA: 4, threadsPerCore: 1))
    }
    static func task(_ node: NodeID, _ pus: [Int], end: Int64?) -> RunningTask {
        RunningTask(assignment: Assignment(node: node, pus: CPUSet(pus), numaNodes: NUMASet([0])), endMs: end)
    }
    static func snapshot(_ running: [RunningTask], nodes: [String] = ["n1", "n2", "n3"]) -> ClusterSnapshot {
        var ns = nodes.map { Self.node($0) }
        for r in running { ns[ns.firstIndex { $0.id == r.assignment.node }!].apply(r.assignment) }
        return ClusterSnapshot(nodes: ns)
    }

    @Test("a gang's reservation starts when enough tasks have ended for all its members, on the nodes they would use")
    func earliestStartForAllMembers() throws {
        // n1 frees at 5 s, n2 at 2 s, n3 never (no limit). A gang of 2 × 4 PUs can start at 5 s on n1 and n2.
        let running = [Self.task("n1", [0, 1, 2, 3], end: 5_000), Self.task("n2", [0, 1, 2, 3], end: 2_000),
                       Self.task("n3", [0, 1, 2, 3], end: nil)]
        let g = GangPlacer(placer: Placer())
        let r = try #require(Backfill.reservation(forGang: ResourceRequest(cpus: 4), count: 2, locality: nil, gangPlacer: g,
                                                  in: Self.snapshot(running), running: running, nowMs: 0))
        #expect(r == GangReservation(nodes: ["n1", "n2"], startMs: 5_000))
        // One member fits at 2 s already, but the gang only starts whole.
        let one = try #require(Backfill.reservation(forGang: ResourceRequest(cpus: 4), count: 1, locality: nil, gangPlacer: g,
                                                    in: Self.snapshot(running), running: running, nowMs: 0))
        #expect(one.startMs == 2_000)
        // Three members: n3 never frees, so never.
        #expect(Backfill.reservation(forGang: ResourceRequest(cpus: 4), count: 3, locality: nil, gangPlacer: g,
                                     in: Self.snapshot(running), running: running, nowMs: 0) == nil)
        // Fits now: reserved for now.
        #expect(Backfill.reservation(forGang: ResourceRequest(cpus: 2), count: 2, locality: nil, gangPlacer: g,
                                     in: Self.snapshot([]), running: [], nowMs: 7)?.startMs == 7)
    }

    @Test("only jobs whose time limit ends them before the start may use reserved nodes")
    func endsBefore() {
        #expect(Backfill.endsBefore(10_000, timeLimitMs: 10_000, nowMs: 0))
        #expect(!Backfill.endsBefore(10_000, timeLimitMs: 10_001, nowMs: 0))
        #expect(!Backfill.endsBefore(10_000, timeLimitMs: nil, nowMs: 0))
    }

    @Test("property: at the reserved start the whole gang fits, on the reserved nodes", arguments: 1...30)
    func reservationIsFeasible(seed: Int) throws {
        var rng = SplitMix64(seed: UInt64(seed))
        var running: [RunningTask] = []
        for n in ["n1", "n2", "n3"] {
            var pu = 0
            while pu < 4 {
                let width = min(4 - pu, 1 + Int(rng.next() % 3))
                let end: Int64? = rng.next() % 5 == 0 ? nil : Int64(1 + rng.next() % 20) * 1_000
                running.append(Self.task(NodeID(n), Array(pu..<(pu + width)), end: end))
                pu += width
            }
        }
        let count = 1 + Int(rng.next() % 3), cpus = 1 + Int(rng.next() % 4)
        let g = GangPlacer(placer: Placer())
        let snap = Self.snapshot(running)
        guard let r = Backfill.reservation(forGang: ResourceRequest(cpus: cpus), count: count, locality: nil, gangPlacer: g,
                                           in: snap, running: running, nowMs: 0) else { return }
        var at = snap
        for t in running where (t.endMs ?? .max) <= r.startMs {
            at.release(t.assignment, fromNodeAt: at.nodes.firstIndex { $0.id == t.assignment.node }!)
        }
        guard case .placed(let ds) = g.place(ResourceRequest(cpus: cpus), count: count, in: at, locality: nil) else {
            Issue.record("the gang does not fit at its reserved start")
            return
        }
        let used = Set(ds.compactMap { d -> NodeID? in if case .placed(let a, _, _) = d { a.node } else { nil } })
        #expect(used == r.nodes)
    }
}
