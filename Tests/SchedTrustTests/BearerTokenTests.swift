import Foundation
import SchedTrust
import Testing

@Suite("SchedTrust: bearer tokens and secret files")
struct BearerTokenTests {
    @Test("a token is sched_ and 43 base64url characters (32 random bytes), read back as written")
    func tokenFormat() throws {
        let t = BearerToken.generate()
        #expect(t.secret.hasPrefix("sched_"))
        #expect(t.secret.count == 6 + 43)
        #expect(BearerToken(t.secret + "\n") == t)
        #expect(BearerToken.generate() != t)
        #expect(BearerToken("sched_short") == nil)
        #expect(BearerToken("ghp_" + String(t.secret.dropFirst(6))) == nil)
        #expect(BearerToken(String(t.secret.dropLast()) + "+") == nil)
    }

    @Test("the hash is the SHA-256 of the written form in hex, and the description never shows the secret")
    func hashAndDescription() throws {
        // FIPS 180-2's test vector for "abc".
        #expect(BearerToken.hash(of: "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let t = BearerToken.generate()
        #expect(t.hash == BearerToken.hash(of: t.secret))
        #expect(t.hash.count == 64)
        #expect(!"\(t)".contains(t.secret.dropFirst(6)))
        #expect("\(t)".hasPrefix("sched_…"))
    }

    @Test("secret files are written with 0600, ca.pem with 0644, whatever the umask; a rewrite keeps the mode")
    func fileModes() throws {
        let dir = NSTemporaryDirectory() + "trust-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let old = umask(0)
        defer { umask(old) }
        try SecretFile.write("secret\n", to: dir + "/a.key", mode: SecretFile.secretMode)
        try SecretFile.write("public\n", to: dir + "/ca.pem", mode: SecretFile.publicMode)
        #expect(SecretFile.mode(of: dir + "/a.key") == 0o600)
        #expect(SecretFile.mode(of: dir + "/ca.pem") == 0o644)
        try SecretFile.write("again\n", to: dir + "/a.key", mode: SecretFile.secretMode)
        #expect(try SecretFile.read(dir + "/a.key") == "again\n")
        #expect(SecretFile.mode(of: dir + "/a.key") == 0o600)
        // Nothing but the two files: no temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["a.key", "ca.pem"])
        try SecretFile.create(dir + "/store.sqlite", mode: SecretFile.secretMode)
        #expect(SecretFile.mode(of: dir + "/store.sqlite") == 0o600)
        #expect(try SecretFile.read(dir + "/missing") == nil)
    }
}
