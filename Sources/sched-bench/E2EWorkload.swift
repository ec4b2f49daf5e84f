import SchedCore
import SchedProtocol

/// The job specs `sched-bench e2e` submits: `count` jobs in all (gang members count one each).
/// Every task is `true`, which a `--no-exec` node reports started and then finished at once.
enum E2EWorkload {
    static func specs(count: Int, gpuMix: Bool, seed: UInt64) -> [JobSpec] {
        var rng = SplitMix64(seed: seed)
        var out: [JobSpec] = []
        var jobs = 0
        func cpuJob() -> JobSpec {
            JobSpec(command: ["true"], resources: ResourceRequest(cpus: 1 + Int(rng.next() % 4)))
        }
        func gang(_ members: Int, nvlink: NVLinkLocality?) -> JobSpec {
            JobSpec(command: ["true"], resources: ResourceRequest(cpus: 8, gpus: 4, gpuModel: "Rubin"),
                    array: members, gang: true, nvlink: nvlink)
        }
        while jobs < count {
            let slot = jobs % 100
            if gpuMix, slot == 0, count - jobs >= 16 {
                out.append(gang(16, nvlink: .required))  // 64 GPUs in one NVLink domain
                jobs += 16
            } else if gpuMix, slot == 16 || slot == 18, count - jobs >= 2 {
                out.append(gang(2, nvlink: nil))  // 8 GPUs on two trays
                jobs += 2
            } else {
                out.append(cpuJob())
                jobs += 1
            }
        }
        return out
    }
}
