import SchedCore
import SchedProtocol

extension ControlPlane {
    /// Starts a rolling update of a service: every replica will run `spec` (the new template,
    /// revision + 1), replaced one at a time — at most one replica down at once (Kubernetes'
    /// maxUnavailable 1, maxSurge 0) and the next replaced only once the new one runs.
    /// The target is stored on every replica first, so a restarted schedd continues the rollout.
    mutating func update(_ id: JobID, to spec: JobSpec, stored: JobInfo?) throws(ErrorReply) -> JobInfo {
        guard let job = knownJob(id, stored: stored) else { throw ErrorReply(.notFound, "no job \(id)") }
        guard job.spec.service == true else {
            throw ErrorReply(.conflict, "job \(id) is not a service; only services (service: true) can be updated in place")
        }
        if job.state.isTerminal { throw ErrorReply(.conflict, "job \(id) already \(job.state.rawValue)") }
        if let p = spec.problems().first { throw ErrorReply(.invalidSpec, "\(p.field): \(p.message)") }
        guard queues[spec.queueName] != nil else {
            throw ErrorReply(.invalidSpec, "queue: no queue '\(spec.queueName)'; queues: \(queues.keys.sorted().joined(separator: ", "))")
        }
        guard spec.service == true else { throw ErrorReply(.invalidSpec, "service: an update of a service must keep service: true") }
        guard spec.array == job.spec.array else {
            throw ErrorReply(.invalidSpec, "array: an update keeps the number of replicas (\(job.spec.array ?? 1)), got \(spec.array ?? 1)")
        }
        let group = job.arrayJob ?? job.id
        let members = replicas(of: group)
        let revision = members.map { max($0.revision ?? 1, $0.rollout?.revision ?? 0) }.max().map { $0 + 1 } ?? 2
        let target = RolloutTarget(revision: revision, spec: spec)
        for var m in members {
            m.rollout = target
            save(m)
        }
        rollingServices.insert(group)
        workload.observe(spec.resources)
        log(.info, "rolling update", ["job.id": "\(group)", "revision": "\(revision)", "replicas": "\(members.count)"])
        schedulePending()
        return try self.job(id, stored: stored)
    }

    /// The replicas of a service that have not ended, by array index.
    mutating func replicas(of group: JobID) -> [JobInfo] {
        jobs.values.filter { ($0.arrayJob ?? $0.id) == group && !$0.state.isTerminal }
            .sorted { ($0.arrayIndex ?? 0, $0.id) < ($1.arrayIndex ?? 0, $1.id) }
    }

    /// Moves every rolling update one step when it may: a replica still on the old template that
    /// is waiting takes the new template at once; otherwise, once no replica is being replaced and
    /// every updated replica runs, the next running old replica gets KILL_TASK (SIGTERM, SIGKILL
    /// after its grace) and starts again with the new template when its exit arrives. When every
    /// replica runs the new revision, the rollout ends.
    mutating func advanceRollouts() {
        for group in rollingServices.sorted() {
            let members = replicas(of: group)
            guard let target = members.compactMap(\.rollout).max(by: { $0.revision < $1.revision }) else {
                rollingServices.remove(group)
                continue
            }
            let old = members.filter { ($0.revision ?? 1) != target.revision }
            if old.isEmpty {
                for var m in members where m.rollout != nil {
                    m.rollout = nil
                    save(m)
                }
                rollingServices.remove(group)
                log(.info, "rolling update done", ["job.id": "\(group)", "revision": "\(target.revision)"])
                continue
            }
            if members.contains(where: { $0.replacing == true }) { continue }
            if let waiting = old.first(where: { $0.state == .pending }) {
                // Not running: nothing to stop, it simply starts with the new template.
                var m = waiting
                m.spec = target.spec
                m.revision = target.revision
                m.notBeforeMs = nil
                m.reason = "rolling update: starting revision \(target.revision)"
                save(m)
                continue
            }
            if members.contains(where: { ($0.revision ?? 1) == target.revision && $0.state != .running }) { continue }
            guard var next = old.first(where: { $0.state == .running && $0.cancelRequested != true && $0.preemptedBy == nil }),
                  let node = next.node else { continue }
            next.replacing = true
            next.reason = "rolling update: replacing with revision \(target.revision)"
            save(next)
            if links[node] != nil {
                send(.killTask(KillTask(ref: TaskRef(job: next.id), graceSeconds: next.spec.killGraceSeconds ?? 10,
                                        reason: "replaced by revision \(target.revision)")), to: node)
            }
            log(.info, "rolling update: replacing replica", ["job.id": "\(next.id)", "revision": "\(target.revision)"])
        }
    }

    /// A service replica as JOB_INFO shows it: with the rolling update's progress when one runs.
    mutating func withRolloutProgress(_ job: JobInfo) -> JobInfo {
        guard job.spec.service == true, let target = job.rollout else { return job }
        let members = replicas(of: job.arrayJob ?? job.id)
        var j = job
        j.rolloutProgress = RolloutProgress(revision: target.revision,
                                            updated: members.filter { ($0.revision ?? 1) == target.revision }.count,
                                            total: members.count, replacing: members.first { $0.replacing == true }?.id)
        return j
    }
}
