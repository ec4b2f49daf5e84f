import SchedCore
import SchedProtocol

/// A job that runs `/bin/true` with `cpus` CPUs (and `memory` bytes, `gpus` GPUs when given).
public func spec(_ name: String = "job", cpus: Int = 1, memory: Int64 = 0, gpus: Int = 0) -> JobSpec {
    JobSpec(name: name, command: ["/bin/true"], resources: ResourceRequest(cpus: cpus, memoryBytes: memory, gpus: gpus))
}

/// The host binding a simulated agent reports for a started task: PUs 0-1 on NUMA node 0.
public let someBinding = HostBinding(cpus: CPUSet([0, 1]), numaNodes: NUMASet([0]))
