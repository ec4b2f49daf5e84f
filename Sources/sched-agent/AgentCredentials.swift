import ArgumentParser
import Foundation
import SchedNet

/// What the agent shows schedd and what it trusts: the CA (`--ca`, `$SCHED_CA`, then
/// `/var/lib/schedd/ca.pem`) and the token (`--token-file`, then `$SCHED_TOKEN`, which is
/// removed from the environment once read so that no task inherits it). Never a token in argv.
struct AgentCredentials {
    let caFile: String
    let tls: TLSClientConfiguration
    let token: String

    init(caFlag: String?, tokenFile: String?) throws {
        let env = ProcessInfo.processInfo.environment
        caFile = caFlag ?? env["SCHED_CA"].flatMap { $0.isEmpty ? nil : $0 } ?? "/var/lib/schedd/ca.pem"
        let pem: String
        do {
            pem = try String(contentsOfFile: caFile, encoding: .utf8)
        } catch {
            throw ValidationError("cannot read the CA file \(caFile): \(error.localizedDescription) "
                + "(schedd writes ca.pem in its state directory; pass --ca FILE or set SCHED_CA)")
        }
        do {
            tls = try TLSClientConfiguration(trustRootsPEM: pem)
        } catch {
            throw ValidationError("\(caFile): \(error)")
        }
        let text: String
        if let tokenFile {
            do {
                text = try String(contentsOfFile: tokenFile, encoding: .utf8)
            } catch {
                throw ValidationError("cannot read the token file \(tokenFile): \(error.localizedDescription)")
            }
        } else if let t = env["SCHED_TOKEN"], !t.isEmpty {
            text = t
        } else {
            throw ValidationError("no token: pass --token-file FILE (schedd writes a cluster-admin token to admin.token "
                + "in its state directory) or set SCHED_TOKEN")
        }
        unsetenv("SCHED_TOKEN")
        token = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard !token.isEmpty else { throw ValidationError("the token is empty") }
    }
}
