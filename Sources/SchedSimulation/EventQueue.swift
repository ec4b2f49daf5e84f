/// Events of the simulated world ordered by time, ties broken by the order they were scheduled,
/// so a run depends on nothing but its seed. A binary heap.
struct EventQueue<Element> {
    private var heap: [(at: Int64, seq: UInt64, element: Element)] = []
    private var seq: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }

    mutating func push(_ element: Element, at: Int64) {
        seq &+= 1
        heap.append((at, seq, element))
        var i = heap.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard Self.less(heap[i], heap[p]) else { break }
            heap.swapAt(i, p)
            i = p
        }
    }

    mutating func pop() -> (at: Int64, element: Element)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count, Self.less(heap[l], heap[m]) { m = l }
            if r < heap.count, Self.less(heap[r], heap[m]) { m = r }
            guard m != i else { break }
            heap.swapAt(i, m)
            i = m
        }
        return (top.at, top.element)
    }

    mutating func removeAll() { heap.removeAll(keepingCapacity: true) }

    private static func less(_ a: (at: Int64, seq: UInt64, element: Element), _ b: (at: Int64, seq: UInt64, element: Element)) -> Bool {
        a.at != b.at ? a.at < b.at : a.seq < b.seq
    }
}
