import SchedControlPlane
import SchedCore
import SchedProtocol
import SchedTestSupport
import Testing

@Suite("ControlPlane: the node authorizer and node revocation")
struct NodeAuthorizerTests {
    func refusals(_ actions: [ControlAction], on link: LinkID) -> [ErrorReply] {
        actions.compactMap { if case .refuse(let l, let e) = $0, l == link { e } else { nil } }
    }

    func closes(_ actions: [ControlAction], _ link: LinkID) -> Bool {
        actions.contains { if case .closeLink(let l) = $0, l == link { true } else { false } }
    }

    func register(_ d: inout PlaneDriver, _ node: NodeID, link: LinkID, certifiedNode: NodeID?) -> [ControlAction] {
        var out = d.handle(.linkOpened(link, certifiedNode: certifiedNode))
        out += d.handle(.register(Register(node: node, topology: smallTopology(), emulated: true, tasks: []), link: link))
        return out
    }

    @Test("a connection with n1's certificate registers n1 only; another name is forbidden, counted, and registers nothing")
    func certificateBindsTheNode() {
        var d = PlaneDriver()
        let other = register(&d, "n2", link: 1, certifiedNode: "n1")
        let refused = refusals(other, on: 1)
        #expect(refused.map(\.code) == [.forbidden])
        #expect(refused.first?.message.contains("node certificate is for node n1") == true)
        #expect(d.plane.link(of: "n2") == nil && d.plane.nodeStates()["n2"] == nil)
        #expect(d.plane.forbiddenAgentLines == 1)
        let own = register(&d, "n1", link: 2, certifiedNode: "n1")
        #expect(refusals(own, on: 2).isEmpty)
        #expect(d.plane.link(of: "n1") == 2)
        #expect(d.read(.status)?.statusInfo?.forbiddenAgentLines == 1)
    }

    @Test("a heartbeat naming a node the certificate does not cover is forbidden; its own node's is fine")
    func heartbeatBound() {
        var d = PlaneDriver()
        _ = register(&d, "n1", link: 1, certifiedNode: "n1")
        let bad = d.handle(.heartbeat(Heartbeat(node: "n2", running: 0), link: 1))
        #expect(refusals(bad, on: 1).map(\.code) == [.forbidden])
        let good = d.handle(.heartbeat(Heartbeat(node: "n1", running: 0), link: 1))
        #expect(refusals(good, on: 1).isEmpty)
        #expect(d.plane.forbiddenAgentLines == 1)
    }

    @Test("a node connected with its certificate is taken over only with that certificate, not with the admin token or another node's")
    func noTakeoverWithoutTheCertificate() {
        var d = PlaneDriver()
        _ = register(&d, "n1", link: 1, certifiedNode: "n1")
        let byAdmin = register(&d, "n1", link: 2, certifiedNode: nil)
        #expect(refusals(byAdmin, on: 2).map(\.code) == [.forbidden])
        #expect(refusals(byAdmin, on: 2).first?.message.contains("connected with its node certificate") == true)
        #expect(!closes(byAdmin, 1))
        let byOther = register(&d, "n1", link: 3, certifiedNode: "n2")
        #expect(refusals(byOther, on: 3).map(\.code) == [.forbidden])
        #expect(d.plane.link(of: "n1") == 1)
        // The node itself, reconnecting: the new connection replaces the old one.
        let again = register(&d, "n1", link: 4, certifiedNode: "n1")
        #expect(refusals(again, on: 4).isEmpty)
        #expect(closes(again, 1))
        #expect(d.plane.link(of: "n1") == 4)
        // Once it is gone, the admin token may register the name (a cluster admin acts for any node).
        d.handle(.linkClosed(4, node: "n1"))
        #expect(refusals(register(&d, "n1", link: 5, certifiedNode: nil), on: 5).isEmpty)
        // And a node connected with the admin token is taken over by its certificate, or by the admin token again.
        #expect(refusals(register(&d, "n1", link: 6, certifiedNode: nil), on: 6).isEmpty)
        #expect(refusals(register(&d, "n1", link: 7, certifiedNode: "n1"), on: 7).isEmpty)
        #expect(d.plane.link(of: "n1") == 7)
        #expect(d.plane.forbiddenAgentLines == 2)
    }

    @Test("NODE_REVOKE closes every connection of the node, puts its jobs back in the queue, marks it down, and is audited")
    func revokeRequeues() {
        var d = PlaneDriver()
        _ = register(&d, "n1", link: 1, certifiedNode: "n1")
        d.settle(store: .works)
        let (_, job) = d.runningJob(on: "n1")
        // A second connection with n1's certificate, not registered yet, closes too.
        d.handle(.linkOpened(2, certifiedNode: "n1"))
        let before = d.mark
        let (id, out) = d.request(.revokeNode("n1", serials: ["0a"]))
        #expect(closes(out, 1) && closes(out, 2))
        #expect(d.plane.link(of: "n1") == nil)
        let settled = d.settle(store: .works)
        let reply = (out + settled).replies(to: id).first
        guard case .nodeRevoked(let r)? = reply else {
            Issue.record("no NODE_REVOKED: \(String(describing: reply))")
            return
        }
        #expect(r.node == "n1" && r.serials == ["0a"] && r.requeued == [job] && r.ended.isEmpty)
        // Stored as requeued (the next pass then says why it waits: no node is ready).
        let stored = d.commits(since: before).first?.jobs.first { $0.id == job }
        #expect(stored?.state == .pending && stored?.assignment == nil && stored?.reason == "requeued: node n1 was revoked")
        #expect(d.job(job)?.state == .pending)
        #expect(d.node("n1")?.status == .down)
        #expect(d.plane.nodeStates()["n1"]?.usedPUs.isEmpty == true)
        let audit = d.commitsAsked.flatMap(\.audit)
        #expect(audit.contains { $0.verb == "NODE_REVOKE" && $0.object == "node n1 (certificates 0a)" && $0.outcome == "ok" })
        // A registration still in flight on a closed connection registers nothing.
        let late = d.handle(.register(Register(node: "n1", topology: smallTopology(), emulated: true, tasks: []), link: 2))
        #expect(!refusals(late, on: 2).isEmpty)
        #expect(d.plane.link(of: "n1") == nil)
    }

    @Test("NODE_REVOKE: a job being cancelled ends cancelled instead of going back to the queue; unknown nodes are not found; viewers are forbidden")
    func revokeEdges() {
        var d = PlaneDriver()
        _ = register(&d, "n1", link: 1, certifiedNode: nil)
        d.settle(store: .works)
        let (_, job) = d.runningJob(on: "n1")
        _ = d.request(.cancel(job, stored: nil))
        d.settle(store: .works)
        let (id, out) = d.request(.revokeNode("n1", serials: []))
        let replies = (out + d.settle(store: .works)).replies(to: id)
        guard case .nodeRevoked(let r)? = replies.first else {
            Issue.record("no NODE_REVOKED: \(replies)")
            return
        }
        #expect(r.ended == [job] && r.requeued.isEmpty)
        #expect(d.job(job)?.state == .cancelled)
        #expect(d.read(.revokeNode("nowhere", serials: []))?.errorReply?.code == .notFound)
        let viewer = Principal(tokenID: "7", tenant: "t", role: .viewer)
        #expect(d.read(.revokeNode("n1", serials: []), as: viewer)?.errorReply?.code == .forbidden)
    }
}

extension Message {
    var statusInfo: SchedulerStatus? { if case .statusInfo(let s) = self { s } else { nil } }
}
