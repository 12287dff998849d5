import Foundation
import Testing
@testable import Data

@Suite struct InflaterTests {
    /// 16 MiB of zeros, compressed to about 16 KB.
    static let bomb = Zlib.deflate([UInt8](repeating: 0, count: 16 << 20), format: .gzip, level: 9)

    @Test func neverInflatesPastWhatWasAskedFor() throws {
        let inflater = try Inflater(InflaterTests.bomb, format: .gzip)
        try inflater.inflate(upTo: 100_000)
        #expect(inflater.output.count == 100_000 && !inflater.isFinished)
        try inflater.inflate(upTo: 100_001)
        #expect(inflater.output.count == 100_001)
        #expect(inflater.output.capacity < 1 << 20)
    }

    @Test func limitIsInclusive() throws {
        let data = (0..<5000).map { UInt8($0 % 7) }
        for format in [Zlib.Format.gzip, .zlib] {
            let compressed = format == .gzip ? Zlib.deflate(data, format: .gzip) : Zlib.compress(data)
            #expect(try Zlib.inflate(compressed, format: format, limit: 5000) == data)
            #expect(throws: ZlibFailure.tooLarge(limit: 4999)) { try Zlib.inflate(compressed, format: format, limit: 4999) }
        }
        #expect(throws: ZlibFailure.tooLarge(limit: 1 << 20)) { try Zlib.inflate(InflaterTests.bomb, format: .gzip, limit: 1 << 20) }
    }

    @Test func everyTruncationIsCorruptNotAHangOrACrash() throws {
        let whole = Zlib.deflate((0..<3000).map { UInt8($0 * 31 % 256) }, format: .gzip)
        for n in 0..<whole.count {
            do {
                _ = try Zlib.inflate(Array(whole.prefix(n)), format: .gzip, limit: 1 << 20)
                Issue.record("prefix of \(n) bytes inflated without an error")
            } catch {
                guard case .corrupt = error else { Issue.record("prefix of \(n) bytes: \(error)"); continue }
            }
        }
    }

    @Test func concatenatedMembersAndTrailingGarbage() throws {
        let a = Zlib.deflate([1, 2], format: .gzip), b = Zlib.deflate([3], format: .gzip)
        #expect(try Zlib.inflate(a + b, format: .gzip, limit: 3) == [1, 2, 3])
        #expect(throws: ZlibFailure.tooLarge(limit: 2)) { try Zlib.inflate(a + b, format: .gzip, limit: 2) }
        #expect(throws: ZlibFailure.corrupt("1 unexpected bytes after the end of the compressed stream")) {
            try Zlib.inflate(a + [0], format: .gzip, limit: 10)
        }
    }
}
