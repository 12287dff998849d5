import Foundation
import Testing
@testable import Data

@Suite struct CIFAR10Tests {
    /// `count` records: label `(first + i) % 10`, pixel `p` of record `i` equal to `(i * 11 + p) % 251`.
    func records(_ count: Int, first: Int = 0) -> CIFARBinaryFile {
        let size = CIFARBinaryFile.imageSize
        return CIFARBinaryFile(labels: (0..<count).map { UInt8((first + $0) % 10) },
                               pixels: (0..<(count * size)).map { UInt8(($0 / size * 11 + $0 % size) % 251) })
    }

    /// Writes a whole split in `dir`: 2 records per training file (labels continuing across files), 3 for test.
    func writeSplits(_ dir: String, gzip: Bool = false) throws {
        for (k, name) in CIFAR10.fileNames(split: .train).enumerated() {
            try records(2, first: 2 * k).save(to: URL(fileURLWithPath: (dir as NSString).appendingPathComponent(name + (gzip ? ".gz" : ""))), gzip: gzip)
        }
        try records(3).save(to: URL(fileURLWithPath: (dir as NSString).appendingPathComponent("test_batch.bin")))
    }

    @Test func recordLayoutIsLabelThenRedGreenBluePlanes() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        // One record written by hand: label 7, then R, G, B planes with distinct values per plane and position.
        var bytes: [UInt8] = [7]
        for c in 0..<3 { for y in 0..<32 { for x in 0..<32 { bytes.append(UInt8((c * 80 + y * 2 + x) % 256)) } } }
        #expect(bytes.count == 3073)
        let path = try dir.write(bytes, to: "one.bin")
        let file = try CIFARBinaryFile(contentsOf: path)
        #expect(file.count == 1 && file.labels == [7])
        #expect(file.encoded() == bytes)

