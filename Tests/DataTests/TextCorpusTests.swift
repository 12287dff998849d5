import Foundation
import Testing
@testable import Data

@Suite struct TextCorpusTests {
    @Test func readsUTF8File() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let path = try dir.write(Array("naïve café — 日本語 😀\n".utf8), to: "a.txt")
        let corpus = try TextCorpus(contentsOf: path)
        #expect(corpus.text == "naïve café — 日本語 😀\n")
        #expect(corpus.path == path)
    }

    @Test func missingAndEmptyFiles() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        #expect(dataError { _ = try TextCorpus(contentsOf: dir.file("absent.txt")) }
            == DataError(path: dir.file("absent.txt"), .fileNotFound))
        let empty = try dir.write([], to: "empty.txt")
        #expect(dataError { _ = try TextCorpus(contentsOf: empty) } == DataError(path: empty, .empty))
        #expect(dataError { _ = try TextCorpus(contentsOf: dir.path) }?.problem == .unreadable("is a directory"))
    }

    /// The offset is that of the first byte that does not start or continue a valid sequence.
    @Test(arguments: [
        ([0xFF] as [UInt8], 0),
        ([0x61, 0x62, 0xC3, 0x28], 2),          // a two-byte lead followed by ASCII
        ([0x61, 0xE2, 0x82], 1),                // a three-byte sequence cut short at the end
        (Array("é€".utf8) + [0x80], 5),         // a stray continuation byte after two whole characters
        ([0x61, 0xC0, 0xAF], 1),                // an overlong encoding of "/"
        ([0x61, 0xED, 0xA0, 0x80], 1),          // a UTF-16 surrogate, not allowed in UTF-8
    ])
    func invalidUTF8NamesTheByteOffset(bytes: [UInt8], offset: Int) {
        let error = dataError { _ = try TextCorpus(bytes: bytes, path: "t.txt") }
        #expect(error == DataError(path: "t.txt", .invalidUTF8(offset: offset)))
        #expect(error?.description == "t.txt: not valid UTF-8 text: bad byte at offset \(offset)")
    }

    /// The documented rule: regular files only, no `.dat`/`.u8`, no links or subdirectories, sorted by name.
    @Test func fortunesConcatenatesTheTextFilesInNameOrder() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        try dir.write(Array("B\n%\n".utf8), to: "b")
        try dir.write(Array("A\n%\n".utf8), to: "a")
        try dir.write(Array("Z\n".utf8), to: "Z")            // uppercase sorts first, by byte value
        try dir.write([0, 0, 0, 2], to: "a.dat")
        try FileManager.default.createSymbolicLink(atPath: dir.file("a.u8"), withDestinationPath: "a")
        try FileManager.default.createSymbolicLink(atPath: dir.file("c"), withDestinationPath: "a")
        try FileManager.default.createDirectory(atPath: dir.file("off"), withIntermediateDirectories: false)
        try dir.write(Array("offensive\n".utf8), to: "off/x")
        let corpus = try TextCorpus.fortunes(directory: dir.path)
        #expect(corpus.text == "Z\nA\n%\nB\n%\n")
        #expect(corpus.path == dir.path)
    }

    @Test func fortunesMissingSaysHowToInstall() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        for path in [dir.file("absent"), dir.path] {
            let error = dataError { _ = try TextCorpus.fortunes(directory: path) }
            guard case .datasetMissing(_, let hint)? = error?.problem else {
                Issue.record("expected datasetMissing, got \(String(describing: error))"); continue
            }
            #expect(hint.contains("apt-get install fortunes"))
        }
    }

    @Test func fortunesBadFileIsNamed() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        try dir.write(Array("fine\n".utf8), to: "a")
        try dir.write([0x62, 0xFE], to: "b")
        #expect(dataError { _ = try TextCorpus.fortunes(directory: dir.path) }
            == DataError(path: dir.file("b"), .invalidUTF8(offset: 1)))
    }

    /// The installed corpus, when present: the figures the benchmarks and WORKLOADS.md quote (Python agrees).
    @Test func installedFortunes() throws {
        guard FileManager.default.fileExists(atPath: TextCorpus.fortunesDirectory) else {
            print("skipped: \(TextCorpus.fortunesDirectory) is absent. \(TextCorpus.fortunesInstallHint)")
            return
        }
        let corpus = try TextCorpus.fortunes()
        #expect(corpus.text.unicodeScalars.count == 2_576_627)
        #expect(CharacterTokenizer(training: corpus.text).vocabularySize == 113)
    }

    @Test func trainValidationSplitIsFixedAt90Percent() {
        let (train, validation) = trainValidationSplit(Array(0..<10))
        #expect(train == Array(0..<9) && validation == [9])
        // int(7 * 0.9) == 6, as in Python.
        #expect(trainValidationSplit(Array(0..<7)).train.count == 6)
        #expect(trainValidationSplit(Array(0..<2_576_627)).train.count == 2_318_964)
        let (all, none) = trainValidationSplit([1, 2, 3], trainFraction: 1)
        #expect(all == [1, 2, 3] && none.isEmpty)
    }
}
