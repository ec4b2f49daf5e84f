import Foundation
import GRDB
import SchedCore
import SchedProtocol

/// The embedded store: one SQLite file (WAL, synchronous=FULL) in schedd's state directory,
/// opened as a GRDB `DatabasePool` (one writer, concurrent readers).
///
/// Records are kept as JSON beside the few columns that queries filter on, so the schema
/// follows the wire types without a migration per field.
public final class SQLiteStore: SchedulerStore {
    /// A pool: WAL lets reads (the placement log, `explain`) run beside a write in progress
    /// instead of waiting for schedd's store-writer thread.
    let db: DatabasePool

    /// Opens (or creates) the database at `path`.
    public init(path: String) throws {
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        config.busyMode = .timeout(5)
        do {
            db = try DatabasePool(path: path, configuration: config)
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
        m.registerMigration("v2-audit") { db in
            try db.execute(sql: """
                CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, time_ms INTEGER NOT NULL, data TEXT NOT NULL);
                CREATE INDEX audit_time ON audit(time_ms);
                """)
        }
        // Trust: token hashes (never the secrets) and the cluster's CA.
        m.registerMigration("v2-trust") { db in
            try db.execute(sql: """
                CREATE TABLE tokens (id INTEGER PRIMARY KEY AUTOINCREMENT, hash TEXT NOT NULL UNIQUE,
                    kind TEXT NOT NULL CHECK (kind IN ('admin', 'client', 'agent')), tenant TEXT, role TEXT, unix_user TEXT,
                    created_at INTEGER NOT NULL, expires_at INTEGER, uses_left INTEGER, revoked_at INTEGER);
                CREATE TABLE cluster_identity (id INTEGER PRIMARY KEY CHECK (id = 1), ca_cert_pem TEXT NOT NULL,
                    ca_key_pem TEXT NOT NULL);
                """)
        }
        registerNodeCertificateMigration(&m)
        return m
    }

    public func insertJob(_ make: (JobID) -> JobInfo) throws -> JobInfo {
        try db.write { db in
            try db.execute(sql: "INSERT INTO jobs (state, data) VALUES ('pending', '{}')")
            let job = make(JobID(db.lastInsertedRowID))
            try db.execute(sql: "UPDATE jobs SET state = ?, node = ?, data = ? WHERE id = ?",
                           arguments: [job.state.rawValue, job.node?.rawValue, job.recordJSON, job.id.rawValue])
            return job
        }
    }

    public func insertJobs(count: Int, _ make: (JobID, Int) -> JobInfo) throws -> [JobInfo] {
        try db.write { db in
            var out: [JobInfo] = []
            out.reserveCapacity(count)
            // Ids are assigned here, inside the write transaction, as AUTOINCREMENT would: one
            // statement and one encoding per job instead of an insert and an update.
            let base = try Self.lastRowID(db, table: "jobs", column: "id")
            let insert = try db.cachedStatement(sql: "INSERT INTO jobs (id, state, node, data) VALUES (?, ?, ?, ?)")
            for i in 0..<count {
                let job = make(JobID(base + Int64(i) + 1), i)
                try insert.execute(arguments: [job.id.rawValue, job.state.rawValue, job.node?.rawValue, job.recordJSON])
                out.append(job)
            }
            return out
        }
    }

    public func commit(jobs: [JobInfo], nodes: [StoredNode], placements: [PlacementRecord], audit: [AuditRecord]) throws -> [PlacementRecord] {
        try db.write { db in
            try Self.insert(audit, db)
            let encoder = RecordEncoder()
            let update = try db.cachedStatement(sql: "UPDATE jobs SET state = ?, node = ?, data = ? WHERE id = ?")
            for job in jobs {
                try update.execute(arguments: [job.state.rawValue, job.node?.rawValue, job.recordJSON, job.id.rawValue])
                if db.changesCount != 1 { throw StoreError("job \(job.id) is not in the store") }
            }
            let saveNode = try db.cachedStatement(sql: "INSERT INTO nodes (name, data) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET data = excluded.data")
            for node in nodes { try saveNode.execute(arguments: [node.name.rawValue, encoder.json(node)]) }
            var out: [PlacementRecord] = []
            out.reserveCapacity(placements.count)
            guard !placements.isEmpty else { return out }
            // The seq is the row id, assigned here inside the write transaction as AUTOINCREMENT
            // would, so that each record is encoded once, with its seq, and inserted in one statement.
            var seq = try Self.lastRowID(db, table: "placements", column: "seq")
            let insert = try db.cachedStatement(sql: "INSERT INTO placements (seq, job, node, data) VALUES (?, ?, ?, ?)")
            for record in placements {
                seq += 1
                var r = record
                r.seq = seq
                try insert.execute(arguments: [seq, r.job.rawValue, r.node?.rawValue, r.recordJSON])
                out.append(r)
            }
            return out
        }
    }

    public func updateJob(_ job: JobInfo) throws {
        try db.write { db in
            try db.execute(sql: "UPDATE jobs SET state = ?, node = ?, data = ? WHERE id = ?",
                           arguments: [job.state.rawValue, job.node?.rawValue, job.recordJSON, job.id.rawValue])
            if db.changesCount != 1 { throw StoreError("job \(job.id) is not in the store") }
        }
    }

    public func job(_ id: JobID) throws -> JobInfo? {
        try db.read { db in
            try String.fetchOne(db, sql: "SELECT data FROM jobs WHERE id = ?", arguments: [id.rawValue])
                .map { try LineCodec.fromJSON(JobInfo.self, $0) }
        }
    }

    /// Walks the table newest first and stops at `limit` (`+state` keeps SQLite off the state
    /// index, which would read every finished job into a sort).
    public func jobs(states: [JobState]?, limit: Int) throws -> [JobInfo] {
        try db.read { db in
            let rows: [String]
            if let states {
                guard !states.isEmpty else { return [] }
                let marks = Array(repeating: "?", count: states.count).joined(separator: ", ")
                rows = try String.fetchAll(db, sql: "SELECT data FROM jobs WHERE +state IN (\(marks)) ORDER BY id DESC LIMIT ?",
                                           arguments: StatementArguments(states.map { $0.rawValue as any DatabaseValueConvertible } + [limit]))
            } else {
                rows = try String.fetchAll(db, sql: "SELECT data FROM jobs ORDER BY id DESC LIMIT ?", arguments: [limit])
            }
            return try rows.map { try LineCodec.fromJSON(JobInfo.self, $0) }
        }
    }

    public func unfinishedAndRecentJobs(finishedSinceMs: Int64) throws -> [JobInfo] {
        let finished = JobState.allCases.filter(\.isTerminal).map { "'\($0.rawValue)'" }.joined(separator: ", ")
        return try db.read { db in
            try String.fetchAll(db, sql: """
                SELECT data FROM jobs
                WHERE state NOT IN (\(finished))
                   OR coalesce(json_extract(data, '$.finishedAtMs'), 9223372036854775807) >= ?
                ORDER BY id
                """, arguments: [finishedSinceMs]).map { try LineCodec.fromJSON(JobInfo.self, $0) }
        }
    }

    public func jobCount() throws -> Int {
        try db.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs") ?? 0 }
    }

    /// Read with SQLite's JSON functions: no `JobInfo` is decoded.
    public func recentRequests(limit: Int) throws -> [ResourceRequest] {
        try db.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT json_extract(data, '$.spec.resources.cpus') AS cpus,
                       json_extract(data, '$.spec.resources.memoryBytes') AS memory,
                       json_extract(data, '$.spec.resources.gpus') AS gpus,
                       json_extract(data, '$.spec.resources.gpuMilli') AS milli,
                       json_extract(data, '$.spec.resources.gpuModel') AS model
                FROM (SELECT id, data FROM jobs ORDER BY id DESC LIMIT ?) ORDER BY id
                """, arguments: [limit])
            return rows.map { r in
                ResourceRequest(cpus: r["cpus"] ?? 1, memoryBytes: r["memory"] ?? 0, gpus: r["gpus"] ?? 0,
                                gpuModel: r["model"], gpuMilli: r["milli"] ?? 1000)
            }
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
            try db.execute(sql: "UPDATE placements SET data = ? WHERE seq = ?", arguments: [r.recordJSON, r.seq])
            return r
        }
    }

    public func placements(_ q: LogQuery) throws -> [PlacementRecord] {
        var filter = "seq > ?"
        var args: [(any DatabaseValueConvertible)?] = [q.after ?? 0]
        if let j = q.job { filter += " AND job = ?"; args.append(j.rawValue) }
        if let n = q.node { filter += " AND node = ?"; args.append(n.rawValue) }
        if let t = q.tenant { filter += " AND json_extract(data, '$.tenant') = ?"; args.append(t) }
        args.append(min(max(q.limit ?? 10_000, 1), 100_000))
        // The newest `limit` records, returned oldest first.
        let sql = "SELECT data FROM (SELECT seq, data FROM placements WHERE \(filter) ORDER BY seq DESC LIMIT ?) ORDER BY seq"
        return try db.read { db in
            try String.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map { try LineCodec.fromJSON(PlacementRecord.self, $0) }
        }
    }

    public func appendAudit(_ records: [AuditRecord]) throws {
        try db.write { db in try Self.insert(records, db) }
    }

    static func insert(_ audit: [AuditRecord], _ db: Database) throws {
        guard !audit.isEmpty else { return }
        let statement = try db.cachedStatement(sql: "INSERT INTO audit (time_ms, data) VALUES (?, ?)")
        for a in audit { try statement.execute(arguments: [a.timeMs, LineCodec.json(a)]) }
    }

    public func auditRecords(sinceMs: Int64?, limit: Int) throws -> [AuditRecord] {
        let sql = "SELECT seq, data FROM (SELECT seq, data FROM audit WHERE time_ms >= ? ORDER BY seq DESC LIMIT ?) ORDER BY seq"
        return try db.read { db in
            try Row.fetchAll(db, sql: sql, arguments: [sinceMs ?? Int64.min, min(max(limit, 1), 100_000)]).map { row in
                var r = try LineCodec.fromJSON(AuditRecord.self, row["data"] as String)
                r.seq = row["seq"]
                return r
            }
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

extension SQLiteStore {
    /// The largest row id the AUTOINCREMENT column `column` of `table` has used: the larger of
    /// `sqlite_sequence`'s entry and the column's maximum (what SQLite itself takes, minus one).
    /// Call inside the write transaction that inserts the next rows.
    static func lastRowID(_ db: Database, table: String, column: String) throws -> Int64 {
        let used = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = ?", arguments: [table]) ?? 0
        let present = try Int64.fetchOne(db, sql: "SELECT MAX(\(column)) FROM \(table)") ?? 0
        return max(used, present)
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
