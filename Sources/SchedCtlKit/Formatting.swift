import Foundation
import SchedCore
import SchedProtocol

/// Human-readable text for schedctl's tables and detail views.
public enum Formatting {
    public static func time(_ ms: Int64?) -> String {
        guard let ms else { return "-" }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// `4 cpus`, `8 GiB`, `2 gpus (V100)`.
    public static func request(_ r: ResourceRequest) -> String {
        var parts = ["\(r.cpus) cpu" + (r.cpus == 1 ? "" : "s")]
        if r.memoryBytes > 0 { parts.append(ByteSize.format(r.memoryBytes)) }
        if r.gpus > 0 {
            let amount = GPUAmount.format(gpus: r.gpus, milli: r.gpuMilli)
            parts.append("\(amount) gpu" + (r.gpus == 1 && !r.sharesGPU ? "" : "s") + (r.gpuModel.map { " (\($0))" } ?? ""))
        }
        if let a = r.arch { parts.append(a) }
        if !r.labels.isEmpty { parts.append(r.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")) }
        return parts.joined(separator: ", ")
    }

    /// `node dgx2: cpus 0 (host 1), numa 0, gpus 0,1,2,3`.
    public static func placement(_ j: JobInfo) -> String {
        guard let a = j.assignment else { return "not placed" }
        var s = "node \(a.node): cpus \(a.pus)"
        if let b = j.hostBinding, b.cpus != a.pus { s += " (host cpus \(b.cpus))" }
        s += ", numa \(a.numaNodes)"
        if let b = j.hostBinding, b.numaNodes != a.numaNodes { s += " (host numa \(b.numaNodes))" }
        if !a.gpus.isEmpty {
            s += ", gpus \(a.gpus.map(String.init).joined(separator: ","))"
            if let m = a.gpuMilli { s += " (\(GPUAmount.format(gpus: 1, milli: m)) of each)" }
        }
        if a.memoryBytes > 0 { s += ", memory \(ByteSize.format(a.memoryBytes))" }
        return s
    }

    public static func exit(_ e: TaskExit?) -> String {
        guard let e else { return "-" }
        if let err = e.error { return err }
        if let s = e.signal { return "signal \(s)" }
        return "exit \(e.exitCode ?? -1)"
    }

    public static func jobsTable(_ jobs: [JobInfo]) -> String {
        var t = Table(["ID", "NAME", "STATE", "NODE", "REQUEST", "SUBMITTED", "RESULT/REASON"])
        for j in jobs {
            let result = j.state.isTerminal ? (j.state == .cancelled ? (j.reason ?? "") : exit(j.exit)) : (j.reason ?? "")
            let name = j.arrayIndex.map { "\(j.spec.displayName)[\($0)]" } ?? j.spec.displayName
            t.add(["\(j.id)", name, j.state.rawValue, j.node?.rawValue ?? "-", request(j.spec.resources),
                   time(j.submittedAtMs), result])
        }
        return t.render()
    }

    public static func jobDetail(_ j: JobInfo) -> String {
        var lines: [(String, String)] = [
            ("Job", "\(j.id)"), ("Name", j.spec.displayName), ("State", j.state.rawValue),
            ("Command", j.spec.command.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")),
            ("Request", request(j.spec.resources)),
            ("Queue", j.spec.queueName + (j.spec.priority.map { ", priority \($0)" } ?? "") + ", tenant \(j.spec.tenantName)"),
            ("Placement", placement(j)),
            ("Submitted", time(j.submittedAtMs)), ("Started", time(j.startedAtMs)), ("Finished", time(j.finishedAtMs)),
        ]
        if let a = j.arrayJob, let i = j.arrayIndex { lines.append(("Array", "job \(a), index \(i)")) }
        if j.spec.preemptible == true {
            var p = "yes"
            if let m = j.spec.minRuntimeSeconds { p += ", after \(m) s" }
            if let s = j.spec.checkpointSignal { p += ", checkpoint signal \(s)" }
            if let n = j.preemptions { p += "; preempted \(n) time" + (n == 1 ? "" : "s") }
            lines.append(("Preemptible", p))
        }
        if j.spec.service == true {
            lines.append(("Service", "revision \(j.revision ?? 1), restarted \(j.restarts ?? 0) time" + (j.restarts == 1 ? "" : "s")))
            if let p = j.rolloutProgress {
                lines.append(("Rollout", "to revision \(p.revision): \(p.updated) of \(p.total) replicas updated"
                              + (p.replacing.map { "; replacing job \($0)" } ?? "; waiting for the new replica to run")))
            }
        }
        if j.spec.isGang, let a = j.arrayJob { lines.append(("Gang", "of \(j.spec.array ?? 1), job \(a), rank \(j.arrayIndex ?? 0)")) }
        if let pid = j.pid { lines.append(("PID", "\(pid)")) }
        if let uid = j.hostBinding?.uid { lines.append(("UID", "\(uid)")) }
        if j.exit != nil { lines.append(("Result", exit(j.exit))) }
        if let r = j.reason { lines.append(("Reason", r)) }
        if let o = j.stdoutPath { lines.append(("Stdout", o)) }
        if let e = j.stderrPath { lines.append(("Stderr", e)) }
        let w = lines.map(\.0.count).max() ?? 0
        return lines.map { $0.0 + ":" + String(repeating: " ", count: w - $0.0.count + 1) + $0.1 }.joined(separator: "\n")
    }

    public static func nodesTable(_ nodes: [NodeInfo]) -> String {
        var t = Table(["NAME", "STATUS", "ARCH", "CPUS", "MEMORY", "GPUS", "NUMA", "JOBS", "NOTE"])
        for n in nodes {
            let gpus = n.gpus == 0 ? "-" : "\(n.gpusUsed)/\(n.gpus) " + n.gpuModels.joined(separator: "|") + (n.nvlink ? " nvlink" : "")
            var note = n.emulated ? "emulated" : ""
            if let l = n.labels, !l.isEmpty {
                note += (note.isEmpty ? "" : "; ") + l.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            }
            if let r = n.drainReason { note += (note.isEmpty ? "" : "; ") + r }
            t.add([n.name.rawValue, n.status.rawValue, n.arch, "\(n.cpusUsed)/\(n.cpus)",
                   "\(ByteSize.format(n.memoryUsedBytes))/\(ByteSize.format(n.memoryBytes))", gpus, "\(n.numaNodes)",
                   "\(n.runningJobs)", note])
        }
        return t.render()
    }

    public static func logTable(_ records: [PlacementRecord]) -> String {
        var t = Table(["SEQ", "TIME", "JOB", "OUTCOME", "NODE", "CPUS", "NUMA", "GPUS", "SCORE", "SUMMARY"])
        for r in records { t.add(logRow(r)) }
        return t.render()
    }

    static func logRow(_ r: PlacementRecord) -> [String] {
        ["\(r.seq)", r.time, "\(r.job)", r.outcome.rawValue, r.node?.rawValue ?? "-", r.pus?.description ?? "-",
         r.numaNodes?.description ?? "-", gpuList(r.gpus, r.gpuMilli),
         r.score.map(String.init) ?? "-", r.summary]
    }

    /// `0,1,2,3`, or `3(0.5)` for a share of one GPU; `-` when none.
    static func gpuList(_ gpus: [Int]?, _ milli: Int?) -> String {
        guard let gpus, !gpus.isEmpty else { return "-" }
        return gpus.map(String.init).joined(separator: ",") + (milli.map { "(\(GPUAmount.format(gpus: 1, milli: $0)))" } ?? "")
    }

    /// One followed record as a line of text.
    public static func logLine(_ r: PlacementRecord) -> String { logRow(r).joined(separator: "  ") }

    public static func explanation(_ x: Explanation) -> String {
        let j = x.job
        var out = ["Job \(j.id) (\(j.spec.displayName)) is \(j.state.rawValue).", "Request: \(request(j.spec.resources))"]
        if let p = x.queuePosition, let n = x.queueLength { out.append("Queue position: \(p) of \(n) (priority \(j.spec.priority ?? 0))") }
        if let h = x.held { out.append("Held: \(h) (it waits whatever the fleet has free)") }
        if j.state == .pending, let t = j.estimatedStartMs {
            out.append("Expected start: \(time(t)) (backfill reservation, from running jobs' time limits)")
        }
        func describe(_ r: PlacementRecord, _ title: String) {
            out.append("")
            if r.outcome == .stopped {
                out.append("\(title) (\(r.time)):")
                out.append("  \(r.summary)")
                return
            }
            out.append("\(title) (\(r.time), policy \(r.policy)):")
            out.append("  \(r.explanation.summary)")
            for rej in r.explanation.rejections {
                var line = "  - \(rej.nodes) node\(rej.nodes == 1 ? "" : "s"): \(rej.reason.rawValue)"
                if let req = rej.requested, let free = rej.bestFree, let cap = rej.bestCapacity {
                    let memory = rej.reason == .tooLittleMemory
                    let f = { (v: Int64) in memory ? ByteSize.format(v) : "\(v)" }
                    line += " (requested \(f(req)); best such node has \(f(free)) free of \(f(cap)))"
                }
                out.append(line)
            }
            if r.outcome == .placed, let node = r.node {
                out.append("  Chosen: \(node) with score \(r.score ?? 0): cpus \(r.pus?.description ?? "-"), numa \(r.numaNodes?.description ?? "-")"
                           + ((r.gpus ?? []).isEmpty ? "" : ", gpus \(gpuList(r.gpus, r.gpuMilli))"))
                if let b = r.explanation.chosen {
                    var parts: [String] = []
                    if let c = b.cpuPercentAfter { parts.append("CPUs \(c)%") }
                    if let m = b.memoryPercentAfter { parts.append("memory \(m)%") }
                    if let g = b.gpuPercentAfter { parts.append("GPUs \(g)%") }
                    out.append("  In use there after placement: " + parts.joined(separator: ", ")
                               + (b.tier == 1 ? "" : " (a GPU node, used because no node without GPUs could take this CPU-only task)"))
                }
            }
            if !r.explanation.topCandidates.isEmpty {
                out.append("  Candidates: " + r.explanation.topCandidates.map { "\($0.node)=\($0.score)" }.joined(separator: ", "))
            }
        }
        if let c = x.current { describe(c, "Why it waits now") }
        if let l = x.latest, x.current == nil || l.outcome == .placed {
            describe(l, l.outcome == .placed ? "Why it went to \(l.node!)" : l.outcome == .stopped ? "Stopped" : "Last decision")
        }
        if x.current == nil && x.latest == nil { out.append("No placement decision recorded yet.") }
        if j.assignment != nil { out.append(""); out.append("Placement: " + placement(j)) }
        return out.joined(separator: "\n")
    }
}
