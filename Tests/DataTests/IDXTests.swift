import Foundation
import Testing
@testable import Data

@Suite struct IDXTests {
    @Test(arguments: [false, true])
    func roundTripRawAndGzip(gzip: Bool) throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let file = IDXFile(dimensions: [3, 2, 5], bytes: (0..<30).map { UInt8($0 * 8) })
        // The name says nothing about compression: the reader goes by the magic bytes.
        let path = dir.file("images.idx")
        try file.save(to: URL(fileURLWithPath: path), gzip: gzip)
        let raw = try [UInt8](Foundation.Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(Zlib.isGzip(raw) == gzip)
        let back = try IDXFile(contentsOf: path, expectedDimensionCount: 3, role: "images")
        #expect(back == file)
        #expect(back.dimensions == [3, 2, 5])
    }

    @Test func headerLayoutIsBigEndian() {
        let bytes = IDXFile(dimensions: [258, 1], bytes: [UInt8](repeating: 9, count: 258)).encoded()
        #expect(Array(bytes[0..<12]) == [0, 0, 8, 2, 0, 0, 1, 2, 0, 0, 0, 1])
        #expect(bytes.count == 12 + 258)
    }

    @Test func multiMemberGzipIsConcatenated() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let encoded = IDXFile(dimensions: [4], bytes: [1, 2, 3, 4]).encoded()
        let twoMembers = Zlib.deflate(Array(encoded[0..<6]), format: .gzip) + Zlib.deflate(Array(encoded[6...]), format: .gzip)
        let path = try dir.write(twoMembers, to: "labels")
        #expect(try IDXFile(contentsOf: path).bytes == [1, 2, 3, 4])
    }

    @Test func missingFileNamesThePath() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let path = dir.file("nope-idx3-ubyte.gz")
        let e = try #require(dataError { _ = try IDXFile(contentsOf: path) })
        #expect(e == DataError(path: path, .fileNotFound))
        #expect(e.description.hasPrefix(path + ":"))
        #expect(e.description.contains("not found"))
    }

    @Test func badMagic() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let path = try dir.write([0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1, 7], to: "bad")
        let e = try #require(dataError { _ = try IDXFile(contentsOf: path) })
        #expect(e == DataError(path: path, .badMagic([0x12, 0x34, 0x08, 0x01])))
        #expect(e.description.contains(path) && e.description.contains("magic") && e.description.contains("0x12"))
    }

    @Test func unsupportedTypeIsAClearError() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let path = try dir.write([0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0], to: "floats")
        let e = try #require(dataError { _ = try IDXFile(contentsOf: path) })
        #expect(e == DataError(path: path, .unsupportedDataType(0x0D)))
        #expect(e.description.contains("0x0D (float)") && e.description.contains("0x08"))
    }

    @Test func wrongNumberOfDimensions() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let path = dir.file("images.gz")
        try IDXFile(dimensions: [2, 3], bytes: [UInt8](repeating: 0, count: 6)).save(to: URL(fileURLWithPath: path), gzip: true)
        let e = try #require(dataError { _ = try IDXFile(contentsOf: path, expectedDimensionCount: 3, role: "images") })
        #expect(e == DataError(path: path, .wrongDimensionCount(expected: 3, found: 2, role: "images")))
        #expect(e.description.contains(path) && e.description.contains("expected 3, found 2"))
    }

    @Test(arguments: [false, true])
    func truncatedData(gzip: Bool) throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let full = IDXFile(dimensions: [10, 2, 2], bytes: [UInt8](repeating: 1, count: 40)).encoded()
        let cut = Array(full[0..<(16 + 25)])
        let path = try dir.write(gzip ? Zlib.deflate(cut, format: .gzip) : cut, to: "t")
        let e = try #require(dataError { _ = try IDXFile(contentsOf: path) })
        #expect(e == DataError(path: path, .truncated(expected: 56, got: 41)))
        #expect(e.description.contains("expected 56 bytes, got 41"))
    }

    @Test func truncatedHeader() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let path = try dir.write([0, 0, 8, 3, 0, 0], to: "h")
        #expect(dataError { _ = try IDXFile(contentsOf: path) } == DataError(path: path, .truncated(expected: 16, got: 6)))
    }

    @Test func extraBytesAreRejected() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let path = try dir.write(IDXFile(dimensions: [2], bytes: [1, 2]).encoded() + [3], to: "x")
        #expect(dataError { _ = try IDXFile(contentsOf: path) } == DataError(path: path, .trailingData(expected: 10, got: 11)))
    }

    @Test func corruptGzip() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        var gz = Zlib.deflate(IDXFile(dimensions: [100], bytes: (0..<100).map { UInt8($0) }).encoded(), format: .gzip)
        gz[gz.count / 2] ^= 0xFF
        let path = try dir.write(gz, to: "c.gz")
        let e = try #require(dataError { _ = try IDXFile(contentsOf: path) })
        #expect(e.path == path)
        guard case .corruptGzip = e.problem else { Issue.record("expected corruptGzip, got \(e)"); return }
        #expect(e.description.contains("corrupt gzip"))
    }

    @Test func gzipCutShort() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let gz = Zlib.deflate(IDXFile(dimensions: [1000], bytes: (0..<1000).map { UInt8($0 % 251) }).encoded(), format: .gzip)
        let path = try dir.write(Array(gz[0..<(gz.count - 12)]), to: "short.gz")
        let e = try #require(dataError { _ = try IDXFile(contentsOf: path) })
        guard case .corruptGzip(let reason) = e.problem else { Issue.record("expected corruptGzip, got \(e)"); return }
        #expect(e.path == path && reason.contains("unexpected end"))
    }
}

