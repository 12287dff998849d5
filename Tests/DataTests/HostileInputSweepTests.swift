import Foundation
import Testing
@testable import Data

/// What a reader made of one hostile input.
enum SweepOutcome: Equatable {
    /// A typed error.
    case rejected
    /// The same result as the untouched file (the change was in bytes the format ignores).
    case same
    /// The same structure (shapes, counts) with other values: a change in bytes the format does not
    /// protect (IDX, CIFAR and raw PGM data carry no checksum), so no reader can notice it.
    case valuesChanged
    /// Another valid file in its own right: the reader's re-encoding of the result is exactly the input
    /// (a CIFAR file cut at a record boundary).
    case otherValidFile
    /// Accepted with another structure that the input does not encode: a silent wrong result.
    case silentWrong
}

/// Counts of one reader's outcomes over a batch of hostile inputs.
struct SweepTally: CustomStringConvertible {
    let reader: String
    var tried = 0, slowest = 0.0, hangs = 0
    var outcomes: [SweepOutcome: Int] = [:]
    var silentInputs: [String] = []

    /// Runs `read` on `input` (labelled `label`), timing it, and classifies the outcome against `original`.
    mutating func run<R: Equatable>(_ label: String, _ input: [UInt8], original: R, read: ([UInt8]) throws -> R,
                                    structure: (R) -> [Int], reencode: (R) -> [UInt8]) {
        tried += 1
        let start = DispatchTime.now().uptimeNanoseconds
        let outcome: SweepOutcome
        do {
            let result = try read(input)
            if result == original { outcome = .same }
            else if structure(result) == structure(original) { outcome = .valuesChanged }
            else if reencode(result) == input { outcome = .otherValidFile }
            else { outcome = .silentWrong }
        } catch {
            outcome = .rejected
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        slowest = Swift.max(slowest, seconds)
        if seconds > 1 { hangs += 1 }
        outcomes[outcome, default: 0] += 1
        if outcome == .silentWrong { silentInputs.append(label) }
    }

    /// Every truncation, every single-bit flip, and `extra` hand-made inputs of `valid`.
    mutating func sweep<R: Equatable>(_ valid: [UInt8], extra: [(String, [UInt8])] = [], read: ([UInt8]) throws -> R,
                                      structure: (R) -> [Int], reencode: (R) -> [UInt8]) throws {
        let original = try read(valid)
        for n in 0..<valid.count {
            run("prefix \(n)", Array(valid.prefix(n)), original: original, read: read, structure: structure, reencode: reencode)
        }
        for i in 0..<valid.count {
            for bit in 0..<8 {
                var flipped = valid
                flipped[i] ^= 1 << bit
                run("flip byte \(i) bit \(bit)", flipped, original: original, read: read, structure: structure, reencode: reencode)
            }
        }
        for (label, bytes) in extra {
            run(label, bytes, original: original, read: read, structure: structure, reencode: reencode)
        }
    }

    var description: String {
        let counts = [SweepOutcome.rejected, .same, .valuesChanged, .otherValidFile, .silentWrong].map { outcomes[$0, default: 0] }
        return reader.padding(toLength: 10, withPad: " ", startingAt: 0)
            + String(format: " tried %6d  rejected %6d  same %4d  values changed %5d  other valid file %3d  silent wrong %d  hangs %d  slowest %.1f ms",
                     tried, counts[0], counts[1], counts[2], counts[3], counts[4], hangs, slowest * 1000)
            + (silentInputs.isEmpty ? "" : "\n    silent: \(silentInputs.prefix(10).joined(separator: "; "))")
    }
}

private func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

/// Hostile variants of small valid files, for every reader of outside data in Data: truncations at every
/// byte, every single-bit flip, huge dimensions, zero items and wrong shapes. A crash would end the run;
/// each input must finish within a second and none may be accepted with a structure it does not encode.
@Suite struct HostileInputSweepTests {
    /// IDX headers declaring absurd sizes (each 16 bytes or fewer of data).
    static let hugeIDXHeaders: [(String, [UInt8])] = [
        ("dims Int.max", [0, 0, 8, 3] + bigEndian(454279) + bigEndian(31252369) + bigEndian(649657)),
        ("dims 2^32-1 x3", [0, 0, 8, 3] + bigEndian(.max) + bigEndian(.max) + bigEndian(.max)),
        ("dims 2^33", [0, 0, 8, 3] + bigEndian(1 << 16) + bigEndian(1 << 16) + bigEndian(2)),
        ("rank 255", [0, 0, 8, 255] + [UInt8](repeating: 0xFF, count: 1020)),
        ("zero items", [0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28]),
    ]

    func report(_ tally: SweepTally) {
        print("sweep: \(tally)")
        #expect(tally.outcomes[.silentWrong, default: 0] == 0, "\(tally)")
        #expect(tally.hangs == 0, "\(tally)")
    }

