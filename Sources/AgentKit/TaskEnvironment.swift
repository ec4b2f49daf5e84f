import SchedCore
import SchedProtocol

/// The environment variables that tell a task its allocation, in the spirit of Slurm's SLURM_*.
///
/// | variable | value |
/// |---|---|
/// | SCHED_JOB_ID, SCHED_JOB_NAME, SCHED_TASK_INDEX | the job and task |
/// | SCHED_NODE | node name |
/// | SCHED_CPUS, SCHED_NUMA_NODES | PUs and NUMA nodes in the node's numbering (list format) |
/// | SCHED_HOST_CPUS, SCHED_HOST_NUMA_NODES | what the process is bound to on this host |
/// | SCHED_GPUS | GPU indices on the node, comma separated |
/// | SCHED_MEM_BYTES | memory reserved |
/// | CUDA_VISIBLE_DEVICES, NVIDIA_VISIBLE_DEVICES | GPU UUIDs when known, else indices; empty on a GPU node when none was given |
/// | ROCR_VISIBLE_DEVICES | the same for AMD GPUs |
/// | SCHED_GPU_SHARE_MILLI, CUDA_MPS_ACTIVE_THREAD_PERCENTAGE | a task sharing one GPU: its share (thousandths) and the matching MPS percentage |
/// | OMP_NUM_THREADS | number of PUs, unless the job sets it |
/// | SCHED_ARRAY_JOB_ID, SCHED_ARRAY_TASK_ID | for a job-array member: the array's first job id and this member's index |
/// | SCHED_GANG_SIZE, SCHED_GANG_RANK, SCHED_GANG_NODES, SCHED_GANG_LEADER | for a gang member: size, rank, every member's node by rank, rank 0's node |
public enum TaskEnvironment {
    public static func variables(for start: StartTask, node: NodeID, topology: NodeTopology, binding: HostBinding) -> [String: String] {
        let a = start.assignment
        var env: [String: String] = [
            "SCHED_JOB_ID": "\(start.ref.job)",
            "SCHED_JOB_NAME": start.jobName,
            "SCHED_TASK_INDEX": "\(start.ref.task)",
            "SCHED_NODE": node.rawValue,
            "SCHED_CPUS": a.pus.description,
            "SCHED_NUMA_NODES": a.numaNodes.description,
            "SCHED_HOST_CPUS": binding.cpus.description,
            "SCHED_HOST_NUMA_NODES": binding.numaNodes.description,
            "SCHED_GPUS": a.gpus.map(String.init).joined(separator: ","),
            "SCHED_MEM_BYTES": "\(a.memoryBytes)",
            "OMP_NUM_THREADS": "\(a.pus.count)",
        ]
        if !topology.gpus.isEmpty {
            let gpus = a.gpus.compactMap { i in topology.gpus.first { $0.index == i } }
            let nvidia = gpus.filter { $0.vendor.lowercased().contains("nvidia") }
            let ids = nvidia.map { g in g.uuid.map { $0.hasPrefix("GPU-") ? $0 : "GPU-\($0)" } ?? "\(g.index)" }
            env["CUDA_VISIBLE_DEVICES"] = ids.joined(separator: ",")
            env["NVIDIA_VISIBLE_DEVICES"] = ids.isEmpty ? "void" : ids.joined(separator: ",")
            if let share = a.gpuMilli {
                // A share of one GPU: tell the task, and cap its SMs under CUDA MPS when MPS runs.
                env["SCHED_GPU_SHARE_MILLI"] = "\(share)"
                env["CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"] = "\(max(1, share / 10))"
            }
            let amd = gpus.filter { $0.vendor.lowercased().contains("amd") || $0.vendor.lowercased().contains("advanced micro") }
            if topology.gpus.contains(where: { $0.vendor.lowercased().contains("amd") }) {
                env["ROCR_VISIBLE_DEVICES"] = amd.map { "\($0.index)" }.joined(separator: ",")
            }
        }
        if let arrayJob = start.arrayJob, let index = start.arrayIndex {
            env["SCHED_ARRAY_JOB_ID"] = "\(arrayJob)"
            env["SCHED_ARRAY_TASK_ID"] = "\(index)"
        }
        if let gang = start.gangNodes, let rank = start.arrayIndex {
            // Enough for a rendezvous (torchrun, MPI): size, rank, everyone's node, rank 0's node.
            env["SCHED_GANG_SIZE"] = "\(gang.count)"
            env["SCHED_GANG_RANK"] = "\(rank)"
            env["SCHED_GANG_NODES"] = gang.map(\.rawValue).joined(separator: ",")
            env["SCHED_GANG_LEADER"] = gang.first?.rawValue ?? ""
        }
        // The job's own variables win over ours.
        for (k, v) in start.env { env[k] = v }
        return env
    }
}