/// Headers that declare absurd sizes, and gzip data that inflates past what the header declares.
@Suite struct IDXHostileSizeTests {
    /// 454279 × 31252369 × 649657 == Int.max: a 16-byte file whose size computation used to trap.
    static let intMaxHeader: [UInt8] = [0, 0, 8, 3, 0, 0x06, 0xEE, 0x87, 0x01, 0xDC, 0xDF, 0x91, 0, 0x09, 0xE9, 0xB9]

    @Test func dimensionsWhoseProductIsIntMaxAreAnErrorNotATrap() throws {
        #expect(454279 * 31252369 * 649657 == Int.max)
        #expect(Array(IDXHostileSizeTests.intMaxHeader[4...]) == [454279, 31252369, 649657].flatMap { bigEndian($0) })
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        for gzip in [false, true] {
            let bytes = IDXHostileSizeTests.intMaxHeader
            let path = try dir.write(gzip ? Zlib.deflate(bytes, format: .gzip) : bytes, to: "max\(gzip)")
            let e = try #require(dataError { _ = try IDXFile(contentsOf: path, expectedDimensionCount: 3, role: "images") })
            guard case .implausibleSize(let reason) = e.problem else { Issue.record("expected implausibleSize, got \(e)"); continue }
            #expect(e.path == path && reason.contains("454279×31252369×649657") && reason.contains("\(IDXFile.maximumElementCount)"))
        }
    }

    @Test func sizesOverTheLimitAreRefusedWhateverTheFileHolds() {
        // 2^16 × 2^16 × 2 = 2^33 elements: no overflow, but over the 2^32 limit.
        let header: [UInt8] = [0, 0, 8, 3] + bigEndian(1 << 16) + bigEndian(1 << 16) + bigEndian(2)
        guard case .implausibleSize? = dataError({ _ = try IDXFile(decoding: header, path: "big") })?.problem else {
            Issue.record("a header declaring 2^33 elements was not refused"); return
        }
        // Exactly at the limit the header is accepted and the file reported as truncated.
        let atLimit: [UInt8] = [0, 0, 8, 2] + bigEndian(1 << 16) + bigEndian(1 << 16)
        #expect(dataError { _ = try IDXFile(decoding: atLimit, path: "l") }
            == DataError(path: "l", .truncated(expected: 12 + (1 << 32), got: 12)))
    }

    @Test func aZeroDimensionMakesAnEmptyArrayEvenBesideHugeOnes() throws {
        let header: [UInt8] = [0, 0, 8, 4] + bigEndian(UInt32.max) + bigEndian(UInt32.max) + bigEndian(UInt32.max) + bigEndian(0)
        let file = try IDXFile(decoding: header, path: "z")
        #expect(file.bytes.isEmpty && file.dimensions == [Int(UInt32.max), Int(UInt32.max), Int(UInt32.max), 0])
    }

    @Test func gzipBombStopsAtTheDeclaredSize() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        // 24 bytes declared, 64 MiB of zeros behind them: about 64 KB compressed.
        let header = IDXFile(dimensions: [16], bytes: [UInt8](repeating: 0, count: 16)).encoded()
        let bomb = Zlib.deflate(header + [UInt8](repeating: 0, count: 64 << 20), format: .gzip, level: 9)
        #expect(bomb.count < 100_000)
        let path = try dir.write(bomb, to: "bomb.gz")
        let e = try #require(dataError { _ = try IDXFile(contentsOf: path) })
        #expect(e == DataError(path: path, .decompressedTooLarge(limit: 24)))
        #expect(e.description.contains(path) && e.description.contains("more than 24 bytes"))
    }

    @Test func gzipOneByteOverTheDeclaredSizeIsRefused() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let exact = IDXFile(dimensions: [3], bytes: [1, 2, 3]).encoded()
        let ok = try dir.write(Zlib.deflate(exact, format: .gzip), to: "ok.gz")
        #expect(try IDXFile(contentsOf: ok).bytes == [1, 2, 3])
        let over = try dir.write(Zlib.deflate(exact + [4], format: .gzip), to: "over.gz")
        #expect(dataError { _ = try IDXFile(contentsOf: over) } == DataError(path: over, .decompressedTooLarge(limit: 11)))
    }
}

private func bigEndian(_ v: UInt32) -> [UInt8] {
    [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
}
