import HostTopology
import Testing

/// The account database as the agent reads it to switch a task to its user.
@Suite("Unix users")
struct UnixUserTests {
    @Test("root and nobody are found with their uid, primary group and group list")
    func knownUsers() throws {
        let root = try #require(UnixUser.named("root"))
        #expect(root.uid == 0 && root.gid == 0 && root.groups.contains(0))
        let nobody = try #require(UnixUser.named("nobody"))
        #expect(nobody.uid == 65534 && nobody.groups.contains(nobody.gid))
        #expect(UnixUser.withID(65534)?.name == "nobody")
        #expect(nobody.credentials == .init(uid: nobody.uid, gid: nobody.gid, groups: nobody.groups))
    }

    @Test("a name the database does not know, or none, is no user")
    func unknownUsers() {
        #expect(UnixUser.named("no-such-user-sched-test") == nil)
        #expect(UnixUser.named("") == nil)
    }
}
