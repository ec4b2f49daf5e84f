import SchedCore
import Testing
import SchedTestSupport

@Suite("Preemption with gangs")
struct GangPreemptionTests {
    /// `count` nodes of 4 PUs (1 NUMA, no SMT), named n1, n2, ...
    static func fleet(_ count: Int) -> [NodeState] {
        (1...count).map { TopologyFixture.node("n\($0)", TopologyFixture.make(numa: 1, coresPerNUMA: 4, threadsPerCore: 1)) }
    }
    static func task(_ node: NodeID, _ pus: [Int]) -> Assignment { Assignment(node: node, pus: CPUSet(pus), numaNodes: NUMASet([0])) }
    static func candidate(_ id: Int64, _ a: Assignment, priority: Int = 0, elapsed: Int64, minRuntime: Int64 = 0,
                          gang: Int64? = nil) -> PreemptionCandidate {
        PreemptionCandidate(job: JobID(id), assignment: a, priority: priority, preemptible: true, elapsedMs: elapsed,
                            minRuntimeMs: minRuntime, gang: gang.map { JobID($0) })
    }
    /// Applies every candidate's assignment to the fleet.
    static func snapshot(_ nodes: [NodeState], _ running: [PreemptionCandidate]) -> ClusterSnapshot {
        var nodes = nodes
        for c in running { if let i = nodes.firstIndex(where: { $0.id == c.assignment.node }) { nodes[i].apply(c.assignment) } }
        return ClusterSnapshot(nodes: nodes)
    }

    @Test("a victim gang is stopped whole: all its members are victims and its lost work is theirs summed")
    func victimGangWhole() throws {
        // n1: gang 10 member (2 PUs, 1 s) + lone job 3 (2 PUs, 5 s); n2: gang 10's other member (2 PUs, 1 s).
        let running = [Self.candidate(10, Self.task("n1", [0, 1]), elapsed: 1_000, gang: 10),
                       Self.candidate(11, Self.task("n2", [0, 1]), elapsed: 1_000, gang: 10),
                       Self.candidate(3, Self.task("n1", [2, 3]), elapsed: 5_000)]
        let snap = Self.snapshot(Self.fleet(2), running)
        // 3 PUs on n1 or n2: on n2 the gang alone (2 s lost) frees 4 PUs; on n1 the gang (2 s) frees only 2 more.
        let plan = try #require(PreemptionPlanner.plan(ResourceRequest(cpus: 3), priority: 5, in: snap, running: running))
        #expect(plan.node == "n2")
        #expect(Set(plan.victims) == [JobID(10), JobID(11)])
        #expect(plan.lostWorkMs == 2_000)
    }

    @Test("a gang with one member younger than its minimum runtime is not stopped at all")
    func youngMemberKeepsTheGang() {
        let running = [Self.candidate(10, Self.task("n1", [0, 1, 2, 3]), elapsed: 100_000, minRuntime: 60_000, gang: 10),
                       Self.candidate(11, Self.task("n2", [0, 1, 2, 3]), elapsed: 10_000, minRuntime: 60_000, gang: 10)]
        let snap = Self.snapshot(Self.fleet(2), running)
        #expect(PreemptionPlanner.plan(ResourceRequest(cpus: 4), priority: 5, in: snap, running: running) == nil)
    }

