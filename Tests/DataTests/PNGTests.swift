import Foundation
import Testing
@testable import Data

/// A PNG file assembled chunk by chunk, for decoding tests.
func pngFile(_ chunks: [(String, [UInt8])]) -> [UInt8] {
    var out = PNGImage.signature
    for (type, data) in chunks {
        let n = UInt32(data.count)
        out += [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
        let body = Array(type.utf8) + data
        let crc = Zlib.crc32(body)
        out += body + [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
    }
    return out
}

func ihdr(width: UInt8, height: UInt8, colorType: UInt8, bitDepth: UInt8 = 8, interlace: UInt8 = 0) -> [UInt8] {
    [0, 0, 0, width, 0, 0, 0, height, bitDepth, colorType, 0, 0, interlace]
}

@Suite struct PNGTests {
    @Test func grayscaleAndRGBRoundTripThroughFiles() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let gray = PNGImage(width: 7, height: 3, colorType: .grayscale, pixels: (0..<21).map { UInt8($0 * 12) })
        let rgb = PNGImage(width: 4, height: 5, colorType: .rgb, pixels: (0..<60).map { UInt8(($0 * 37) % 256) })
        for (image, name) in [(gray, "g.png"), (rgb, "c.png")] {
            try image.save(to: dir.url(name))
            let back = try PNGImage(contentsOf: dir.file(name))
            #expect(back == image)
        }
        let bytes = gray.encoded()
        #expect(Array(bytes[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(String(decoding: bytes[12..<16], as: UTF8.self) == "IHDR")
        #expect(Array(bytes[16..<29]) == ihdr(width: 7, height: 3, colorType: 0))
        #expect(String(decoding: bytes[(bytes.count - 8)..<(bytes.count - 4)], as: UTF8.self) == "IEND")
    }

    @Test func everyFilterTypeDecodes() throws {
        // Two RGB pixels per row; rows filtered with None, Sub, Up, Average, Paeth by hand.
        let rows: [[UInt8]] = [[10, 20, 30, 40, 50, 60], [15, 25, 35, 45, 55, 65], [5, 200, 7, 9, 11, 250],
                               [100, 0, 255, 3, 4, 5], [60, 70, 80, 90, 100, 110]]
        func paeth(_ a: Int, _ b: Int, _ c: Int) -> Int {
            let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
            return pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
        }
        var raw = [UInt8]()
        for (y, row) in rows.enumerated() {
            raw.append(UInt8(y))
            for i in 0..<6 {
                let a = i >= 3 ? Int(row[i - 3]) : 0, b = y > 0 ? Int(rows[y - 1][i]) : 0
                let c = (i >= 3 && y > 0) ? Int(rows[y - 1][i - 3]) : 0
                let predictor = [0, a, b, (a + b) / 2, paeth(a, b, c)][y]
                raw.append(UInt8(truncatingIfNeeded: Int(row[i]) - predictor))
            }
        }
        let file = pngFile([("IHDR", ihdr(width: 2, height: 5, colorType: 2)), ("tEXt", Array("a\0b".utf8)),
                            ("IDAT", Zlib.compress(raw)), ("IEND", [])])
        let image = try PNGImage(decoding: file)
        #expect(image.pixels == rows.flatMap { $0 })
    }

    func problem(_ bytes: [UInt8]) -> String? {
        guard let e = dataError({ _ = try PNGImage(decoding: bytes, path: "x.png") }) else { return nil }
        #expect(e.path == "x.png")
        guard case .invalidImage(let reason) = e.problem else { return nil }
        return reason
    }

    @Test func corruptedCRCIsDetected() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        var bytes = PNGImage(width: 3, height: 3, colorType: .grayscale, pixels: [UInt8](repeating: 9, count: 9)).encoded()
        bytes[42] ^= 0x01   // inside the IDAT data (which starts at byte 41)
        let path = try dir.write(bytes, to: "bad.png")
        let e = try #require(dataError { _ = try PNGImage(contentsOf: path) })
        #expect(e.path == path && e.description.contains("CRC mismatch in chunk IDAT"))
    }

    @Test func malformedFilesAreRejectedWithReasons() {
        let good = PNGImage(width: 2, height: 2, colorType: .rgb, pixels: [UInt8](repeating: 1, count: 12)).encoded()
        #expect(problem(Array(good.dropFirst())).map { $0.contains("signature") } == true)
        #expect(problem(Array(good.prefix(good.count - 6))).map { $0.contains("truncated") } == true)
        let idat = Zlib.compress([0, 1, 2, 0, 3, 4])
        #expect(problem(pngFile([("IHDR", ihdr(width: 2, height: 3, colorType: 0)), ("IDAT", idat), ("IEND", [])]))
            .map { $0.contains("is 6 bytes after inflating, expected 9") } == true)
        #expect(problem(pngFile([("IHDR", ihdr(width: 2, height: 1, colorType: 0, bitDepth: 16)), ("IEND", [])]))
            .map { $0.contains("bit depth 16") } == true)
        #expect(problem(pngFile([("IHDR", ihdr(width: 2, height: 1, colorType: 3)), ("IEND", [])]))
            .map { $0.contains("colour type 3") } == true)
        #expect(problem(pngFile([("IHDR", ihdr(width: 2, height: 1, colorType: 0, interlace: 1)), ("IEND", [])]))
            .map { $0.contains("interlaced") } == true)
        #expect(problem(pngFile([("IHDR", ihdr(width: 2, height: 1, colorType: 0)), ("IDAT", Zlib.compress([7, 1, 2])), ("IEND", [])]))
            .map { $0.contains("filter type 7") } == true)
        #expect(problem(pngFile([("IHDR", ihdr(width: 2, height: 1, colorType: 0)), ("IDAT", [1, 2, 3, 4]), ("IEND", [])]))
            .map { $0.contains("does not inflate") } == true)
        #expect(problem(pngFile([("IDAT", idat), ("IEND", [])])).map { $0.contains("not IHDR") } == true)
        #expect(problem(pngFile([("IHDR", ihdr(width: 2, height: 1, colorType: 0)), ("ABCD", []), ("IEND", [])]))
            .map { $0.contains("critical chunk ABCD") } == true)
    }

    @Test func missingFile() {
        #expect(dataError { _ = try PNGImage(contentsOf: "/nonexistent/a.png") }
            == DataError(path: "/nonexistent/a.png", .fileNotFound))
    }
}

