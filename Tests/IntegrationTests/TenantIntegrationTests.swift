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
}
}
