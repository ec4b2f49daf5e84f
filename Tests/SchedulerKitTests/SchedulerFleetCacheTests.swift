import SchedCore
import SchedProtocol
@testable import SchedulerKit
import Testing
import SchedTestSupport

/// Passes reuse one `ClusterSnapshot` and update only the nodes written since the last pass;
/// after every kind of node change it must equal a snapshot built from scratch.
@Suite("Scheduler: the cached fleet follows every node change", .timeLimit(.minutes(1)))
struct SchedulerFleetCacheTests {
    @Test func cachedFleetFollowsPlacementsExitsDrainsOutagesAndReregistration() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        let a = try await AgentConn(s, node: "a", registering: smallTopology(cores: 2, threads: 1))
        let b = try await AgentConn(s, node: "b", registering: smallTopology(cores: 2, threads: 1))
        #expect(await s.cachedFleetIsCurrent())

        // Placements take PUs on both nodes.
        var placed: [JobInfo] = []
        for _ in 0..<4 { placed.append(try await s.submit(spec(cpus: 1))) }
        #expect(await s.listJobs(ListJobs()).filter { $0.state == .starting }.count == 4)
        #expect(await s.cachedFleetIsCurrent())
        let free = await s.snapshot().nodes.map(\.freePUCount)
        #expect(free == [0, 0])

        // An exit gives PUs back; the next pass places a waiting job there.
        let waiting = try await s.submit(spec(cpus: 1))
        #expect(try await s.job(waiting.id).state == .pending)
        let first = try await s.job(placed[0].id)
        await (first.node == "a" ? a : b).exited(first.id, TaskExit(exitCode: 0))
        #expect(try await s.job(waiting.id).state == .starting)
        #expect(await s.cachedFleetIsCurrent())

        // Drain and undrain change whether a node is schedulable.
        _ = try await s.drain("a", reason: "test")
        #expect(await s.cachedFleetIsCurrent())
        #expect(await s.snapshot().nodes.map(\.schedulable) == [false, true])
        _ = try await s.undrain("a")
        #expect(await s.cachedFleetIsCurrent())

        // A silent node goes down (its jobs fail and free its PUs), then registers again bigger.
        h.clock.advance(by: 10_000)
        try await b.heartbeat()
        await s.tick()
        #expect(await s.listNodes(topology: false).first { $0.name == "a" }?.status == .down)
        #expect(await s.cachedFleetIsCurrent())
        _ = try await AgentConn(s, node: "a", registering: smallTopology(cores: 8, threads: 1))
        #expect(await s.cachedFleetIsCurrent())
        #expect(await s.snapshot().nodes.first?.topology.puCount == 8)

        // A node that joins later is in the next pass.
        _ = try await AgentConn(s, node: "c", registering: smallTopology(cores: 4, threads: 1))
        #expect(await s.cachedFleetIsCurrent())
        #expect(await s.snapshot().nodes.map(\.id) == ["a", "b", "c"])
    }
}
