import Testing
import SchedCore

@Suite("IndexSet64 / CPUSet")
struct CPUSetTests {
    // MARK: printing

    @Test("prints the Linux list format", arguments: [
        ([Int](), ""),
        ([0], "0"),
        ([0, 1], "0-1"),
        ([0, 1, 2, 3], "0-3"),
        ([0, 2], "0,2"),
        ([0, 1, 2, 3, 8, 10, 11], "0-3,8,10-11"),
        ([5, 3, 4, 9], "3-5,9"),
        ([62, 63, 64, 65], "62-65"),          // a run across a word boundary
        ([63], "63"),
        ([64], "64"),
        ([0, 127, 128, 200], "0,127-128,200"),
    ])
    func prints(members: [Int], expected: String) {
        #expect(CPUSet(members).description == expected)
        #expect("\(CPUSet(members))" == expected)
    }

    // MARK: parsing

    @Test("parses the Linux list format", arguments: [
        ("", [Int]()),
        ("   ", []),
        ("0", [0]),
        ("0-3", [0, 1, 2, 3]),
        ("0-3,8", [0, 1, 2, 3, 8]),
        ("0-3,8,10-11", [0, 1, 2, 3, 8, 10, 11]),
        ("7-7", [7]),
        ("8,0-1", [0, 1, 8]),                  // out of order
        ("1-3,2-4", [1, 2, 3, 4]),             // overlapping
        ("3,3", [3]),                          // duplicate
        ("0-3\n", [0, 1, 2, 3]),               // as read from /sys
        (" 0 - 1 , 5 ", [0, 1, 5]),            // whitespace is ignored
        ("63-64", [63, 64]),
        ("1048575", [1_048_575]),              // largest accepted index (2^20 - 1)
    ])
    func parses(text: String, expected: [Int]) throws {
        let set = try #require(CPUSet(listFormat: text))
        #expect(set.members == expected)
        #expect(set == CPUSet(expected))
    }

    @Test("malformed list format gives nil", arguments: [
        ",", "0,", ",0", "0,,1", "-", "-1", "1-", "3-1", "1-2-3", "a", "0-a", "x-3", "0x1", "1.5",
        "0;1", "0-3:2", "1048576", "0-1048576", "99999999999999999999",
    ])
    func rejectsMalformed(text: String) {
        #expect(CPUSet(listFormat: text) == nil, "'\(text)' should not parse")
    }

    @Test("print then parse gives the same set (seeded random sets)", arguments: 0..<20)
    func roundTrip(seed: Int) throws {
        var rng = SplitMix64(seed: UInt64(seed))
        var set = CPUSet()
        let n = Int(rng.next(below: 40))
        let span = Int(rng.next(below: 300)) + 1
        for _ in 0..<n { set.insert(Int(rng.next(below: UInt64(span)))) }
        let text = set.description
        let parsed = try #require(CPUSet(listFormat: text), "'\(text)'")
        #expect(parsed == set)
        #expect(parsed.description == text)
    }

    @Test("insert(range:) sets what inserting each member sets (seeded, across word boundaries)", arguments: 0..<20)
    func insertRange(seed: Int) {
        var rng = SplitMix64(seed: UInt64(seed))
        var byRange = CPUSet(), byMember = CPUSet()
        for _ in 0..<Int(rng.next(below: 6)) + 1 {
            let lo = Int(rng.next(below: 300)), hi = lo + Int(rng.next(below: 200))
            byRange.insert(range: lo...hi)
            for i in lo...hi { byMember.insert(i) }
        }
        #expect(byRange == byMember)
        #expect(byRange.description == byMember.description)
    }

    @Test("overlapping ranges in any order parse as their union", arguments: [
        ("5-9,0-3,2-6", Array(0...9)), ("64-127,0-63", Array(0...127)), ("0,2,1", [0, 1, 2]),
        ("10-20,12-13,0-1048575", Array(0...1_048_575)), ("3,1-2,4-4", [1, 2, 3, 4]),
    ])
    func mergesRanges(text: String, expected: [Int]) throws {
        #expect(try #require(CPUSet(listFormat: text)) == CPUSet(expected))
    }

    // MARK: set operations

    @Test func membershipAndCount() {
        var s = CPUSet([1, 64, 200])
        #expect(s.count == 3)
        #expect(s.contains(64))
        #expect(!s.contains(63))
        #expect(!s.contains(-1))
        #expect(!s.contains(10_000))
        s.remove(64)
        s.remove(-5)        // ignored
        s.remove(5_000)     // ignored
        #expect(s.members == [1, 200])
        #expect(!s.isEmpty)
        #expect(CPUSet().isEmpty)
        #expect(CPUSet().count == 0)
    }

    @Test("removing the high members gives a set equal to one built without them")
    func equalityIgnoresTrailingEmptyWords() {
        var s = CPUSet([1, 100, 300])
        s.remove(300)
        s.remove(100)
        #expect(s == CPUSet([1]))
        #expect(s.hashValue == CPUSet([1]).hashValue)
        var t = CPUSet([100])
        t.remove(100)
        #expect(t == CPUSet())
        #expect(t.isEmpty)
    }

    @Test func algebra() {
        let a = CPUSet([0, 1, 2, 3, 64, 65])
        let b = CPUSet([2, 3, 4, 65, 130])
        #expect(a.union(b).members == [0, 1, 2, 3, 4, 64, 65, 130])
        #expect(a.intersection(b).members == [2, 3, 65])
        #expect(a.subtracting(b).members == [0, 1, 64])
        #expect(b.subtracting(a).members == [4, 130])
        #expect(CPUSet([2, 65]).isSubset(of: a))
        #expect(!b.isSubset(of: a))
        #expect(CPUSet().isSubset(of: a))
        #expect(!a.isDisjoint(with: b))
        #expect(CPUSet([5, 6]).isDisjoint(with: a))
        // Results compare equal to freshly built sets (no stray empty words).
        #expect(a.intersection(CPUSet([200])) == CPUSet())
        #expect(CPUSet([200]).subtracting(CPUSet([200])) == CPUSet())
        var u = CPUSet([1])
        u.formUnion(CPUSet([70]))
        #expect(u == CPUSet([1, 70]))
    }

    @Test("iterates members in ascending order")
    func iteratesAscending() {
        let s = CPUSet([130, 5, 64, 0, 63])
        #expect(Array(s) == [0, 5, 63, 64, 130])
        #expect(s.members == [0, 5, 63, 64, 130])
    }
}
