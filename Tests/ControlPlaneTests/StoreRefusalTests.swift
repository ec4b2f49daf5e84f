import SchedControlPlane
import SchedCore
import SchedProtocol
import Testing

/// Drives a `ControlPlane` by hand: feeds events, reads actions, completes store operations.
struct RefusalDriver {
    var plane: ControlPlane
    var now = Instant(monotonicMs: 0, wallMs: 1_764_000_000_000)
    var nextID: Int64 = 1
    var nextRequest: RequestID = 1
    /// Store operations asked for and not yet completed, in order.
    var pendingStore: [ControlAction] = []
    /// Everything sent and replied so far.
    var sent: [(LinkID, Message)] = []
    var replies: [RequestID: ControlReply] = [:]
    var armed: [ControlTimer] = []

    init() {
        var c = ControlPlaneConfig(heartbeatIntervalMs: 1000, nodeTimeoutMs: 5000)
        c.storeRetryMs = 3000
        c.minJobAgeSeconds = 0
        plane = ControlPlane(config: c, loaded: ControlPlane.Loaded(nodes: [], jobs: []), at: now)
        _ = plane.takeActions()
    }

    mutating func handle(_ e: ControlEvent) {
        for a in plane.handle(e, at: now) {
            switch a {
            case .send(let l, let m): sent.append((l, m))
            case .reply(let id, let r): replies[id] = r
            case .insertJobs, .commit: pendingStore.append(a)
            case .arm(let t, _): armed.append(t)
            default: break
            }
        }
    }

    /// Fires every armed timer of `kind` (commit timers by default).
    mutating func fire(_ matching: (ControlTimer) -> Bool = { $0 == .commit || $0 == .retryCommit }) {
        let due = armed.filter(matching)
        armed.removeAll(where: matching)
        for t in due { handle(.timer(t)) }
    }

    /// Completes the oldest store operations: inserts always succeed; commits as `commits` says.
    mutating func completeStore(commitSucceeds: Bool) {
        while !pendingStore.isEmpty {
            let op = pendingStore.removeFirst()
            switch op {
            case .insertJobs(let id, let insert):
                var jobs: [JobInfo] = []
                for flat in 0..<insert.count {
                    jobs.append(insert.job(id: JobID(nextID), flat: flat))
                    nextID += 1
                }
                handle(.jobsInserted(id, .success(jobs)))
            case .commit:
                handle(.commitFinished(commitSucceeds ? .success(()) : .failure(StoreFailure("disk full (test)"))))
            default: break
            }
        }
    }

    /// Commit timers and store completions until nothing is left to do.
    mutating func settle(commitSucceeds: Bool = true) {
        for _ in 0..<10 {
            fire()
            completeStore(commitSucceeds: commitSucceeds)
            if armed.allSatisfy({ $0 != .commit && $0 != .retryCommit }) && pendingStore.isEmpty { return }
        }
    }

    mutating func request(_ r: ClientRequest) -> RequestID {
        let id = nextRequest
        nextRequest += 1
        handle(.request(id, r))
        return id
    }

    mutating func takeSent() -> [Message] {
        defer { sent.removeAll() }
        return sent.map(\.1)
    }

    static func topology() -> NodeTopology {
        let cores = (0..<4).map { CoreInfo(id: $0, pus: CPUSet([$0]), numa: 0, l3: 0, package: 0) }
        return NodeTopology(arch: "x86_64", cpuModel: "Test CPU", packages: 1,
                            numaNodes: [NUMANodeInfo(id: 0, memoryBytes: 8 << 30, cpus: CPUSet(0..<4))], cores: cores)
    }
}

/// The durability rule: nothing that reports a change leaves before the change is stored;
/// a change not stored in time is answered ACCEPTED, and an ERR never takes effect.
@Suite("ControlPlane: what leaves while the store refuses")
struct StoreRefusalTests {
    /// A driver with node n1 registered on link 1 and a job running on it.
    func runningJob() -> (RefusalDriver, JobID) {
        var d = RefusalDriver()
        d.handle(.linkOpened(1))
        d.handle(.register(Register(node: "n1", topology: RefusalDriver.topology(), emulated: true, tasks: []), link: 1))
        d.settle()
        let submit = d.request(.submit([JobSpec(command: ["true"], resources: ResourceRequest(cpus: 2))], placeAtOnce: true))
        d.settle()
        guard case .submitted(let firsts, _)? = d.replies[submit] else { Issue.record("no SUBMITTED"); return (d, JobID(0)) }
        let job = firsts[0].id
        d.handle(.taskStarted(TaskStarted(ref: TaskRef(job: job), pid: 1, binding: HostBinding(cpus: CPUSet([0, 1]), numaNodes: NUMASet([0])),
                                          stdoutPath: "", stderrPath: ""), node: "n1"))
        d.settle()
        _ = d.takeSent()
        return (d, job)
    }

