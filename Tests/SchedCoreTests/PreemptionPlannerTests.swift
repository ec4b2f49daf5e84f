import SchedCore
import Testing
import SchedTestSupport

@Suite("Preemption planner")
struct PreemptionPlannerTests {
    /// One node of 8 PUs (1 NUMA, 8 cores, no SMT) with tasks of 2 PUs each at PUs 0-1, 2-3, 4-5, 6-7.
    static func fullNode() -> (ClusterSnapshot, [Assignment]) {
        var n = TopologyFixture.node("n1", TopologyFixture.make(numa: 1, coresPerNUMA: 8, threadsPerCore: 1))
        let assignments = (0..<4).map { i in Assignment(node: "n1", pus: CPUSet([2 * i, 2 * i + 1]), numaNodes: NUMASet([0])) }
        for a in assignments { n.apply(a) }
        return (ClusterSnapshot(nodes: [n]), assignments)
    }

    static func candidate(_ id: Int64, _ a: Assignment, priority: Int = 0, preemptible: Bool = true,
                          elapsed: Int64, minRuntime: Int64 = 0) -> PreemptionCandidate {
        PreemptionCandidate(job: JobID(id), assignment: a, priority: priority, preemptible: preemptible,
                            elapsedMs: elapsed, minRuntimeMs: minRuntime)
    }

    @Test("the victims are those that lose the least work")
    func leastWorkLost() throws {
        let (snap, a) = Self.fullNode()
        let running = [Self.candidate(1, a[0], elapsed: 50_000), Self.candidate(2, a[1], elapsed: 1_000),
                       Self.candidate(3, a[2], elapsed: 9_000), Self.candidate(4, a[3], elapsed: 400_000)]
        let plan = try #require(PreemptionPlanner.plan(ResourceRequest(cpus: 4), priority: 5, in: snap, running: running))
        #expect(plan.victims == [JobID(2), JobID(3)])
        #expect(plan.lostWorkMs == 10_000)
        #expect(plan.assignment.pus == CPUSet([2, 3, 4, 5]))
    }

    @Test("minimum runtime, priority and preemptible are respected")
    func protectedTasksAreNeverChosen() throws {
        let (snap, a) = Self.fullNode()
        let running = [Self.candidate(1, a[0], elapsed: 1_000, minRuntime: 60_000),   // too young
                       Self.candidate(2, a[1], priority: 5, elapsed: 1_000),          // same priority
                       Self.candidate(3, a[2], preemptible: false, elapsed: 1_000),   // not preemptible
                       Self.candidate(4, a[3], elapsed: 900_000)]
        let plan = try #require(PreemptionPlanner.plan(ResourceRequest(cpus: 2), priority: 5, in: snap, running: running))
        #expect(plan.victims == [JobID(4)])
        // Needing 4 PUs, only one evictable task (2 PUs) is not enough: no plan.
        #expect(PreemptionPlanner.plan(ResourceRequest(cpus: 4), priority: 5, in: snap, running: running) == nil)
    }

    @Test("among nodes, the one losing the least work wins")
    func bestNode() throws {
        var n1 = TopologyFixture.node("n1", TopologyFixture.make(numa: 1, coresPerNUMA: 2, threadsPerCore: 1))
        var n2 = TopologyFixture.node("n2", TopologyFixture.make(numa: 1, coresPerNUMA: 2, threadsPerCore: 1))
        let a1 = Assignment(node: "n1", pus: CPUSet([0, 1]), numaNodes: NUMASet([0]))
        let a2 = Assignment(node: "n2", pus: CPUSet([0, 1]), numaNodes: NUMASet([0]))
        n1.apply(a1)
        n2.apply(a2)
        let running = [Self.candidate(1, a1, elapsed: 30_000), Self.candidate(2, a2, elapsed: 20_000)]
        let plan = try #require(PreemptionPlanner.plan(ResourceRequest(cpus: 2), priority: 1,
                                                       in: ClusterSnapshot(nodes: [n1, n2]), running: running))
        #expect(plan.node == "n2" && plan.victims == [JobID(2)])
    }

    @Test("property: victims are always evictable, the plan fits, and the same input gives the same plan",
          arguments: 1...30)
    func neverCutsMinimumRuntime(seed: Int) {
        var rng = SplitMix64(seed: UInt64(seed))
        var nodes: [NodeState] = []
        var running: [PreemptionCandidate] = []
        var nextJob: Int64 = 1
        for n in 0..<3 {
            var node = TopologyFixture.node("n\(n)", TopologyFixture.make(numa: 2, coresPerNUMA: 4, threadsPerCore: 1))
            while true {
                let want = rng.int(in: 1...3)
                guard let a = CPUAllocator.pick(ResourceRequest(cpus: want), on: node) else { break }
                node.apply(a)
                running.append(PreemptionCandidate(job: JobID(nextJob), assignment: a, priority: rng.int(in: 0...3),
                                                   preemptible: rng.int(in: 0...3) > 0, elapsedMs: Int64(rng.int(in: 0...100)) * 1000,
                                                   minRuntimeMs: Int64(rng.int(in: 0...100)) * 1000))
                nextJob += 1
            }
            nodes.append(node)
        }
        let snap = ClusterSnapshot(nodes: nodes)
        let request = ResourceRequest(cpus: rng.int(in: 1...6))
        let priority = rng.int(in: 0...4)
        let plan = PreemptionPlanner.plan(request, priority: priority, in: snap, running: running)
        #expect(plan == PreemptionPlanner.plan(request, priority: priority, in: snap, running: running))
        guard let plan else { return }
        let byID = Dictionary(uniqueKeysWithValues: running.map { ($0.job, $0) })
        for v in plan.victims {
            let c = byID[v]!
            #expect(c.evictable(by: priority), "victim \(v) was not evictable")
            #expect(c.elapsedMs >= c.minRuntimeMs)
            #expect(c.assignment.node == plan.node)
        }
        var node = snap.nodes.first { $0.id == plan.node }!
        for v in plan.victims { node.release(byID[v]!.assignment) }
        #expect(node.canApply(plan.assignment))
    }
}
