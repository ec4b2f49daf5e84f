import Foundation
import GRDB
import SchedCore
import SchedProtocol

/// The embedded store: one SQLite file (WAL, synchronous=FULL) in schedd's state directory.
///
/// Records are kept as JSON beside the few columns that queries filter on, so the schema
/// follows the wire types without a migration per field.
public final class SQLiteStore: SchedulerStore {
    private let db: DatabaseQueue

    /// Opens (or creates) the database at `path`.
    public init(path: String) throws {
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        config.busyMode = .timeout(5)
        do {
            db = try DatabaseQueue(path: path, configuration: config)
            _ = try db.writeWithoutTransaction { db in try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL") }
            try Self.migrator.migrate(db)
        } catch {
            throw StoreError("cannot open store \(path): \(error)")
        }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, state TEXT NOT NULL, node TEXT, data TEXT NOT NULL);
                CREATE INDEX jobs_state ON jobs(state);
                CREATE TABLE nodes (name TEXT PRIMARY KEY, data TEXT NOT NULL);
                CREATE TABLE placements (seq INTEGER PRIMARY KEY AUTOINCREMENT, job INTEGER NOT NULL, node TEXT, data TEXT NOT NULL);
                CREATE INDEX placements_job ON placements(job, seq);
                CREATE INDEX placements_node ON placements(node, seq);
                """)
        }
        return m
    }

    public func insertJob(_ make: (JobID) -> JobInfo) throws -> JobInfo {
        try db.write { db in
            try db.execute(sql: "INSERT INTO jobs (state, data) VALUES ('pending', '{}')")
            let job = make(JobID(db.lastInsertedRowID))
            try db.execute(sql: "UPDATE jobs SET state = ?, node = ?, data = ? WHERE id = ?",
                           arguments: [job.state.rawValue, job.node?.rawValue, LineCodec.json(job), job.id.rawValue])
            return job
        }
    }

    public func insertJobs(count: Int, _ make: (JobID, Int) -> JobInfo) throws -> [JobInfo] {
        try db.write { db in
            var out: [JobInfo] = []
            out.reserveCapacity(count)
            let insert = try db.cachedStatement(sql: "INSERT INTO jobs (state, data) VALUES ('pending', '{}')")
            let update = try db.cachedStatement(sql: "UPDATE jobs SET state = ?, node = ?, data = ? WHERE id = ?")
            let encoder = RecordEncoder()
            for i in 0..<count {
                try insert.execute()
                let job = make(JobID(db.lastInsertedRowID), i)
                try update.execute(arguments: [job.state.rawValue, job.node?.rawValue, encoder.json(job), job.id.rawValue])
                out.append(job)
            }
            return out
        }
    }

    public func commit(jobs: [JobInfo], nodes: [StoredNode], placements: [PlacementRecord]) throws -> [PlacementRecord] {
        try db.write { db in
            let encoder = RecordEncoder()
            let update = try db.cachedStatement(sql: "UPDATE jobs SET state = ?, node = ?, data = ? WHERE id = ?")
            for job in jobs {
                try update.execute(arguments: [job.state.rawValue, job.node?.rawValue, encoder.json(job), job.id.rawValue])
                if db.changesCount != 1 { throw StoreError("job \(job.id) is not in the store") }
            }
            let saveNode = try db.cachedStatement(sql: "INSERT INTO nodes (name, data) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET data = excluded.data")
            for node in nodes { try saveNode.execute(arguments: [node.name.rawValue, encoder.json(node)]) }
            let insert = try db.cachedStatement(sql: "INSERT INTO placements (job, node, data) VALUES (?, ?, ?)")
            var out: [PlacementRecord] = []
            out.reserveCapacity(placements.count)
            // The seq is the row id, known only after the insert: reserve the row, then write the record with it.
            let fill = try db.cachedStatement(sql: "UPDATE placements SET data = ? WHERE seq = ?")
            for record in placements {
                try insert.execute(arguments: [record.job.rawValue, record.node?.rawValue, "{}"])
                var r = record
                r.seq = db.lastInsertedRowID
                try fill.execute(arguments: [encoder.json(r), r.seq])
                out.append(r)
            }
            return out
        }
    }

    public func updateJob(_ job: JobInfo) throws {
        try db.write { db in
            try db.execute(sql: "UPDATE jobs SET state = ?, node = ?, data = ? WHERE id = ?",
                           arguments: [job.state.rawValue, job.node?.rawValue, LineCodec.json(job), job.id.rawValue])
            if db.changesCount != 1 { throw StoreError("job \(job.id) is not in the store") }
        }
    }

    public func allJobs() throws -> [JobInfo] {
        try db.read { db in
            try String.fetchAll(db, sql: "SELECT data FROM jobs ORDER BY id").map { try LineCodec.fromJSON(JobInfo.self, $0) }
        }
    }

    public func appendPlacement(_ record: PlacementRecord) throws -> PlacementRecord {
        try db.write { db in
            try db.execute(sql: "INSERT INTO placements (job, node, data) VALUES (?, ?, '{}')",
                           arguments: [record.job.rawValue, record.node?.rawValue])
            var r = record
            r.seq = db.lastInsertedRowID
            try db.execute(sql: "UPDATE placements SET data = ? WHERE seq = ?", arguments: [LineCodec.json(r), r.seq])
            return r
        }
    }

    public func placements(_ q: LogQuery) throws -> [PlacementRecord] {
        var filter = "seq > ?"
        var args: [(any DatabaseValueConvertible)?] = [q.after ?? 0]
        if let j = q.job { filter += " AND job = ?"; args.append(j.rawValue) }
        if let n = q.node { filter += " AND node = ?"; args.append(n.rawValue) }
        args.append(min(max(q.limit ?? 10_000, 1), 100_000))
        // The newest `limit` records, returned oldest first.
        let sql = "SELECT data FROM (SELECT seq, data FROM placements WHERE \(filter) ORDER BY seq DESC LIMIT ?) ORDER BY seq"
        return try db.read { db in
            try String.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map { try LineCodec.fromJSON(PlacementRecord.self, $0) }
        }
    }

    public func saveNode(_ node: StoredNode) throws {
        try db.write { db in
            try db.execute(sql: "INSERT INTO nodes (name, data) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET data = excluded.data",
                           arguments: [node.name.rawValue, LineCodec.json(node)])
        }
    }

    public func allNodes() throws -> [StoredNode] {
        try db.read { db in
            try String.fetchAll(db, sql: "SELECT data FROM nodes ORDER BY name").map { try LineCodec.fromJSON(StoredNode.self, $0) }
        }
    }
}

/// One JSON encoder reused for every record of a transaction. Keys are not sorted (nobody
/// compares stored text, and sorting them costs a fifth of the encoding time).
struct RecordEncoder {
    let encoder: JSONEncoder
    init() {
        encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
    }
    func json<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
