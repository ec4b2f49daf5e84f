import SchedCore
import SchedProtocol

/// The backfill reservation of one scheduling pass: the first job (or gang) that cannot start,
/// the nodes it will use and when. Later work may use those nodes only if it ends before then.
struct PassReservation {
    var job: JobID
    var nodes: Set<NodeID>
    var startMs: Int64
}

extension ControlPlane {
    /// One scheduling pass's turn for a gang (its pending members): the tenant cap, then an
    /// all-or-nothing placement on `view` (reserved nodes masked, so a gang placed by backfill never
    /// delays the reservation); when it cannot start, preemption for the whole gang if it outranks
    /// running work, else — when it is the first to wait — a backfill reservation for all members.
    /// Returns why it waits when it simply waits (no preemption, no reservation), else nil.
    @discardableResult
    mutating func scheduleGang(_ members: [JobInfo], view: ClusterSnapshot, fleet: inout ClusterSnapshot, index: [NodeID: Int],
                      profile: WorkloadProfile, now: Int64, outranks: Bool, holdings: inout [String: TenantQuota]?,
                      reservation: inout PassReservation?) -> PlacementExplanation? {
        let members = members.sorted { ($0.arrayIndex ?? 0, $0.id) < ($1.arrayIndex ?? 0, $1.id) }
        guard let first = members.first else { return nil }
        let key = first.arrayJob ?? first.id
        let tenant = first.spec.tenantName
        if let why = capExcess(first, tasks: members.count, holdings: &holdings) {
            for m in members { holdForCap(m, why) }
            return nil
        }
        guard let e = placeGang(members, snapshot: &fleet, index: index, profile: profile, view: view) else {
            preemptors[key] = nil
            for m in members {
                if let a = jobs[m.id]?.assignment { Self.hold(a, tenant: tenant, in: &holdings) }
            }
            return nil
        }
        // Victims chosen for this gang are still stopping: keep waiting for them.
        if victimsStopping(for: key) { return nil }
        var reclaim = false
        if !config.tenants.isEmpty {
            let h = holdings ?? tenantHoldings()
            holdings = h
            reclaim = mayReclaim(first, tasks: members.count, holdings: h)
        }
        if outranks || reclaim {
            let victims = preemptGangIfPossible(members, key: key, in: view, profile: profile, reclaim: reclaim)
            if !victims.isEmpty {
                let reason = "gang of \(members.count): waiting for preempted jobs to stop: \(victims.map(\.description).joined(separator: ", "))"
                for m in members {
                    guard var j = jobs[m.id] else { continue }
                    j.reason = reason
                    save(j)
                    lastPendingSummary[m.id] = nil
                }
                return nil
            }
        }
        var estimate: Int64?
        // As for single jobs: without time limits nothing is known to end, so there is no
        // reservation to compute unless nodes are masked for preemptors.
        if reservation == nil, !jobs.timeLimitedActive.isEmpty || !preemptors.isEmpty,
           let r = Backfill.reservation(forGang: first.spec.resources, count: members.count, locality: first.spec.nvlink,
                                        gangPlacer: GangPlacer(placer: placer(for: first.spec, workload: profile)),
                                        in: fleet, running: runningTasks(now: now), nowMs: now) {
            reservation = PassReservation(job: first.id, nodes: r.nodes, startMs: r.startMs)
            estimate = r.startMs
        }
        recordGangWaiting(members, e, estimate: estimate)
        return estimate == nil ? e : nil
    }

    /// A waiting gang's pending record and reason, written only when they changed.
    mutating func recordGangWaiting(_ members: [JobInfo], _ e: PlacementExplanation, estimate: Int64?) {
        guard let first = members.min(by: { ($0.arrayIndex ?? 0, $0.id) < ($1.arrayIndex ?? 0, $1.id) }) else { return }
        let summary = "gang of \(members.count): " + e.summary
        if lastPendingSummary[first.id] != summary || jobs[first.id]?.estimatedStartMs != estimate {
            lastPendingSummary[first.id] = summary
            appendLog(job: first, decision: .unplaceable(e))
            for m in members {
                guard var j = jobs[m.id] else { continue }
                j.reason = summary
                j.estimatedStartMs = estimate
                save(j)
            }
        }
    }
}
