import SchedCore

extension NodeState {
    /// PUs of the node on the NUMA node with this OS index.
    func pus(ofNUMA os: Int) -> CPUSet { topology.numaNodes[topology.numaPosition(ofOS: os)!].cpus }
    /// OS index of the NUMA node that holds a PU.
    func numaOf(pu: Int) -> Int? { topology.cores.first { $0.pus.contains(pu) }?.numa }
    /// The core holding a PU.
    func coreOf(pu: Int) -> CoreInfo? { topology.cores.first { $0.pus.contains(pu) } }
    /// Applies an assignment after checking it can be applied; returns false (and does nothing) if not.
    @discardableResult
    mutating func applyChecked(_ a: Assignment) -> Bool {
        guard canApply(a) else { return false }
        apply(a)
        return true
    }
}