@Suite struct GrayscaleImageTests {
    @Test func pgmWithCommentsLoadsScaled() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let path = try dir.write(Array("P5\n# made by hand\n3 2\n# max\n255\n".utf8) + [0, 51, 255, 102, 204, 153], to: "a.pgm")
        let t = try GrayscaleImage.load(path)
        #expect(t.shape == [1, 2, 3])
        #expect(t.floats == [0, 0.2, 1, 0.4, 0.8, 0.6])
        let encoded = GrayscaleImage.encodePGM(width: 3, height: 2, pixels: [0, 51, 255, 102, 204, 153])
        #expect(try GrayscaleImage.load(dir.write(encoded, to: "b")).floats == t.floats)
    }

    @Test func sixteenBitPGM() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let path = try dir.write(Array("P5 2 1 1000\n".utf8) + [0x01, 0xF4, 0x03, 0xE8], to: "w.pgm")
        #expect(try GrayscaleImage.load(path).floats == [0.5, 1])
    }

    @Test func truncatedAndUnknownFilesNameThePath() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let short = try dir.write(Array("P5\n4 4\n255\n".utf8) + [1, 2, 3], to: "short.pgm")
        #expect(dataError { _ = try GrayscaleImage.load(short) } == DataError(path: short, .truncated(expected: 27, got: 14)))
        let text = try dir.write(Array("hello".utf8), to: "t.png")
        let e = try #require(dataError { _ = try GrayscaleImage.load(text) })
        #expect(e.path == text && e.description.contains("not a PNG or binary PGM"))
        let badHeader = try dir.write(Array("P5\nx 4\n255\n".utf8), to: "h.pgm")
        #expect(try #require(dataError { _ = try GrayscaleImage.load(badHeader) }).description.contains("width"))
    }

    @Test func pngGrayscaleAndRGBToLuminance() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let gray = dir.file("g.png"), rgb = dir.file("c.png")
        try PNGImage(width: 2, height: 1, colorType: .grayscale, pixels: [0, 255]).save(to: URL(fileURLWithPath: gray))
        try PNGImage(width: 2, height: 1, colorType: .rgb, pixels: [255, 0, 0, 255, 255, 255]).save(to: URL(fileURLWithPath: rgb))
        #expect(try GrayscaleImage.load(gray).floats == [0, 1])
        let c = try GrayscaleImage.load(rgb)
        #expect(c.shape == [1, 1, 2])
        #expect(abs(c.floats[0] - 0.299) < 1e-5 && abs(c.floats[1] - 1) < 1e-5)
    }
}