    @Test("REGISTERED leaves at once; ACK_EXIT waits until the exit is stored")
    func ackExitWaitsForTheStore() {
        var d = RefusalDriver()
        d.handle(.linkOpened(1))
        d.handle(.register(Register(node: "n1", topology: RefusalDriver.topology(), emulated: true, tasks: []), link: 1))
        // The node's record is not stored yet, but REGISTERED promises nothing durable.
        #expect(d.takeSent().map(\.verb) == ["REGISTERED"])
        d.settle()
        var (p, job) = runningJob()
        p.handle(.taskExited(TaskExited(ref: TaskRef(job: job), exit: TaskExit(exitCode: 0)), node: "n1"))
        p.fire()
        p.completeStore(commitSucceeds: false)
        #expect(p.takeSent().compactMap { if case .ackExit = $0 { 1 } else { nil } }.isEmpty, "ACK_EXIT before the exit was stored")
        p.settle(commitSucceeds: true)
        #expect(p.takeSent().contains { if case .ackExit(let a) = $0 { a.ref.job == job } else { false } })
    }

    @Test("a cancel the store refuses: no KILL_TASK, ACCEPTED at the deadline, then one KILL_TASK and no second reply once stored")
    func cancelNotStoredIsAcceptedNotConfirmed() {
        var (d, job) = runningJob()
        let cancel = d.request(.cancel(job, stored: nil))
        d.fire()
        d.completeStore(commitSucceeds: false)
        #expect(d.replies[cancel] == nil)
        #expect(!d.takeSent().contains { if case .killTask = $0 { true } else { false } })
        d.fire { if case .storeDeadline = $0 { true } else { false } }
        guard case .message(.accepted(let a))? = d.replies[cancel] else {
            Issue.record("expected ACCEPTED, got \(String(describing: d.replies[cancel]))")
            return
        }
        #expect(a.request == "CANCEL")
        d.replies[cancel] = nil
        d.settle(commitSucceeds: true)
        #expect(d.takeSent().contains { if case .killTask(let k) = $0 { k.ref.job == job } else { false } })
        #expect(d.replies[cancel] == nil, "a change answered ACCEPTED was answered again")
    }

    @Test("a cancel answered ERR changes nothing")
    func refusedCancelChangesNothing() {
        var (d, job) = runningJob()
        let bad = d.request(.cancel(JobID(999), stored: nil))
        guard case .message(.error(let e))? = d.replies[bad] else { Issue.record("expected ERR"); return }
        #expect(e.code == .notFound)
        #expect(d.plane.heldJob(job)?.cancelRequested != true)
        #expect(d.plane.uncommittedWrites == 0)
    }

    @Test("a drain the store refuses is ACCEPTED at the deadline and takes effect once stored")
    func drainNotStoredIsAccepted() {
        var (d, _) = runningJob()
        let drain = d.request(.drain("n1", reason: "test"))
        d.fire()
        d.completeStore(commitSucceeds: false)
        d.fire { if case .storeDeadline = $0 { true } else { false } }
        guard case .message(.accepted)? = d.replies[drain] else { Issue.record("expected ACCEPTED"); return }
        d.settle(commitSucceeds: true)
        let status = d.request(.listNodes(topology: false))
        guard case .message(.nodeList(let l))? = d.replies[status] else { Issue.record("no NODE_LIST"); return }
        #expect(l.nodes.first?.status == .draining)
    }

    @Test("a gang's START_TASKs: none while the batch with its placements fails, every member's once stored")
    func gangStartsOnlyWhenWholeGangIsStored() {
        var d = RefusalDriver()
        d.handle(.linkOpened(1))
        d.handle(.register(Register(node: "n1", topology: RefusalDriver.topology(), emulated: true, tasks: []), link: 1))
        d.settle()
        _ = d.takeSent()
        var g = JobSpec(command: ["true"], resources: ResourceRequest(cpus: 2))
        g.array = 2
        g.gang = true
        _ = d.request(.submit([g], placeAtOnce: true))
        d.completeStore(commitSucceeds: false)   // the insert succeeds; the placements' commit fails
        d.fire()
        d.completeStore(commitSucceeds: false)
        #expect(!d.takeSent().contains { if case .startTask = $0 { true } else { false } })
        d.settle(commitSucceeds: true)
        let starts = d.takeSent().compactMap { if case .startTask(let s) = $0 { s } else { nil } }
        #expect(starts.count == 2)
        #expect(starts.count == 2 && starts[0].assignment.pus.isDisjoint(with: starts[1].assignment.pus))
    }
}
