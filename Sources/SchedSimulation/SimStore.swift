import SchedControlPlane
import SchedCore
import SchedProtocol

/// The simulated store: what survives a schedd crash. Inserts and commits are applied whole
/// (one transaction each) when they complete, or not at all.
struct SimStore {
    var jobs: [JobID: JobInfo] = [:]
    var nodes: [NodeID: StoredNode] = [:]
    var placements = 0
    var nextJobID: Int64 = 1

    mutating func insert(_ insert: JobInsert) -> [JobInfo] {
        var out: [JobInfo] = []
        out.reserveCapacity(insert.count)
        for flat in 0..<insert.count {
            let job = insert.job(id: JobID(nextJobID), flat: flat)
            nextJobID += 1
            jobs[job.id] = job
            out.append(job)
        }
        return out
    }

    mutating func apply(_ batch: CommitBatch) {
        for j in batch.jobs { jobs[j.id] = j }
        for n in batch.nodes { nodes[n.name] = n }
        placements += batch.placements.count
    }

    /// What a restarted schedd loads (every job: the simulator keeps finished jobs in memory).
    func loaded() -> ControlPlane.Loaded {
        ControlPlane.Loaded(nodes: nodes.values.sorted { $0.name < $1.name }, jobs: jobs.values.sorted { $0.id < $1.id })
    }
}
