import Foundation
import Testing
@testable import SchedCtlKit
import SchedCore

/// The trace readers on rows copied byte-for-byte from shared/data/traces/alibaba-gpu-v2023/csv/
/// (alibaba/clusterdata cluster-trace-gpu-v2023, commit 50a91c7c; see shared/data/SOURCES.md §1).
@Suite("Trace CSV")
struct TraceCSVTests {
    /// openb_node_list_gpu_node.csv: header and rows 1, 2, 24.
    static let nodes = """
        sn,cpu_milli,memory_mib,gpu,model
        openb-node-0000,64000,262144,2,P100
        openb-node-0001,64000,262144,2,P100
        openb-node-0023,96000,786432,8,V100M32

        """
    /// openb_pod_list_gpuspec10.csv: header and two rows with gpu_spec;
    /// openb_pod_list_default.csv: a CPU-only row.
    static let pods = """
        name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time
        openb-pod-0031,16000,32768,1,1000,V100M16|V100M32|V100M32,LS,Running,9961302,9994357,9961304
        openb-pod-0047,3152,5600,1,1000,V100M16|V100M32,BE,Failed,9989615,9989817,9989615
        openb-pod-0005,20000,65536,0,0,,LS,Running,2759674,12902960,2759676
        """
    /// openb_pod_list_multigpu20.csv: only five columns.
    static let multi = """
        name,cpu_milli,memory_mib,num_gpu,gpu_milli
        openb-pod-0000,12000,16384,1,1000
        openb-pod-0017,88000,327680,8,1000
        """

    @Test("node list")
    func nodeList() throws {
        let n = try TraceCSV.parseNodes(Self.nodes)
        #expect(n.map(\.name) == ["openb-node-0000", "openb-node-0001", "openb-node-0023"])
        #expect(n[2].node.cpuMilliCapacity == 96_000)
        #expect(n[2].node.memoryMiBCapacity == 786_432)
        #expect(n[2].node.gpuFree == Array(repeating: 1000, count: 8))
        #expect(n[0].node.model == "P100")
    }

    @Test("pod list with gpu_spec and times")
    func podList() throws {
        let p = try TraceCSV.parsePods(Self.pods)
        #expect(p.count == 3)
        #expect(p[0].request == ShareRequest(cpuMilli: 16_000, memoryMiB: 32_768, gpus: 1, gpuMilli: 1000,
                                             gpuModels: ["V100M16", "V100M32", "V100M32"]))
        #expect(p[0].createdAt == 9_961_302 && p[0].deletedAt == 9_994_357)
        #expect(p[2].request.gpus == 0 && p[2].request.gpuMilli == 0 && p[2].request.gpuModels.isEmpty)
        // gpu_spec: the V100M32 node accepts pod 31, a P100 node does not.
        let v100 = ShareNode(model: "V100M32", cpuMilli: 96_000, memoryMiB: 786_432, gpus: 8)
        let p100 = ShareNode(model: "P100", cpuMilli: 64_000, memoryMiB: 262_144, gpus: 2)
        #expect(PackingScorer.fits(p[0].request, v100))
        #expect(!PackingScorer.fits(p[0].request, p100))
    }

    @Test("five-column multigpu file")
    func multiGPU() throws {
        let p = try TraceCSV.parsePods(Self.multi)
        #expect(p[1].request == ShareRequest(cpuMilli: 88_000, memoryMiB: 327_680, gpus: 8, gpuMilli: 1000))
        #expect(p[1].createdAt == nil)
    }

    @Test("errors name the file and line")
    func errors() {
        #expect(throws: CLIError.self) { try TraceCSV.parseNodes("sn,cpu_milli,memory_mib,gpu,model\nn1,lots,1,1,T4\n") }
        #expect(throws: CLIError.self) { try TraceCSV.parsePods("name,cpu_milli\np,1\n") }
    }

    @Test("fleet YAML: groups expand to named nodes")
    func fleet() throws {
        let n = try FleetSpec.parse("""
            nodes:
              - name: rubin-tray
                count: 2
                cpus: 352
                memory_gib: 1536
                gpus: 4
                gpu_model: Rubin
              - name: graviton4
                cpus: 192
                memory_mib: 1048576
            """)
        #expect(n.map(\.name) == ["rubin-tray-0", "rubin-tray-1", "graviton4"])
        #expect(n[0].node.gpuFree == [1000, 1000, 1000, 1000] && n[0].node.model == "Rubin")
        #expect(n[2].node.cpuMilliCapacity == 192_000 && n[2].node.gpuCount == 0 && n[2].node.memoryMiBCapacity == 1_048_576)
        #expect(throws: CLIError.self) { try FleetSpec.parse("nodes:\n  - name: x\n    cpus: 4\n") }
    }

    @Test("published medians are found by the pod file's suffix")
    func published() {
        #expect(PublishedFGDResults.trace(forPath: "/x/openb_pod_list_gpushare40.csv") == "gpushare40")
        #expect(PublishedFGDResults.trace(forPath: "mine.csv") == nil)
    }
}

/// Every fleet under docs/examples/fleets parses (job-spec examples live one level up).
@Suite("Fleet examples")
struct FleetExampleTests {
    @Test func everyFleetExampleParses() throws {
        let dir = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/examples/fleets")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }
        #expect(!files.isEmpty)
        for f in files {
            let nodes = try FleetSpec.read(path: dir.appendingPathComponent(f).path)
            #expect(!nodes.isEmpty, "\(f)")
        }
    }
}
