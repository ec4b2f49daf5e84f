import Foundation
import SchedCore
import SchedProtocol
import Testing
import SchedIntegrationSupport

/// Tokens, tenants and roles through the real schedctl and schedd over TLS.
extension Integration {
@Suite(.serialized)
struct TenantIntegrationTests {
    @Test("a tenant's token submits as its tenant and Unix user; another tenant sees nothing; a viewer cannot submit; a revoked token is refused; all audited")
    func tenantsAreIsolated() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        func token(_ args: [String]) throws -> String {
            let (s, out, err) = try c.schedctl(["token", "create"] + args)
            guard s == 0 else { throw TestFailure("token create failed: \(err)") }
            return out.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let alice = try token(["--tenant", "team-a", "--role", "submitter", "--user", "daemon"])
        let bob = try token(["--tenant", "team-b", "--role", "viewer"])
        #expect(alice.hasPrefix("sched_") && alice != bob)

        let (s1, out1, err1) = try c.schedctl(["run", "--wait", "--", "true"], environment: ["SCHED_TOKEN": alice])
        #expect(s1 == 0, "\(err1)")
        #expect(out1.contains("completed"))
        let job = try await c.job(JobID(1))
        #expect(job.spec.tenant == "team-a")
        #expect(job.runAs == "daemon")
        #expect(job.hostBinding?.uid == 1, "the task ran as daemon (uid 1)")

        let (s2, _, err2) = try c.schedctl(["show", "1"], environment: ["SCHED_TOKEN": bob])
        #expect(s2 != 0 && err2.contains("no job 1"))
        let (_, list, _) = try c.schedctl(["jobs", "-o", "json"], environment: ["SCHED_TOKEN": bob])
        #expect(try JSONDecoder().decode([JobInfo].self, from: Data(list.utf8)).isEmpty)
        let (s3, _, err3) = try c.schedctl(["run", "--", "true"], environment: ["SCHED_TOKEN": bob])
        #expect(s3 != 0 && err3.contains("SUBMIT needs role submitter"))

        let (_, tokensJSON, _) = try c.schedctl(["token", "list", "-o", "json"])
        let tokens = try JSONDecoder().decode([TokenInfo].self, from: Data(tokensJSON.utf8))
        let bobID = try #require(tokens.first { $0.tenant == "team-b" }?.id)
        let (s4, _, _) = try c.schedctl(["token", "revoke", "\(bobID)"])
        #expect(s4 == 0)
        let (s5, _, err5) = try c.schedctl(["jobs"], environment: ["SCHED_TOKEN": bob])
        #expect(s5 != 0 && err5.contains("revoked"))

        let (_, auditJSON, _) = try c.schedctl(["audit", "-o", "json"])
        let audit = try JSONDecoder().decode([AuditRecord].self, from: Data(auditJSON.utf8)).map { "\($0.verb) \($0.outcome)" }
        #expect(audit.filter { $0.hasPrefix("TOKEN_CREATE") }.count == 2)
        #expect(audit.contains("SUBMIT ok") && audit.contains("SUBMIT forbidden") && audit.contains("TOKEN_REVOKE ok"))
    }

    @Test("a job's environment is its tenant's secret: the tenant and its submitter read the values, a cluster admin gets the names only; no log holds them")
    func environmentIsSecret() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let (st, out, err) = try c.schedctl(["token", "create", "--tenant", "team-a", "--role", "submitter"])
        #expect(st == 0, "\(err)")
        let alice = out.trimmingCharacters(in: .whitespacesAndNewlines)
        let (sv, outv, _) = try c.schedctl(["token", "create", "--tenant", "team-a", "--role", "viewer"])
        #expect(sv == 0)
        let viewer = outv.trimmingCharacters(in: .whitespacesAndNewlines)
        let secret = "s3cr3t-\(UUID().uuidString)"
        let spec = c.dir + "/secret.yaml"
        try "command: [sh, -c, 'printf %s \"$API_KEY\"']\nenv:\n  API_KEY: \(secret)\n".write(toFile: spec, atomically: true, encoding: .utf8)
        let (s1, _, e1) = try c.schedctl(["submit", spec, "--wait"], environment: ["SCHED_TOKEN": alice])
        #expect(s1 == 0, "\(e1)")
        #expect(c.read(try #require(try await c.job(JobID(1)).stdoutPath)) == secret, "the task got its environment")
        for token in [alice, viewer] {
            let (_, json, _) = try c.schedctl(["show", "1", "-o", "json"], environment: ["SCHED_TOKEN": token])
            #expect(try JSONDecoder().decode(JobInfo.self, from: Data(json.utf8)).spec.env == ["API_KEY": secret])
        }
        for args in [["show", "1", "-o", "json"], ["jobs", "-o", "json"]] {
            let (_, json, _) = try c.schedctl(args)      // the admin token: another tenant
            #expect(json.contains("API_KEY") && json.contains("(hidden)") && !json.contains(secret), "\(json)")
        }
        for log in ["schedd.log", "agent-host.log"] {
            #expect(!c.read(c.dir + "/" + log).contains(secret), "\(log) holds the secret")
        }
    }
}
}
