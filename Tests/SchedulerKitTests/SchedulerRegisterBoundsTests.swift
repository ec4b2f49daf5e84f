import SchedCore
import SchedProtocol
import SchedStore
import SchedulerKit
import Testing
import SchedTestSupport

/// REGISTER comes from a peer: numbers in it must not size what schedd allocates.
@Suite("Scheduler: bounds on registered topologies", .timeLimit(.minutes(1)))
struct SchedulerRegisterBoundsTests {
    @Test("a NUMA node OS index far beyond any real machine is refused, not used to size a lookup table")
    func registerWithHugeNUMAIndexIsMalformed() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var agent = await AgentConn(s, node: "n1")
        var topo = smallTopology()
        // 16 million: a per-index table for it is 128 MiB; a peer could as well send 2^40.
        let id = 1 << 24
        topo.numaNodes[0].id = id
        for c in topo.cores.indices { topo.cores[c].numa = id }
        let e = await expectReply(.malformed) { try await agent.register(topo) }
        #expect(e?.message.contains("NUMA") == true)
        #expect(await s.listNodes(topology: false).isEmpty)
    }
}
