/// A set of small non-negative integers (PU numbers, NUMA node numbers, GPU indices).
///
/// Stored as 64-bit words; printed and parsed in the Linux list format (`0-3,8,10-11`)
/// that `/proc/self/status`, `taskset` and hwloc use.
public struct IndexSet64: Hashable, Sendable, Codable, CustomStringConvertible, Sequence {
    @usableFromInline var words: [UInt64]

    public init() { words = [] }
    public init<S: Sequence>(_ members: S) where S.Element == Int {
        words = []
        for m in members { insert(m) }
    }

    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }
    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    public func contains(_ i: Int) -> Bool {
        guard i >= 0 else { return false }
        let w = i >> 6
        return w < words.count && words[w] & (1 << UInt64(i & 63)) != 0
    }
    public mutating func insert(_ i: Int) {
        precondition(i >= 0, "negative index")
        let w = i >> 6
        if w >= words.count { words.append(contentsOf: repeatElement(0, count: w - words.count + 1)) }
        words[w] |= 1 << UInt64(i & 63)
    }
    public mutating func remove(_ i: Int) {
        let w = i >> 6
        guard i >= 0, w < words.count else { return }
        words[w] &= ~(1 << UInt64(i & 63))
        trim()
    }
    private mutating func trim() { while let last = words.last, last == 0 { words.removeLast() } }

    public func union(_ o: IndexSet64) -> IndexSet64 {
        var r = self
        r.formUnion(o)
        return r
    }
    public mutating func formUnion(_ o: IndexSet64) {
        if o.words.count > words.count { words.append(contentsOf: repeatElement(0, count: o.words.count - words.count)) }
        for i in o.words.indices { words[i] |= o.words[i] }
    }
    public func intersection(_ o: IndexSet64) -> IndexSet64 {
        var r = IndexSet64()
        let n = Swift.min(words.count, o.words.count)
        r.words = (0..<n).map { words[$0] & o.words[$0] }
        r.trim()
        return r
    }
    public func subtracting(_ o: IndexSet64) -> IndexSet64 {
        var r = self
        for i in 0..<Swift.min(words.count, o.words.count) { r.words[i] &= ~o.words[i] }
        r.trim()
        return r
    }
    /// Whether every member is also in `o` (no allocation).
    public func isSubset(of o: IndexSet64) -> Bool {
        for i in words.indices where words[i] & ~(i < o.words.count ? o.words[i] : 0) != 0 { return false }
        return true
    }
    /// Whether no member is in `o` (no allocation).
    public func isDisjoint(with o: IndexSet64) -> Bool {
        for i in 0..<Swift.min(words.count, o.words.count) where words[i] & o.words[i] != 0 { return false }
        return true
    }
    /// `intersection(o).count` without building the intersection.
    public func intersectionCount(_ o: IndexSet64) -> Int {
        var n = 0
        for i in 0..<Swift.min(words.count, o.words.count) { n += (words[i] & o.words[i]).nonzeroBitCount }
        return n
    }
    /// Removes every member of `o` in place.
    public mutating func subtract(_ o: IndexSet64) {
        for i in 0..<Swift.min(words.count, o.words.count) { words[i] &= ~o.words[i] }
        trim()
    }

    /// Members in ascending order.
    public var members: [Int] { Array(self) }

    public func makeIterator() -> Iterator { Iterator(words: words) }

    /// Walks the members in ascending order, word by word (no allocation).
    public struct Iterator: IteratorProtocol {
        let words: [UInt64]
        var wordIndex = 0
        var current: UInt64
        init(words: [UInt64]) {
            self.words = words
            current = words.first ?? 0
        }
        public mutating func next() -> Int? {
            while wordIndex < words.count {
                if current != 0 {
                    let bit = current.trailingZeroBitCount
                    current &= current - 1
                    return wordIndex * 64 + bit
                }
                wordIndex += 1
                current = wordIndex < words.count ? words[wordIndex] : 0
            }
            return nil
        }
    }

    /// Linux list format: `0-3,8`. Empty set prints as an empty string.
    public var description: String {
        var parts: [String] = []
        var start = -1, prev = -2
        for m in self {
            if m == prev + 1 { prev = m; continue }
            if start >= 0 { parts.append(start == prev ? "\(start)" : "\(start)-\(prev)") }
            start = m; prev = m
        }
        if start >= 0 { parts.append(start == prev ? "\(start)" : "\(start)-\(prev)") }
        return parts.joined(separator: ",")
    }

    /// Inserts every member of `r`, a word at a time.
    public mutating func insert(range r: ClosedRange<Int>) {
        precondition(r.lowerBound >= 0, "negative index")
        let first = r.lowerBound >> 6, last = r.upperBound >> 6
        if last >= words.count { words.append(contentsOf: repeatElement(0, count: last - words.count + 1)) }
        for w in first...last {
            var mask = UInt64.max
            if w == first { mask &= .max << UInt64(r.lowerBound & 63) }
            if w == last { mask &= .max >> UInt64(63 - (r.upperBound & 63)) }
            words[w] |= mask
        }
    }

    /// Parses the Linux list format (`0-3,8`); returns nil on malformed input.
    /// The ranges are merged, then filled a word at a time, so the work follows the text's length,
    /// not the members it names: filled one member at a time, a 4 KiB line of `0-1048575,...`
    /// from any peer took 40 s in the fuzz target (FuzzRegressionTests).
    public init?(listFormat text: String) {
        self.init()
        let trimmed = text.filter { !$0.isWhitespace }
        if trimmed.isEmpty { return }
        var ranges: [ClosedRange<Int>] = []
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count == 1 || bounds.count == 2,
                  let lo = Int(bounds[0]), lo >= 0, lo < 1 << 20 else { return nil }
            let hi = bounds.count == 2 ? Int(bounds[1]) : lo
            guard let hi, hi >= lo, hi < 1 << 20 else { return nil }
            ranges.append(lo...hi)
        }
        ranges.sort { $0.lowerBound < $1.lowerBound }
        var current = ranges[0]
        for r in ranges.dropFirst() {
            if r.lowerBound <= current.upperBound + 1 {
                current = current.lowerBound...Swift.max(current.upperBound, r.upperBound)
            } else {
                insert(range: current)
                current = r
            }
        }
        insert(range: current)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let s = IndexSet64(listFormat: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad list format '\(text)'"))
        }
        self = s
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// A set of processing units (hardware threads), by OS index.
public typealias CPUSet = IndexSet64
/// A set of NUMA nodes, by OS index.
public typealias NUMASet = IndexSet64
