/// A bit-exact port of Go's `math/rand` default source (the additive lagged Fibonacci generator
/// seeded through a Lehmer generator and `rngCooked`), with the `Rand` methods the FGD paper's
/// simulator calls: `Int`, `Intn`, `Int31n`, `Shuffle`.
///
/// The paper's simulator (a Go program) seeds Go's global generator with the experiment seed and
/// draws from it to shuffle and tune the pod list; reproducing the same stream reproduces its
/// pod lists for seeds 42...51. Pure and deterministic; not for cryptography.
public struct GoRandom: Sendable {
    private static let length = 607
    private static let tapDistance = 273
    private var vec: [UInt64]
    private var tap = 0
    private var feed = GoRandom.length - GoRandom.tapDistance

    /// Go's `rand.NewSource(seed)`.
    public init(seed: Int64) {
        let int32max: Int64 = (1 << 31) - 1
        var s = seed % int32max
        if s < 0 { s += int32max }
        if s == 0 { s = 89_482_311 }
        var x = Int32(s)
        vec = Array(repeating: 0, count: Self.length)
        for i in -20..<Self.length {
            x = Self.seedrand(x)
            if i >= 0 {
                var u = UInt64(bitPattern: Int64(x) << 40)
                x = Self.seedrand(x)
                u ^= UInt64(bitPattern: Int64(x) << 20)
                x = Self.seedrand(x)
                u ^= UInt64(bitPattern: Int64(x))
                u ^= UInt64(bitPattern: GoRandomCooked.words[i])
                vec[i] = u
            }
        }
    }

    /// x[n+1] = 48271 × x[n] mod (2³¹ − 1), Schrage's method as Go writes it.
    static func seedrand(_ x: Int32) -> Int32 {
        let a: Int32 = 48271, q: Int32 = 44488, r: Int32 = 3399
        let hi = x / q, lo = x % q
        var v = a &* lo &- r &* hi
        if v < 0 { v &+= Int32.max }
        return v
    }

    /// Go's `Uint64` of the source.
    public mutating func uint64() -> UInt64 {
        tap -= 1
        if tap < 0 { tap += Self.length }
        feed -= 1
        if feed < 0 { feed += Self.length }
        let x = vec[feed] &+ vec[tap]
        vec[feed] = x
        return x
    }

    /// Go's `Int63`: a non-negative 63-bit integer.
    public mutating func int63() -> Int64 { Int64(bitPattern: uint64() & (UInt64.max >> 1)) }
    /// Go's `Int` on a 64-bit platform (same as `Int63`).
    public mutating func int() -> Int { Int(int63()) }
    /// Go's `Int31`.
    public mutating func int31() -> Int32 { Int32(truncatingIfNeeded: int63() >> 32) }
    /// Go's `Uint32`.
    public mutating func uint32() -> UInt32 { UInt32(truncatingIfNeeded: int63() >> 31) }

    /// Go's `Int31n`: uniform in 0..<n, by rejection (powers of two take the low bits).
    public mutating func int31n(_ n: Int32) -> Int32 {
        precondition(n > 0, "int31n needs n > 0")
        if n & (n - 1) == 0 { return int31() & (n - 1) }
        let max = Int32(truncatingIfNeeded: Int64(1 << 31) - 1 - Int64(UInt32(1 << 31) % UInt32(n)))
        var v = int31()
        while v > max { v = int31() }
        return v % n
    }

    /// Go's `Intn` for n below 2³¹ (every caller here).
    public mutating func intn(_ n: Int) -> Int {
        precondition(n > 0 && n <= Int(Int32.max), "intn needs 0 < n < 2^31")
        return Int(int31n(Int32(n)))
    }

    /// Go's unexported `int31n` (Lemire's multiply-shift), used by `Shuffle`.
    mutating func lemireInt31n(_ n: Int32) -> Int32 {
        var v = uint32()
        var prod = UInt64(v) * UInt64(n)
        var low = UInt32(truncatingIfNeeded: prod)
        if low < UInt32(n) {
            let thresh = UInt32(bitPattern: -n) % UInt32(n)
            while low < thresh {
                v = uint32()
                prod = UInt64(v) * UInt64(n)
                low = UInt32(truncatingIfNeeded: prod)
            }
        }
        return Int32(truncatingIfNeeded: prod >> 32)
    }

    /// Go's `Perm(n)`: a permutation of 0..<n, one `Intn(i + 1)` for every i from 0 (Go keeps
    /// the useless first draw for compatibility, so the generator's state after it matches Go's).
    public mutating func perm(_ n: Int) -> [Int] {
        var m = [Int](repeating: 0, count: n)
        for i in 0..<n {
            let j = intn(i + 1)
            m[i] = m[j]
            m[j] = i
        }
        return m
    }

    /// Go's `Shuffle(n, swap)` for n below 2³¹: Fisher–Yates from the end.
    public mutating func shuffle<T>(_ a: inout [T]) {
        var i = a.count - 1
        while i > 0 {
            let j = Int(lemireInt31n(Int32(i + 1)))
            a.swapAt(i, j)
            i -= 1
        }
    }
}
