import Foundation
import Testing
@testable import SchedCtlKit

/// Reading a spec file's bytes: UTF-8 or a clear error, never replacement characters.
struct SpecFileTests {
    @Test("a spec file with invalid UTF-8 is refused naming its line and byte; a valid one (non-ASCII included) reads as written")
    func invalidUTF8() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("specfile-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.yaml").path
        // Line 2's argument holds a Latin-1 "é" (0xE9), as an editor set to ISO-8859-1 saves it.
        _ = FileManager.default.createFile(atPath: bad, contents: Data(Array("command:\n  - caf".utf8) + [0xE9] + Array("\n".utf8)))
        do {
            let spec = try SpecFile.read(bad)
            Issue.record("read \(spec)")
        } catch {
            #expect("\(error)" == "\(bad):2: not valid UTF-8 (byte 16 of the file); a job spec must be UTF-8 text")
        }
        let good = dir.appendingPathComponent("good.yaml").path
        _ = FileManager.default.createFile(atPath: good, contents: Data("command: [echo, café]\n".utf8))
        #expect(try SpecFile.read(good).command == ["echo", "café"])
    }
}
