import Foundation
import Testing
import SchedCore
@testable import SchedProtocol

/// The scanner on mutated lines: wherever it answers, the Codable decoder gives the same
/// message (it may decline anything). Seeded, so a failure replays.
@Suite("Hot lines: scanner against Codable on mutated input")
struct HotLineDecoderFuzzTests {
    static let pieces: [String] = ["{", "}", "[", "]", "\"", ",", ":", " ", "0", "7", "-", "1.5", "e3", "null", "true",
                                   "\"x\"", "\"cpus\"", "\"command\"", "\"resources\"", "\"gpus\"", "\\", "é", "99999999999999999999"]

    static func mutate(_ text: String, _ rng: inout SplitMix64) -> String {
        var chars = Array(text)
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            guard !chars.isEmpty else { break }
            let at = Int.random(in: 0..<chars.count, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: chars.remove(at: at)
            case 1: chars.insert(contentsOf: pieces.randomElement(using: &rng)!, at: at)
            case 2:
                let end = min(chars.count, at + Int.random(in: 1...12, using: &rng))
                chars.insert(contentsOf: chars[at..<end], at: end)
            default:
                let end = min(chars.count, at + Int.random(in: 1...8, using: &rng))
                chars.replaceSubrange(at..<end, with: pieces.randomElement(using: &rng)!)
            }
        }
        return String(chars)
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func scannerNeverDisagreesWithCodable(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let lines = HotLineDecoderTests.encodedLines
        var answered = 0, total = 0
        for _ in 0..<1500 {
            let line = lines.randomElement(using: &rng)!
            let sp = line.firstIndex(of: " ")!
            let verb = String(line[..<sp])
            let json = Self.mutate(String(line[line.index(after: sp)...]), &rng)
            total += 1
            guard let fast = HotLineDecoder.decode(verb: Substring(verb), json: Substring(json)) else { continue }
            answered += 1
            #expect(fast == HotLineDecoderTests.codable(verb, json), "\(verb) \(json)")
        }
        // Many mutations still leave valid lines; the scanner must have answered some of them.
        #expect(answered > total / 20)
    }
}