    @Test func idxPlainAndGzip() throws {
        let valid = IDXFile(dimensions: [3, 4, 5], bytes: (0..<60).map { UInt8($0 * 4) }).encoded()
        let read = { (bytes: [UInt8]) throws -> IDXFile in try IDXFile(fileContents: FileContents(bytes, path: "sweep")) }
        var plain = SweepTally(reader: "IDX")
        try plain.sweep(valid, extra: HostileInputSweepTests.hugeIDXHeaders, read: read, structure: \.dimensions, reencode: { $0.encoded() })
        report(plain)
        var compressed = SweepTally(reader: "IDX gzip")
        let bomb = Zlib.deflate(valid + [UInt8](repeating: 0, count: 32 << 20), format: .gzip, level: 9)
        try compressed.sweep(Zlib.deflate(valid, format: .gzip),
                             extra: HostileInputSweepTests.hugeIDXHeaders.map { ($0.0 + " gzip", Zlib.deflate($0.1, format: .gzip)) } + [("bomb", bomb)],
                             read: read, structure: \.dimensions, reencode: { Zlib.deflate($0.encoded(), format: .gzip) })
        report(compressed)
    }

    @Test func cifar() throws {
        let size = CIFARBinaryFile.imageSize
        let valid = CIFARBinaryFile(labels: [3, 9], pixels: (0..<(2 * size)).map { UInt8($0 % 251) }).encoded()
        var tally = SweepTally(reader: "CIFAR")
        let bomb = Zlib.deflate([UInt8](repeating: 0, count: 200 * CIFARBinaryFile.recordSize), format: .gzip, level: 9)
        try tally.sweep(valid, extra: [("empty", []), ("empty gzip", Zlib.deflate([], format: .gzip)), ("bomb over 16 records", bomb),
                                       ("label 10", [10] + [UInt8](repeating: 0, count: size))],
                        read: { try CIFARBinaryFile(fileContents: FileContents($0, path: "sweep"), maximumRecordCount: 16) },
                        structure: { [$0.count] }, reencode: { $0.encoded() })
        report(tally)
    }

    @Test func pngAndPGM() throws {
        let png = PNGImage(width: 5, height: 4, colorType: .rgb, pixels: (0..<60).map { UInt8($0 * 3) }).encoded()
        func header(_ w: UInt32, _ h: UInt32, _ colorType: UInt8) -> [UInt8] {
            pngFile([("IHDR", bigEndian(w) + bigEndian(h) + [8, colorType, 0, 0, 0]), ("IDAT", Zlib.compress([0, 0])), ("IEND", [])])
        }
        let hugePNGs = [("png 2^31-1 square", header(0x7FFF_FFFF, 0x7FFF_FFFF, 6)), ("png 2^30 square", header(1 << 30, 1 << 30, 0)),
                        ("png 65537 wide", header(65537, 1, 0)), ("png 0 wide", header(0, 1, 0)),
                        ("png bomb", pngFile([("IHDR", bigEndian(16) + bigEndian(16) + [8, 0, 0, 0, 0]),
                                              ("IDAT", Zlib.compress([UInt8](repeating: 0, count: 16 << 20), level: 9)), ("IEND", [])]))]
        var pngTally = SweepTally(reader: "PNG")
        try pngTally.sweep(png, extra: hugePNGs, read: { try PNGImage(decoding: $0, path: "sweep") },
                           structure: { [$0.width, $0.height, Int($0.colorType.rawValue)] }, reencode: { $0.encoded() })
        report(pngTally)

        let pgm = GrayscaleImage.encodePGM(width: 4, height: 3, pixels: (0..<12).map { UInt8($0 * 20) })
        let hugePGMs = ["P5 9999999999 9999999999 255\n", "P5 65537 1 255\n", "P5 0 1 255\n", "P5 4 3 65536\n", "P5 4 3 0\n"]
            .map { ($0, Array($0.utf8) + [UInt8](repeating: 1, count: 24)) }
        var pgmTally = SweepTally(reader: "PGM")
        try pgmTally.sweep(pgm, extra: hugePGMs, read: { try GrayscaleImage.decode($0, path: "sweep") },
                           structure: \.shape, reencode: { t in
                               GrayscaleImage.encodePGM(width: t.shape[2], height: t.shape[1], pixels: t.floats.map { UInt8(($0 * 255).rounded()) })
                           })
        report(pgmTally)
    }

    /// Data sets built from hostile but individually valid files: zero items, wrong shapes, mismatched counts.
    @Test func datasetsOfZeroItemsAndWrongShapes() throws {
        var tried = 0, rejected = 0
        let cases: [(images: [Int], labels: Int)] = [([0, 28, 28], 0), ([3, 4, 3], 3), ([3, 28, 27], 3), ([3, 27, 28], 3),
                                                      ([3, 0, 28], 3), ([3, 28, 28], 2), ([2, 28, 28], 3), ([1, 1, 1], 1)]
        for (images, labels) in cases {
            let dir = try TemporaryDirectory(); defer { dir.cleanup() }
            try IDXFile(dimensions: images, bytes: [UInt8](repeating: 1, count: images.reduce(1, *)))
                .save(to: dir.url("train-images-idx3-ubyte.gz"), gzip: true)
            try IDXFile(dimensions: [labels], bytes: [UInt8](repeating: 1, count: labels)).save(to: dir.url("train-labels-idx1-ubyte"))
            tried += 1
            if let e = dataError({ _ = try FashionMNIST(directory: dir.path, split: .train) }) {
                rejected += 1
                #expect(e.path.hasPrefix(dir.path), "\(e)")
            } else {
                Issue.record("FashionMNIST accepted images \(images) with \(labels) labels")
            }
        }
        print("sweep: Fashion-MNIST data sets  tried \(tried)  rejected \(rejected)  silent wrong \(tried - rejected)")
    }
}
