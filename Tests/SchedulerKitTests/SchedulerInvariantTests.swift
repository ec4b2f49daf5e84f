import SchedCore
import SchedProtocol
import SchedStore
@testable import SchedulerKit
import Testing
import SchedTestSupport

@Suite("Scheduler: invariants under random operations", .timeLimit(.minutes(1)))
struct SchedulerInvariantTests {
    /// After every step: active jobs never share a PU, stay inside their node, and the node
    /// accounting matches them; the store holds exactly the in-memory jobs; every START_TASK
    /// names a job that was just placed (never one already started).
    @Test(arguments: [1, 2, 3] as [UInt64])
    func randomOperationsKeepTheBooksStraight(seed: UInt64) async throws {
        let h = try Harness()
        defer { h.cleanup() }
        var rng = SplitMix64(seed: seed)
        let s = try h.makeScheduler()
        let topologies: [NodeID: NodeTopology] = [
            "a": smallTopology(cores: 2, threads: 2, memory: 4 * GiB),
            "b": smallTopology(cores: 4, threads: 2, memory: 16 * GiB),
            "c": smallTopology(cores: 1, threads: 2, memory: 2 * GiB),
        ]
        var agents: [NodeID: AgentConn] = [:]
        for (name, topo) in topologies.sorted(by: { $0.key < $1.key }) {
            agents[name] = try await AgentConn(s, node: name, registering: topo)
        }
        var startsSeen: [JobID: Int] = [:]
        var placements: [JobID: Int] = [:]   // times a job went pending/absent → starting

        for step in 0..<250 {
            let before = Dictionary(uniqueKeysWithValues: await s.listJobs(ListJobs()).map { ($0.id, $0) })
            let jobs = before.values.sorted { $0.id < $1.id }
            let roll = Int.random(in: 0..<100, using: &rng)
            switch roll {
            case 0..<35:
                _ = try await s.submit(spec(cpus: Int.random(in: 1...6, using: &rng),
                                            memory: Int64.random(in: 0...3, using: &rng) * GiB / 2))
            case 35..<55:
                if let j = jobs.filter({ $0.state == .starting }).randomElement(using: &rng), let n = j.node {
                    await agents[n]!.started(j.id)
                }
            case 55..<80:
                if let j = jobs.filter({ $0.state.isActive }).randomElement(using: &rng), let n = j.node {
                    let exits = [TaskExit(exitCode: 0), TaskExit(exitCode: 1), TaskExit(signal: 9)]
                    await agents[n]!.exited(j.id, exits.randomElement(using: &rng)!)
                }
            case 80..<90:
                if let j = jobs.filter({ !$0.state.isTerminal }).randomElement(using: &rng) {
                    _ = try await s.cancel(j.id)
                }
            default:
                let name = topologies.keys.sorted().randomElement(using: &rng)!
                if Bool.random(using: &rng) { _ = try await s.drain(name, reason: nil) } else { _ = try await s.undrain(name) }
            }

            // Lines sent: START_TASK only for jobs that were not already placed.
            for name in agents.keys.sorted() {
                for m in await agents[name]!.received() {
                    if let st = m.startTask {
                        startsSeen[st.ref.job, default: 0] += 1
                        #expect(st.assignment.node == name, "step \(step)")
                        #expect(before[st.ref.job].map { !$0.state.isActive } ?? true, "step \(step): START_TASK for active job \(st.ref.job)")
                    }
                }
            }
            let after = await s.listJobs(ListJobs())
            #expect(await s.cachedFleetIsCurrent(), "step \(step): the fleet passes use differs from a rebuild")
            for j in after where j.state.isActive && !(before[j.id]?.state.isActive ?? false) { placements[j.id, default: 0] += 1 }

            // Resource books.
            let nodes = await s.listNodes(topology: false)
            for n in nodes {
                let active = after.filter { $0.state.isActive && $0.node == n.name }
                var used = CPUSet()
                for j in active {
                    let a = try #require(j.assignment)
                    #expect(a.pus.count == j.spec.resources.cpus)
                    #expect(a.pus.isDisjoint(with: used), "step \(step): PUs shared on \(n.name)")
                    #expect(a.pus.isSubset(of: topologies[n.name]!.allPUs))
                    used.formUnion(a.pus)
                }
                #expect(n.cpusUsed == used.count, "step \(step) node \(n.name)")
                #expect(n.memoryUsedBytes == active.reduce(0) { $0 + ($1.assignment?.memoryBytes ?? 0) }, "step \(step)")
                #expect(n.runningJobs == active.count)
            }
            for j in after where !j.state.isTerminal {
                #expect((j.state == .pending) == (j.assignment == nil), "step \(step): job \(j.id) \(j.state)")
            }
            // Durable: the store says what memory says.
            let stored = try h.openStore().allJobs()
            #expect(stored == after.sorted { $0.id < $1.id }, "step \(step): store and memory differ")
        }
        #expect(startsSeen == placements)
        // The run exercised every outcome.
        let states = Set(await s.listJobs(ListJobs()).map(\.state))
        #expect(states.isSuperset(of: [.completed, .failed, .cancelled]), "\(states)")

        // A restarted scheduler loads the same jobs and the same resource use.
        let usedBefore = await s.listNodes(topology: false).map(\.cpusUsed)
        let jobsBefore = await s.listJobs(ListJobs())
        let s2 = try h.makeScheduler()
        #expect(await s2.listJobs(ListJobs()) == jobsBefore)
        #expect(await s2.listNodes(topology: false).map(\.cpusUsed) == usedBefore)
    }
}
