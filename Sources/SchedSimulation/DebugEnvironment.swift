#if canImport(Glibc)
import Glibc
#endif
import SchedCore

/// `CHAOS_DEBUG_JOB=N`: print every stored version of job N and every line about it.
enum ProcessInfoLite {
    static let debugJob: JobID? = getenv("CHAOS_DEBUG_JOB").flatMap { Int64(String(cString: $0)) }.map(JobID.init)
}