    @Test("a waiting gang gets room for every member at once, losing the least work; never part of it")
    func gangPreemptorLeastWork() throws {
        // Three full nodes: n1 holds job 1 (9 s), n2 job 2 (1 s), n3 job 3 (2 s). A gang of 2 × 4 PUs
        // needs two nodes: stopping jobs 2 and 3 loses least (3 s).
        let running = [Self.candidate(1, Self.task("n1", [0, 1, 2, 3]), elapsed: 9_000),
                       Self.candidate(2, Self.task("n2", [0, 1, 2, 3]), elapsed: 1_000),
                       Self.candidate(3, Self.task("n3", [0, 1, 2, 3]), elapsed: 2_000)]
        let snap = Self.snapshot(Self.fleet(3), running)
        let g = GangPlacer(placer: Placer())
        let plan = try #require(PreemptionPlanner.planGang(ResourceRequest(cpus: 4), count: 2, locality: nil, gangPlacer: g,
                                                           priority: 5, in: snap, running: running))
        #expect(Set(plan.victims) == [JobID(2), JobID(3)])
        #expect(plan.lostWorkMs == 3_000)
        #expect(plan.assignments.count == 2)
        #expect(plan.nodes == ["n2", "n3"])
        // A gang of 4 cannot fit three nodes whatever is stopped: no plan, so nothing is stopped.
        #expect(PreemptionPlanner.planGang(ResourceRequest(cpus: 4), count: 4, locality: nil, gangPlacer: g,
                                           priority: 5, in: snap, running: running) == nil)
        // With job 3 protected (higher priority), the gang of 2 takes n2 and n1 instead.
        var protected = running
        protected[2].priority = 9
        let plan2 = try #require(PreemptionPlanner.planGang(ResourceRequest(cpus: 4), count: 2, locality: nil, gangPlacer: g,
                                                            priority: 5, in: snap, running: protected))
        #expect(Set(plan2.victims) == [JobID(1), JobID(2)])
    }

    @Test("units the gang does not need are not stopped")
    func unneededVictimsDropped() throws {
        // n1 is free but for job 1 (1 PU, 1 s); n2 is full with job 2 (4 PUs, 50 s). A gang of 2 × 3 PUs
        // fits n1 as is and needs n2 too: only job 2 goes, although job 1 loses less.
        let running = [Self.candidate(1, Self.task("n1", [0]), elapsed: 1_000),
                       Self.candidate(2, Self.task("n2", [0, 1, 2, 3]), elapsed: 50_000)]
        let snap = Self.snapshot(Self.fleet(2), running)
        let plan = try #require(PreemptionPlanner.planGang(ResourceRequest(cpus: 3), count: 2, locality: nil,
                                                           gangPlacer: GangPlacer(placer: Placer()), priority: 5, in: snap, running: running))
        #expect(plan.victims == [JobID(2)])
    }

    @Test("property: a gang plan always places every member on the fleet with its victims gone", arguments: 1...30)
    func planIsFeasible(seed: Int) {
        var rng = SplitMix64(seed: UInt64(seed))
        let nodes = Self.fleet(4)
        var running: [PreemptionCandidate] = []
        var id: Int64 = 1
        for n in nodes {
            var pu = 0
            while pu < 4 {
                let width = min(4 - pu, 1 + Int(rng.next() % 2))
                running.append(Self.candidate(id, Self.task(n.id, Array(pu..<(pu + width))), priority: Int(rng.next() % 3),
                                              elapsed: Int64(rng.next() % 100_000)))
                id += 1
                pu += width
            }
        }
        let snap = Self.snapshot(nodes, running)
        let count = 1 + Int(rng.next() % 3), cpus = 1 + Int(rng.next() % 4)
        let g = GangPlacer(placer: Placer())
        guard let plan = PreemptionPlanner.planGang(ResourceRequest(cpus: cpus), count: count, locality: nil, gangPlacer: g,
                                                    priority: 2, in: snap, running: running) else { return }
        var after = snap
        for c in running where plan.victims.contains(c.job) {
            #expect(c.priority < 2)
            let i = after.nodes.firstIndex { $0.id == c.assignment.node }!
            after.release(c.assignment, fromNodeAt: i)
        }
        for a in plan.assignments {
            let i = after.nodes.firstIndex { $0.id == a.node }!
            #expect(after.nodes[i].canApply(a))
            after.apply(a, toNodeAt: i)
        }
        #expect(plan.assignments.count == count)
    }
}