        try FileManager.default.createDirectory(atPath: dir.file("cifar"), withIntermediateDirectories: true)
        try dir.write(bytes, to: "cifar/test_batch.bin")
        let test = try CIFAR10(directory: dir.file("cifar"), split: .test)
        let (image, label) = test[0]
        #expect(label == 7 && image.shape == [3, 32, 32] && image.dtype == .float32)
        for (c, y, x) in [(0, 0, 0), (0, 0, 31), (0, 31, 0), (1, 5, 9), (2, 31, 31), (2, 17, 3)] {
            #expect(image[c, y, x] == Double(Float(Double((c * 80 + y * 2 + x) % 256)) / 255),
                    "pixel (\(c), \(y), \(x))")
        }
    }

    @Test(arguments: [false, true])
    func readsBothSplitsInFileOrder(gzip: Bool) throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        try writeSplits(dir.path, gzip: gzip)
        let train = try CIFAR10(directory: dir.path, split: .train)
        let test = try CIFAR10(directory: dir.path, split: .test)
        #expect(train.count == 10 && test.count == 3)
        #expect(train.labels == Array(0..<10), "files are read data_batch_1 … data_batch_5")
        #expect(test.labels == [0, 1, 2])
        // Example 3 is record 1 of data_batch_2.bin.
        let expected = records(2, first: 2).pixels[3072...].map { Float($0) / 255 }
        #expect(train[3].0.floats == expected)
        #expect(train.images.shape == [10, 3, 32, 32])
        #expect(train.images.sliced(axis: 0, start: 3, end: 4).floats == expected)
        #expect(train.images.max().item <= 1 && train.images.min().item >= 0)
    }

    @Test func findsTheExtractedArchiveFolder() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let nested = dir.file(CIFAR10.archiveFolder)
        try FileManager.default.createDirectory(atPath: nested, withIntermediateDirectories: true)
        try writeSplits(nested)
        #expect(try CIFAR10(directory: dir.path, split: .test).count == 3)
    }

    @Test func missingDirectorySaysToDownload() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let missing = dir.file("absent")
        let e = try #require(dataError { _ = try CIFAR10(directory: missing, split: .train) })
        #expect(e == DataError(path: missing, .datasetMissing(
            missingFiles: (1...5).map { "data_batch_\($0).bin[.gz]" }, installHint: CIFAR10.installHint)))
        #expect(e.description.contains("CIFAR-10 is not in the package registries"))
        #expect(e.description.contains("download the binary version yourself") && e.description.contains("--data-dir"))
    }

    @Test func missingFileIsNamed() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        try writeSplits(dir.path)
        try FileManager.default.removeItem(atPath: dir.file("data_batch_4.bin"))
        let e = try #require(dataError { _ = try CIFAR10(directory: dir.path, split: .train) })
        #expect(e == DataError(path: dir.path, .datasetMissing(missingFiles: ["data_batch_4.bin[.gz]"],
                                                                installHint: CIFAR10.installHint)))
        #expect(try CIFAR10(directory: dir.path, split: .test).count == 3)
    }

    @Test(arguments: [false, true])
    func truncatedRecordNamesFileAndSizes(gzip: Bool) throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        try writeSplits(dir.path)
        let cut = Array(records(2).encoded().dropLast(100))   // 6046 bytes: one record and 2973 bytes of the next
        let path = try dir.write(gzip ? Zlib.deflate(cut, format: .gzip) : cut, to: "data_batch_3.bin")
        let e = try #require(dataError { _ = try CIFAR10(directory: dir.path, split: .train) })
        #expect(e == DataError(path: path, .truncatedRecord(recordSize: 3073, expected: 6146, got: 6046)))
        #expect(e.description.hasPrefix(path + ":"))
        #expect(e.description.contains("truncated record") && e.description.contains("expected 6146 bytes, got 6046"))
    }

    @Test func labelOutOfRangeNamesFileAndRecord() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        try writeSplits(dir.path)
        var bytes = records(3).encoded()
        bytes[2 * 3073] = 10
        let path = try dir.write(bytes, to: "test_batch.bin")
        let e = try #require(dataError { _ = try CIFAR10(directory: dir.path, split: .test) })
        #expect(e == DataError(path: path, .labelOutOfRange(index: 2, label: 10, classes: 10)))
        #expect(e.description.contains(path) && e.description.contains("label 10 at item 2"))
    }

    @Test func emptyFileIsNamed() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        try writeSplits(dir.path)
        let path = try dir.write([], to: "data_batch_1.bin")
        let e = try #require(dataError { _ = try CIFAR10(directory: dir.path, split: .train) })
        #expect(e == DataError(path: path, .empty))
        #expect(e.description == "\(path): empty file")
    }

    @Test func corruptGzipIsNamed() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        try writeSplits(dir.path)
        var gz = Zlib.deflate(records(3).encoded(), format: .gzip)
        gz[gz.count / 2] ^= 0xFF
        let path = try dir.write(gz, to: "test_batch.bin.gz")   // the .gz name wins over the plain file
        let e = try #require(dataError { _ = try CIFAR10(directory: dir.path, split: .test) })
        #expect(e.path == path)
        guard case .corruptGzip = e.problem else { Issue.record("expected corruptGzip, got \(e)"); return }
    }

    @Test func classNames() {
        #expect(CIFAR10.classNames == ["airplane", "automobile", "bird", "cat", "deer",
                                       "dog", "frog", "horse", "ship", "truck"])
    }

    @Test func batchesThroughTheDataLoader() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        try writeSplits(dir.path)
        let train = try CIFAR10(directory: dir.path, split: .train)
        let batches = Array(DataLoader(train, batchSize: 4))
        #expect(batches.map { $0.0.shape } == [[4, 3, 32, 32], [4, 3, 32, 32], [2, 3, 32, 32]])
        #expect(batches.flatMap { $0.1 } == train.labels)
    }
}

@Suite struct CIFARHostileFileTests {
    @Test func emptyFilesPlainOrGzipAreEmpty() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let plain = try dir.write([], to: "test_batch.bin")
        #expect(dataError { _ = try CIFARBinaryFile(contentsOf: plain) } == DataError(path: plain, .empty))
        let gz = try dir.write(Zlib.deflate([], format: .gzip), to: "empty.gz")
        #expect(dataError { _ = try CIFARBinaryFile(contentsOf: gz) } == DataError(path: gz, .empty))
        let e = dataError { _ = try CIFAR10(directory: dir.path, split: .test) }
        #expect(e == DataError(path: plain, .empty))
    }

    @Test func gzipInflatingPastTheRecordLimitStopsThere() throws {
        let records = [UInt8](repeating: 1, count: 3 * CIFARBinaryFile.recordSize)
        let contents = try FileContents(Zlib.deflate(records, format: .gzip), path: "big.gz")
        let e = dataError { _ = try CIFARBinaryFile(fileContents: contents, maximumRecordCount: 2) }
        #expect(e == DataError(path: "big.gz", .decompressedTooLarge(limit: 2 * CIFARBinaryFile.recordSize)))
        #expect(try CIFARBinaryFile(fileContents: FileContents(Zlib.deflate(records, format: .gzip), path: "ok.gz"),
                                    maximumRecordCount: 3).count == 3)
    }
}
