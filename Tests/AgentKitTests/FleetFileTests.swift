import AgentKit
import Testing

@Suite("Fleet files")
struct FleetFileTests {
    @Test("kinds, counts, names, NVLink domains and labels")
    func parses() throws {
        let f = try FleetFile(yaml: """
            kinds:
              - name: vr
                count: 20
                builtin: vera-rubin-tray
                nvlink-domain-size: 18
              - name: gv
                count: 3
                xml: topo/gv.xml
                labels: {pool: inference}
            """, baseDirectory: "/etc/sched")
        #expect(f.nodeCount == 23)
        #expect(f.kinds[0].source == .builtin(.veraRubinTray))
        #expect(f.kinds[1].source == .xml("/etc/sched/topo/gv.xml"))
        let nodes = f.nodes()
        #expect(nodes.count == 23)
        #expect(nodes[0].name == "vr-00000")
        #expect(nodes[0].labels["nvlink.domain"] == "vr-rack-0000")
        #expect(nodes[17].labels["nvlink.domain"] == "vr-rack-0000")
        #expect(nodes[18].labels["nvlink.domain"] == "vr-rack-0001")
        #expect(nodes[20].name == "gv-00000")
        #expect(nodes[20].labels == ["pool": "inference"])
        #expect(Set(nodes.map(\.name)).count == 23)
    }

    @Test("bad fleet files are refused with the field at fault", arguments: [
        ("kinds: []", "kinds:"),
        ("kinds:\n  - name: a\n    count: 0\n    builtin: graviton-192", "kinds[0].count"),
        ("kinds:\n  - name: a\n    count: 2\n    builtin: nope", "kinds[0].builtin: unknown 'nope'"),
        ("kinds:\n  - name: a\n    count: 2", "kinds[0]: give exactly one of"),
        ("kinds:\n  - name: a\n    count: 2\n    builtin: graviton-192\n    colour: red", "unknown field 'colour'"),
        ("kinds:\n  - name: a\n    count: 1\n    builtin: graviton-192\n  - name: a\n    count: 1\n    builtin: graviton-192", "kinds[1].name: 'a' used twice"),
        ("kinds:\n  - name: a b\n    count: 1\n    builtin: graviton-192", "kinds[0].name"),
    ])
    func refuses(_ yaml: String, _ expected: String) {
        do {
            _ = try FleetFile(yaml: yaml, baseDirectory: ".")
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }

    @Test("no-exec holds 'sleep N' for N seconds and ends anything else at once")
    func durations() {
        #expect(NoExecDuration.milliseconds(for: ["sleep", "2"]) == 2000)
        #expect(NoExecDuration.milliseconds(for: ["/bin/sleep", "0.25"]) == 250)
        #expect(NoExecDuration.milliseconds(for: ["true"]) == 0)
        #expect(NoExecDuration.milliseconds(for: ["sleep", "-1"]) == 0)
        #expect(NoExecDuration.milliseconds(for: ["sleep", "x"]) == 0)
        #expect(NoExecDuration.milliseconds(for: ["sh", "-c", "sleep 5"]) == 0)
    }
}
