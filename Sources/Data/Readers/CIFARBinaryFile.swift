import Foundation

/// One file of CIFAR-10's binary version (`data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`):
/// a sequence of fixed-size records, each one label byte followed by a 32×32 colour image.
///
/// A record is ``recordSize`` = 3073 bytes: the label (0...9), then 1024 red, 1024 green and 1024 blue
/// bytes, each plane row-major. The file has no header, so its size alone says how many records it
/// holds (10,000 in the official files). Files may be gzip-compressed; compression is recognised by the
/// gzip magic bytes, not by the file name.
///
/// ```swift
/// let batch = try CIFARBinaryFile(contentsOf: "cifar-10-batches-bin/test_batch.bin")
/// print(batch.count, batch.labels[0])   // 10000 3
/// ```
public struct CIFARBinaryFile: Equatable, Sendable {
    /// Image height and width in pixels (32).
    public static let side = 32
    /// Colour channels per image (3: red, green, blue).
    public static let channels = 3
    /// Bytes of one image: 3 planes of 32×32 (3072).
    public static let imageSize = channels * side * side
    /// Bytes of one record: a label byte and an image (3073).
    public static let recordSize = 1 + imageSize
    /// The most records a gzip-compressed file may inflate to: 2^17 = 131,072 (about 403 MB), twice
    /// the whole of CIFAR-10. Plain files are limited only by their size.
    public static let maximumCompressedRecordCount = 1 << 17

    /// One class index per record.
    public var labels: [UInt8]
    /// The images, ``imageSize`` bytes each, concatenated in record order (labels removed): image `i`'s
    /// channel `c`, row `y`, column `x` is `pixels[i * 3072 + c * 1024 + y * 32 + x]`.
    public var pixels: [UInt8]

    /// Records made of `labels` and `pixels`.
    ///
    /// - Precondition: `pixels.count == labels.count * 3072`.
    public init(labels: [UInt8], pixels: [UInt8]) {
        precondition(pixels.count == labels.count * CIFARBinaryFile.imageSize,
                     "CIFARBinaryFile: \(labels.count) labels need \(labels.count * CIFARBinaryFile.imageSize) pixel bytes, got \(pixels.count)")
        self.labels = labels
        self.pixels = pixels
    }

    /// The number of records.
    public var count: Int { labels.count }

    /// Reads and validates the CIFAR-10 binary file at `path` (gzip-compressed or not).
    ///
    /// - Parameters:
    ///   - path: the file to read.
    ///   - classCount: every label must lie in `0..<classCount` (10 for CIFAR-10).
    /// - Throws: ``DataError`` naming `path`: ``DataError/Problem/fileNotFound``,
    ///   ``DataError/Problem/corruptGzip(_:)``, ``DataError/Problem/decompressedTooLarge(limit:)`` (gzip
    ///   data of more than ``maximumCompressedRecordCount`` records), ``DataError/Problem/empty``,
    ///   ``DataError/Problem/truncatedRecord(recordSize:expected:got:)`` or
    ///   ``DataError/Problem/labelOutOfRange(index:label:classes:)``.
    public init(contentsOf path: String, classCount: Int = 10) throws(DataError) {
        try self.init(fileContents: FileContents(path: path), classCount: classCount)
    }

    /// Decodes and validates a file's contents (gzip-compressed or not); gzip data may inflate to at
    /// most `maximumRecordCount` records.
    init(fileContents contents: FileContents, classCount: Int = 10,
         maximumRecordCount: Int = CIFARBinaryFile.maximumCompressedRecordCount) throws(DataError) {
        let limit = maximumRecordCount * CIFARBinaryFile.recordSize
        try self.init(decoding: contents.all(limit: limit), path: contents.path, classCount: classCount)
    }

    /// Decodes and validates records `data` (already decompressed); `path` names the source in errors.
    public init(decoding data: [UInt8], path: String, classCount: Int = 10) throws(DataError) {
        let recordSize = CIFARBinaryFile.recordSize, imageSize = CIFARBinaryFile.imageSize
        guard !data.isEmpty else { throw DataError(path: path, .empty) }
        let (count, remainder) = data.count.quotientAndRemainder(dividingBy: recordSize)
        guard remainder == 0 else {
            throw DataError(path: path, .truncatedRecord(recordSize: recordSize, expected: (count + 1) * recordSize,
                                                          got: data.count))
        }
        var labels = [UInt8](repeating: 0, count: count)
        var pixels = [UInt8](repeating: 0, count: count * imageSize)
        data.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                for i in 0..<count {
                    labels[i] = src[i * recordSize]
                    (dst.baseAddress! + i * imageSize).update(from: src.baseAddress! + i * recordSize + 1, count: imageSize)
                }
            }
        }
        if let bad = labels.firstIndex(where: { Int($0) >= classCount }) {
            throw DataError(path: path, .labelOutOfRange(index: bad, label: Int(labels[bad]), classes: classCount))
        }
        self.init(labels: labels, pixels: pixels)
    }

    /// The file's bytes: each record's label followed by its image.
    public func encoded() -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(count * CIFARBinaryFile.recordSize)
        for i in 0..<count {
            out.append(labels[i])
            out += pixels[(i * CIFARBinaryFile.imageSize)..<((i + 1) * CIFARBinaryFile.imageSize)]
        }
        return out
    }

    /// Writes the file to `url`, gzip-compressed when `gzip` is true.
    public func save(to url: URL, gzip: Bool = false) throws(DataError) {
        let raw = encoded()
        try FileIO.write(gzip ? Zlib.deflate(raw, format: .gzip) : raw, to: url.path)
    }
}
