import CHwloc
import SchedCore
#if canImport(Glibc)
import Glibc
#endif

/// The calling thread's CPU affinity as a `CPUSet`, with masks of any size (the CPU_ALLOC idiom:
/// `unsigned long` words, bit `n % 64` of word `n / 64`, exactly `cpu_set_t`'s layout).
enum CPUAffinity {
    typealias Word = UInt
    static let bitsPerWord = Word.bitWidth
    /// Words in a glibc `cpu_set_t` (1024 bits).
    static let minimumWords = 1024 / bitsPerWord

    /// The calling thread's allowed PUs; empty if the kernel refuses every mask size tried.
    static func current() -> CPUSet {
        var words = minimumWords
        while words <= 1 << 16 {
            var mask = [Word](repeating: 0, count: words)
            let rc = mask.withUnsafeMutableBufferPointer { buf in
                sched_hwloc_get_thread_affinity(UInt(buf.count * MemoryLayout<Word>.size), buf.baseAddress)
            }
            if rc >= 0 { return set(from: mask) }
            guard errno == EINVAL else { return CPUSet() }
            words *= 2  // the kernel's mask is larger than ours
        }
        return CPUSet()
    }

    /// Binds the calling thread (the whole process when it is single-threaded, as after fork).
    /// Returns 0 or the errno of `sched_setaffinity`.
    static func bind(_ cpus: CPUSet) -> Int32 {
        let words = max((cpus.members.last ?? 0) / bitsPerWord + 1, minimumWords)
        var mask = [Word](repeating: 0, count: words)
        for pu in cpus { mask[pu / bitsPerWord] |= 1 << Word(pu % bitsPerWord) }
        let rc = mask.withUnsafeBufferPointer { buf in
            sched_hwloc_set_thread_affinity(UInt(buf.count * MemoryLayout<Word>.size), buf.baseAddress)
        }
        return rc == 0 ? 0 : errno
    }

    private static func set(from mask: [Word]) -> CPUSet {
        var result = CPUSet()
        for (w, word) in mask.enumerated() where word != 0 {
            for bit in 0..<bitsPerWord where word & (1 << Word(bit)) != 0 { result.insert(w * bitsPerWord + bit) }
        }
        return result
    }
}
