import Testing
import SchedProtocol

@Suite("ByteSize")
struct ByteSizeTests {
    @Test("parse: powers of 1024, optional B / iB suffix, any case, whitespace ignored", arguments: [
        ("0", Int64(0)),
        ("512", 512),
        ("8B", 8),
        ("8b", 8),
        ("1K", 1024),
        ("512K", 524_288),
        ("512k", 524_288),
        ("512KB", 524_288),
        ("512KiB", 524_288),
        ("512kib", 524_288),
        ("1M", 1_048_576),
        ("1MiB", 1_048_576),
        ("8G", 8_589_934_592),
        ("8g", 8_589_934_592),
        ("8GiB", 8_589_934_592),
        ("8GB", 8_589_934_592),
        ("1.5GB", 1_610_612_736),
        ("1.5G", 1_610_612_736),
        ("0.5K", 512),
        ("0.1K", 102),                       // 102.4 rounds to 102
        ("2T", 2_199_023_255_552),
        ("2TiB", 2_199_023_255_552),
        (" 8 G ", 8_589_934_592),
        ("8000000T", 8_796_093_022_208_000_000),
    ])
    func parses(text: String, bytes: Int64) {
        #expect(ByteSize.parse(text) == bytes)
    }

    @Test("parse: malformed or out of range gives nil", arguments: [
        "", "   ", "G", "GiB", "abc", "-1", "-1G", "8X", "8P", "8PiB", "8GG", "8 G B i", "1.2.3", "1e3",
        "0x10", "9000000000G", "8388608T",
    ])
    func rejects(text: String) {
        #expect(ByteSize.parse(text) == nil, "'\(text)'")
    }

    static let formatCases: [(Int64, String)] = [
        (0, "0 B"),
        (1, "1 B"),
        (512, "512 B"),
        (1023, "1023 B"),
        (1024, "1 KiB"),
        (1536, "1.5 KiB"),
        (1126, "1.1 KiB"),                   // 1.0996 → 1.1
        (1025, "1 KiB"),                     // 1.00098 → 1.0 → printed without decimals
        (512 * 1024 * 1024, "512 MiB"),
        (8 << 30, "8 GiB"),
        (3 << 29, "1.5 GiB"),
        (1 << 40, "1 TiB"),
        (1 << 50, "1 PiB"),
        (2048 << 50, "2048 PiB"),            // no unit beyond PiB
    ]

    @Test("format: binary units, one decimal when needed", arguments: formatCases)
    func formats(bytes: Int64, text: String) {
        #expect(ByteSize.format(bytes) == text)
    }

    static let exactSizes: [Int64] = [0, 512, 1024, 1536, 512 << 20, 8 << 30, 3 << 29, 1 << 40]

    @Test("format then parse gives the value back for sizes format prints exactly", arguments: exactSizes)
    func roundTrip(bytes: Int64) {
        #expect(ByteSize.parse(ByteSize.format(bytes)) == bytes)
    }
}
