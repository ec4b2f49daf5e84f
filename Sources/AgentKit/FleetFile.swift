import Foundation
import Yams

/// `sched-agent --fleet FLEET.yaml`: how many nodes of which kinds one process emulates.
///
/// ```yaml
/// kinds:
///   - name: vr                  # nodes vr-00000, vr-00001, ...
///     count: 36
///     builtin: vera-rubin-tray  # or  xml: path/to/hwloc.xml
///     nvlink-domain-size: 18    # label nvlink.domain=vr-rack-0000 for the first 18, ...
///   - name: gv
///     count: 64
///     builtin: graviton-192
///     labels: {pool: inference}
/// ```
public struct FleetFile: Sendable, Hashable {
    /// One kind of node and how many of it.
    public struct Kind: Sendable, Hashable {
        public var name: String
        public var count: Int
        /// Where its topology comes from.
        public var source: BuiltinTopology.Source
        /// Nodes per NVLink domain (rack); nil for none.
        public var nvlinkDomainSize: Int?
        public var labels: [String: String]
        public init(name: String, count: Int, source: BuiltinTopology.Source, nvlinkDomainSize: Int?, labels: [String: String]) {
            self.name = name
            self.count = count
            self.source = source
            self.nvlinkDomainSize = nvlinkDomainSize
            self.labels = labels
        }
    }

    public var kinds: [Kind]

    /// Total nodes.
    public var nodeCount: Int { kinds.reduce(0) { $0 + $1.count } }

    /// Parses a fleet file; `baseDirectory` resolves relative `xml:` paths.
    public init(yaml text: String, baseDirectory: String) throws(FleetFileError) {
        let root: Any?
        do { root = try Yams.load(yaml: text) } catch { throw FleetFileError("not YAML: \(error)") }
        guard let map = root as? [String: Any], let list = map["kinds"] as? [Any], !list.isEmpty else {
            throw FleetFileError("expected a top-level 'kinds:' list with at least one kind")
        }
        let known: Set<String> = ["name", "count", "builtin", "xml", "nvlink-domain-size", "labels"]
        var kinds: [Kind] = []
        var names = Set<String>()
        for (i, item) in list.enumerated() {
            let at = "kinds[\(i)]"
            guard let k = item as? [String: Any] else { throw FleetFileError("\(at): expected a map") }
            if let bad = k.keys.sorted().first(where: { !known.contains($0) }) {
                throw FleetFileError("\(at): unknown field '\(bad)' (fields: \(known.sorted().joined(separator: ", ")))")
            }
            guard let name = k["name"] as? String, !name.isEmpty,
                  name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
                throw FleetFileError("\(at).name: expected a name of letters, digits, '-', '_' or '.'")
            }
            guard names.insert(name).inserted else { throw FleetFileError("\(at).name: '\(name)' used twice") }
            guard let count = k["count"] as? Int, (1...100_000).contains(count) else {
                throw FleetFileError("\(at).count: expected a whole number from 1 to 100000")
            }
            let source: BuiltinTopology.Source
            switch (k["builtin"], k["xml"]) {
            case (let b as String, nil):
                guard let builtin = BuiltinTopology(rawValue: b) else {
                    throw FleetFileError("\(at).builtin: unknown '\(b)'; built-in kinds: \(BuiltinTopology.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                source = .builtin(builtin)
            case (nil, let x as String):
                source = .xml(x.hasPrefix("/") ? x : baseDirectory + "/" + x)
            default:
                throw FleetFileError("\(at): give exactly one of 'builtin:' or 'xml:'")
            }
            var domain: Int?
            if let d = k["nvlink-domain-size"] {
                guard let d = d as? Int, d >= 1 else { throw FleetFileError("\(at).nvlink-domain-size: expected a whole number >= 1") }
                domain = d
            }
            var labels: [String: String] = [:]
            if let l = k["labels"] {
                guard let l = l as? [String: Any] else { throw FleetFileError("\(at).labels: expected a map of KEY: VALUE") }
                for (key, v) in l { labels[key] = "\(v)" }
            }
            kinds.append(Kind(name: name, count: count, source: source, nvlinkDomainSize: domain, labels: labels))
        }
        guard kinds.reduce(0, { $0 + $1.count }) <= 100_000 else { throw FleetFileError("more than 100000 nodes in all") }
        self.kinds = kinds
    }

    /// Reads and parses a fleet file.
    public init(path: String) throws(FleetFileError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw FleetFileError("cannot read \(path)") }
        do {
            try self.init(yaml: String(decoding: data, as: UTF8.self),
                          baseDirectory: (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent)
        } catch {
            throw FleetFileError("\(path): \(error.message)")
        }
    }

    public init(kinds: [Kind]) { self.kinds = kinds }

    /// Every node of the fleet: its name and labels, in file order. Names are
    /// `<kind>-<index>`, the index zero-padded to 5 digits so names sort numerically.
    public func nodes() -> [(kind: Int, name: String, labels: [String: String])] {
        var out: [(Int, String, [String: String])] = []
        for (k, kind) in kinds.enumerated() {
            for i in 0..<kind.count {
                var labels = kind.labels
                if let d = kind.nvlinkDomainSize { labels["nvlink.domain"] = "\(kind.name)-rack-\(Self.pad(i / d, 4))" }
                out.append((k, "\(kind.name)-\(Self.pad(i, 5))", labels))
            }
        }
        return out
    }

    static func pad(_ v: Int, _ n: Int) -> String {
        let s = String(v)
        return s.count >= n ? s : String(repeating: "0", count: n - s.count) + s
    }
}

/// A fleet file problem, with the field it concerns.
public struct FleetFileError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
