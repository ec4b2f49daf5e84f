#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The per-process limit on open files (RLIMIT_NOFILE).
///
/// Plain Swift over getrlimit/setrlimit, not the C target CProcessControl: these are ordinary
/// system calls made at start-up (no fork, nothing variadic), which Swift calls safely, and
/// schedd and schedctl link SchedNet, while CProcessControl sits behind HostTopology, which the
/// agent alone links (with hwloc and libnuma).
public enum OpenFileLimit {
    /// Raises the soft limit to the hard limit (one socket per agent: an emulated fleet or a
    /// schedd serving thousands of agents needs more than the usual 1024). Returns the new soft limit.
    @discardableResult
    public static func raiseToHardLimit() -> Int {
        var r = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r) == 0 else { return -1 }
        if r.rlim_cur < r.rlim_max {
            var raised = r
            raised.rlim_cur = r.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { r = raised }
        }
        return r.rlim_cur > rlim_t(Int.max) ? Int.max : Int(r.rlim_cur)
    }
}
