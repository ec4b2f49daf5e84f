import SchedControlPlane
import SchedCore
import SchedProtocol
import SchedTestSupport
import Testing

@Suite("ControlPlane: one connection serves one node")
struct AgentRegistrationTests {
    /// The ERR codes the plane refused `link` with among `actions`.
    func refusals(_ actions: [ControlAction], on link: LinkID) -> [ErrorReply] {
        actions.compactMap { if case .refuse(let l, let e) = $0, l == link { e } else { nil } }
    }

    @Test("a second REGISTER on a registered connection is refused with conflict, and the first node keeps its connection")
    func secondRegisterOnOneConnectionIsRefused() {
        var d = PlaneDriver()
        let (link, first) = d.register(node: "n1")
        #expect(refusals(first, on: link).isEmpty)
        #expect(d.plane.link(of: "n1") == link)

        let other = d.handle(.register(Register(node: "n2", topology: smallTopology(), emulated: true, tasks: []), link: link))
        let refused = refusals(other, on: link)
        #expect(refused.map(\.code) == [.conflict])
        #expect(refused.first?.message.contains("already serves node n1") == true)
        #expect(!other.contains { if case .send(_, .registered) = $0 { true } else { false } })
        #expect(d.plane.link(of: "n1") == link)
        #expect(d.plane.link(of: "n2") == nil)
        #expect(d.plane.nodeStates()["n2"] == nil)

        // The same node again on the same connection: refused too; a new connection replaces it.
        let again = d.handle(.register(Register(node: "n1", topology: smallTopology(), emulated: true, tasks: []), link: link))
        #expect(refusals(again, on: link).map(\.code) == [.conflict])
        let (newLink, replaced) = d.register(node: "n1")
        #expect(newLink != link)
        #expect(refusals(replaced, on: newLink).isEmpty)
        #expect(replaced.contains { if case .closeLink(let l) = $0, l == link { true } else { false } })
        #expect(d.plane.link(of: "n1") == newLink)
    }
}
