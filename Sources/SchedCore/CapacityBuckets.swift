/// Node positions filed by an integer key (free units of one resource), with O(1) moves and
/// O(log keys) counts.
///
/// Each key has a list of nodes, each entry with a copy of the node's filed free capacity so a
/// walk reads memory in order; a node's slot in its list is kept by the caller so removal is a
/// swap with the last member. A Fenwick tree over the per-key sizes answers "how many nodes have
/// at least k free" and "the largest key below k that has nodes" without a scan.
struct CapacityBuckets: Sendable {
    /// One filed node: its position in the snapshot and its free capacity.
    struct Entry: Sendable {
        var node: Int32
        var keys: CapacityIndex.Keys
    }
    private(set) var lists: [[Entry]]
    private var tree: [Int32]
    private(set) var total = 0

    /// Buckets for keys 0...maxKey (larger keys are filed under `maxKey`).
    init(maxKey: Int) {
        lists = Array(repeating: [], count: max(0, maxKey) + 1)
        tree = Array(repeating: 0, count: max(0, maxKey) + 2)
    }

    var maxKey: Int { lists.count - 1 }

    /// The key a value is filed under.
    func clamp(_ key: Int) -> Int { min(max(0, key), maxKey) }

    mutating func insert(_ node: Int32, keys: CapacityIndex.Keys = CapacityIndex.Keys(), key: Int, slot: inout Int32) {
        let k = clamp(key)
        slot = Int32(lists[k].count)
        lists[k].append(Entry(node: node, keys: keys))
        total += 1
        adjust(k, by: 1)
    }

    /// Removes the node at `slot` of bucket `key`; returns the node moved into that slot, if any.
    mutating func remove(key: Int, slot: Int32) -> Int32? {
        let k = clamp(key)
        let s = Int(slot)
        let last = lists[k].count - 1
        total -= 1
        adjust(k, by: -1)
        if s == last {
            lists[k].removeLast()
            return nil
        }
        let moved = lists[k][last]
        lists[k][s] = moved
        lists[k].removeLast()
        return moved.node
    }

    /// Replaces the filed capacity of the entry at `slot` of bucket `key` (the node stays put).
    mutating func setKeys(_ keys: CapacityIndex.Keys, key: Int, slot: Int32) {
        lists[clamp(key)][Int(slot)].keys = keys
    }

    private mutating func adjust(_ key: Int, by delta: Int32) {
        var i = key + 1
        while i < tree.count {
            tree[i] += delta
            i += i & -i
        }
    }

    /// Nodes filed under keys 0...key.
    private func prefix(_ key: Int) -> Int {
        var i = min(key, maxKey) + 1, n = 0
        while i > 0 {
            n += Int(tree[i])
            i -= i & -i
        }
        return n
    }

    /// Nodes whose key is at least `k`.
    func count(atLeast k: Int) -> Int {
        k <= 0 ? total : (k > maxKey ? 0 : total - prefix(k - 1))
    }

    /// The largest key below `k` that has nodes, or nil.
    func largestKey(below k: Int) -> Int? {
        guard k > 0 else { return nil }
        let target = prefix(k - 1)
        guard target > 0 else { return nil }
        // The smallest key whose prefix reaches `target` (Fenwick descent).
        var pos = 0, rem = target
        var step = 1
        while step * 2 < tree.count { step *= 2 }
        while step > 0 {
            if pos + step < tree.count, Int(tree[pos + step]) < rem {
                pos += step
                rem -= Int(tree[pos])
            }
            step /= 2
        }
        return pos   // tree index pos + 1 is key pos
    }
}