/// Image headers that declare absurd sizes: refused by ImageSizeLimit before any arithmetic or allocation.
@Suite struct ImageSizeLimitTests {
    func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    func png(width: UInt32, height: UInt32, colorType: UInt8, idat: [UInt8]) -> [UInt8] {
        pngFile([("IHDR", be(width) + be(height) + [8, colorType, 0, 0, 0]), ("IDAT", idat), ("IEND", [])])
    }

    @Test(arguments: [(UInt32(0x7FFF_FFFF), UInt32(0x7FFF_FFFF), UInt8(6)),   // overflowed height × (rowBytes + 1)
                      (1 << 30, 1 << 30, 0),                                   // asked zlib for 1.15e18 bytes
                      (65537, 1, 0), (1, 65537, 0), (32768, 16384, 0)])
    func hugePNGIsRefusedNamingTheLimit(width: UInt32, height: UInt32, colorType: UInt8) throws {
        let file = png(width: width, height: height, colorType: colorType, idat: Zlib.compress([0, 0, 0, 0, 0]))
        let e = try #require(dataError { _ = try PNGImage(decoding: file, path: "huge.png") })
        guard case .invalidImage(let reason) = e.problem else { Issue.record("got \(e)"); return }
        #expect(e.path == "huge.png" && reason.contains("\(width)×\(height)") && reason.contains("limit"))
        #expect(reason.contains("\(ImageSizeLimit.maximumSide)") && reason.contains("\(ImageSizeLimit.maximumPixelCount)"))
    }

    @Test func largestAllowedSideStillDecodes() throws {
        let pixels = [UInt8](repeating: 7, count: ImageSizeLimit.maximumSide)
        let image = PNGImage(width: ImageSizeLimit.maximumSide, height: 1, colorType: .grayscale, pixels: pixels)
        #expect(try PNGImage(decoding: image.encoded()) == image)
    }

    @Test func imageDataBombStopsAtTheDeclaredSize() throws {
        // A 16×16 grayscale image needs 16 × 17 = 272 inflated bytes; this IDAT inflates to 8 MiB.
        let file = png(width: 16, height: 16, colorType: 0, idat: Zlib.compress([UInt8](repeating: 0, count: 8 << 20), level: 9))
        let e = try #require(dataError { _ = try PNGImage(decoding: file, path: "bomb.png") })
        #expect(e.description.contains("inflates to more than the 272 bytes of a 16×16"))
    }

    @Test(arguments: ["P5 9999999999 9999999999 255\n", "P5 65537 1 255\n", "P5 1 65537 255\n", "P5 20000 20000 255\n"])
    func hugePGMIsRefusedNamingTheLimit(header: String) throws {
        let e = try #require(dataError { _ = try GrayscaleImage.decode(Array(header.utf8) + [1, 2, 3], path: "huge.pgm") })
        guard case .invalidImage(let reason) = e.problem else { Issue.record("got \(e)"); return }
        #expect(e.path == "huge.pgm" && reason.hasPrefix("PGM: size") && reason.contains("limit"))
    }

    @Test func zeroSizedImagesAreInvalid() {
        #expect(dataError { _ = try GrayscaleImage.decode(Array("P5 0 3 255\n".utf8), path: "z.pgm") }
            == DataError(path: "z.pgm", .invalidImage("PGM: invalid size 0×3")))
        let file = png(width: 0, height: 1, colorType: 0, idat: Zlib.compress([0]))
        #expect(dataError { _ = try PNGImage(decoding: file, path: "z.png") }
            == DataError(path: "z.png", .invalidImage("PNG: invalid size 0×1")))
    }
}

extension GrayscaleImageTests {
    @Test func bytesAfterThePGMPixelsAreRefusedNotIgnored() {
        // A flipped height digit ("3" → "2") used to load 4×2 of a 4×3 image and drop a row silently.
        let file = Array("P5 2 1 255\n".utf8) + [1, 2, 3]
        #expect(dataError { _ = try GrayscaleImage.decode(file, path: "t.pgm") } == DataError(path: "t.pgm", .trailingData(expected: 13, got: 14)))
    }
}
