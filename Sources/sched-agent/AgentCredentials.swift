import AgentKit
import ArgumentParser
import Foundation
import SchedCore
import SchedNet

/// What the agent shows schedd and what it trusts: the CA (`--ca`, `$SCHED_CA`, then
/// `/var/lib/schedd/ca.pem`); a join token (`--join-token`, `--join-token-file`, then
/// `$SCHED_JOIN_TOKEN`); a token for every HELLO (`--token-file`, then `$SCHED_TOKEN`). Both
/// variables are removed from the environment once read so that no task inherits them, and a
/// `--join-token` given in argv is overwritten there (what `/proc/PID/cmdline` shows).
struct AgentCredentials {
    let caFile: String
    let caPEM: String
    let tls: TLSClientConfiguration
    let joinToken: String?
    let token: String?

    init(caFlag: String?, tokenFile: String?, joinToken joinFlag: String?, joinTokenFile: String?) throws {
        let env = ProcessInfo.processInfo.environment
        caFile = caFlag ?? env["SCHED_CA"].flatMap { $0.isEmpty ? nil : $0 } ?? "/var/lib/schedd/ca.pem"
        do {
            caPEM = try String(contentsOfFile: caFile, encoding: .utf8)
        } catch {
            throw ValidationError("cannot read the CA file \(caFile): \(error.localizedDescription) "
                + "(schedd writes ca.pem in its state directory; pass --ca FILE or set SCHED_CA)")
        }
        do {
            tls = try TLSClientConfiguration(trustRootsPEM: caPEM)
        } catch {
            throw ValidationError("\(caFile): \(error)")
        }
        func firstLine(_ text: String) -> String {
            text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        }
        func read(_ file: String, _ what: String) throws -> String {
            do {
                let t = firstLine(try String(contentsOfFile: file, encoding: .utf8))
                guard !t.isEmpty else { throw ValidationError("the \(what) file \(file) is empty") }
                return t
            } catch let e as ValidationError {
                throw e
            } catch {
                throw ValidationError("cannot read the \(what) file \(file): \(error.localizedDescription)")
            }
        }
        if let joinFlag {
            ProcessArguments.overwrite(joinFlag)
            joinToken = firstLine(joinFlag)
            guard joinToken?.isEmpty == false else { throw ValidationError("--join-token is empty") }
        } else if let joinTokenFile {
            joinToken = try read(joinTokenFile, "join token")
        } else if let t = env["SCHED_JOIN_TOKEN"], !firstLine(t).isEmpty {
            joinToken = firstLine(t)
        } else {
            joinToken = nil
        }
        if let tokenFile {
            token = try read(tokenFile, "token")
        } else if let t = env["SCHED_TOKEN"], !firstLine(t).isEmpty {
            token = firstLine(t)
        } else {
            token = nil
        }
        unsetenv("SCHED_TOKEN")
        unsetenv("SCHED_JOIN_TOKEN")
    }

    /// How the agent of `node` (work directory `workDir`) authenticates: its node certificate when
    /// one is usable there or a join token was given (joining first if needed), else the token.
    /// A usable certificate wins over `--token-file`: once a node has joined it uses mutual TLS.
    func authentication(node: NodeID, workDir: String) throws -> AgentAuthentication {
        let files = NodeCredentialFiles(workDir: workDir)
        if let joinToken { return .nodeCertificate(joinToken: RedactedToken(joinToken)) }
        if files.load(node: node, caPEM: caPEM) != nil { return .nodeCertificate(joinToken: nil) }
        if let token { return .token(RedactedToken(token)) }
        // A certificate that is not usable: the agent says why and stops.
        if files.certificateExists { return .nodeCertificate(joinToken: nil) }
        throw ValidationError("no credentials: pass --join-token-file FILE (a join token from `schedctl token create --agent`) "
            + "or set SCHED_JOIN_TOKEN; or --token-file FILE / SCHED_TOKEN with a cluster-admin token (schedd writes one to "
            + "admin.token in its state directory)")
    }
}
