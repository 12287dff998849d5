import Foundation

/// An IDX file (the format of MNIST and Fashion-MNIST): an array of unsigned bytes with its dimensions.
///
/// The format is a 4-byte magic number `0x00 0x00 type ndim`, then `ndim` big-endian 32-bit
/// dimension sizes, then the elements in row-major order. Only the unsigned-byte type (`0x08`) is
/// supported, which is what MNIST-style data sets use. Files may be gzip-compressed; compression is
/// recognised by the gzip magic bytes, not by the file name.
///
/// ```swift
/// let images = try IDXFile(contentsOf: "train-images-idx3-ubyte.gz", expectedDimensionCount: 3, role: "images")
/// print(images.dimensions)   // [60000, 28, 28]
/// ```
public struct IDXFile: Equatable, Sendable {
    /// The IDX type code of unsigned bytes, the only element type supported.
    public static let unsignedByteType: UInt8 = 0x08

    /// The size of each dimension, outermost first.
    public var dimensions: [Int]
    /// The elements, row-major; `bytes.count` is the product of `dimensions`.
    public var bytes: [UInt8]

    /// The most elements a file may declare: 2^32 (4 GiB of data). The largest MNIST-style file,
    /// EMNIST's by-class training images, holds about 0.55 GB.
    public static let maximumElementCount = 1 << 32

    /// The largest header: the magic number and 255 dimensions.
    static let maximumHeaderSize = 4 + 4 * 255

    /// An IDX array of unsigned bytes.
    ///
    /// - Precondition: at most 255 dimensions, each of which fits in 32 bits, and `bytes.count` is
    ///   their product.
    public init(dimensions: [Int], bytes: [UInt8]) {
        precondition(dimensions.allSatisfy { $0 >= 0 && $0 <= Int(UInt32.max) } && dimensions.count <= 255,
                     "IDXFile: invalid dimensions \(dimensions)")
        precondition(CheckedSize.product(dimensions) == bytes.count,
                     "IDXFile: dimensions \(dimensions) need \(CheckedSize.product(dimensions).map(String.init) ?? "more than Int.max") bytes, got \(bytes.count)")
        self.dimensions = dimensions
        self.bytes = bytes
    }

    /// Reads and validates the IDX file at `path` (gzip-compressed or not).
    ///
    /// A gzip-compressed file is inflated header first; the rest is inflated only up to the size the
    /// header declares.
    ///
    /// - Parameters:
    ///   - path: the file to read.
    ///   - expectedDimensionCount: when given, the number of dimensions the file must have
    ///     (3 for images, 1 for labels).
    ///   - role: what the file holds, for error messages ("images", "labels").
    /// - Throws: ``DataError`` naming `path`: ``DataError/Problem/fileNotFound``,
    ///   ``DataError/Problem/corruptGzip(_:)``, ``DataError/Problem/badMagic(_:)``,
    ///   ``DataError/Problem/unsupportedDataType(_:)``,
    ///   ``DataError/Problem/wrongDimensionCount(expected:found:role:)``,
    ///   ``DataError/Problem/implausibleSize(_:)`` (more than ``maximumElementCount`` elements),
    ///   ``DataError/Problem/truncated(expected:got:)``, ``DataError/Problem/trailingData(expected:got:)``
    ///   or, for gzip data that inflates past the declared size, ``DataError/Problem/decompressedTooLarge(limit:)``.
    public init(contentsOf path: String, expectedDimensionCount: Int? = nil, role: String = "data") throws(DataError) {
        try self.init(fileContents: FileContents(path: path), expectedDimensionCount: expectedDimensionCount, role: role)
    }

    /// Decodes and validates a file's contents (gzip-compressed or not): the header first, then no
    /// more data than the header declares.
    init(fileContents contents: FileContents, expectedDimensionCount: Int? = nil, role: String = "data") throws(DataError) {
        let header = try IDXFile.header(of: contents.prefix(IDXFile.maximumHeaderSize), path: contents.path,
                                        expectedDimensionCount: expectedDimensionCount, role: role)
        let data = try contents.all(limit: header.fileSize)
        try self.init(decoding: data, path: contents.path, expectedDimensionCount: expectedDimensionCount, role: role)
    }

    /// Decodes and validates IDX `data` (already decompressed); `path` names the source in errors.
    public init(decoding data: [UInt8], path: String, expectedDimensionCount: Int? = nil,
                role: String = "data") throws(DataError) {
        let header = try IDXFile.header(of: data, path: path, expectedDimensionCount: expectedDimensionCount, role: role)
        if data.count < header.fileSize { throw DataError(path: path, .truncated(expected: header.fileSize, got: data.count)) }
        if data.count > header.fileSize { throw DataError(path: path, .trailingData(expected: header.fileSize, got: data.count)) }
        self.init(dimensions: header.dimensions, bytes: Array(data[header.size...]))
    }

    /// What an IDX header declares.
    struct Header {
        /// The size of each dimension, outermost first.
        let dimensions: [Int]
        /// Bytes of the header: 4 + 4 × the number of dimensions.
        let size: Int
        /// Bytes of the whole file: header and elements (at most ``IDXFile/maximumElementCount`` of them).
        let fileSize: Int
    }

    /// The header at the start of `data`, validated.
    static func header(of data: [UInt8], path: String, expectedDimensionCount: Int?, role: String) throws(DataError) -> Header {
        guard data.count >= 4 else { throw DataError(path: path, .truncated(expected: 4, got: data.count)) }
        guard data[0] == 0, data[1] == 0, data[3] > 0 else {
            throw DataError(path: path, .badMagic(Array(data[0..<4])))
        }
        guard data[2] == IDXFile.unsignedByteType else { throw DataError(path: path, .unsupportedDataType(data[2])) }
        let rank = Int(data[3])
        if let expected = expectedDimensionCount, rank != expected {
            throw DataError(path: path, .wrongDimensionCount(expected: expected, found: rank, role: role))
        }
        let headerSize = 4 + 4 * rank
        guard data.count >= headerSize else {
            throw DataError(path: path, .truncated(expected: headerSize, got: data.count))
        }
        let dimensions = (0..<rank).map { d in
            let o = 4 + 4 * d
            return Int(data[o]) << 24 | Int(data[o + 1]) << 16 | Int(data[o + 2]) << 8 | Int(data[o + 3])
        }
        guard let elementCount = CheckedSize.product(dimensions, limit: IDXFile.maximumElementCount) else {
            throw DataError(path: path, .implausibleSize(
                "dimensions \(dimensions.map(String.init).joined(separator: "×")) declare more than "
                + "\(IDXFile.maximumElementCount) elements, the most an IDX file may hold"))
        }
        // Both terms are bounded (1,024 and 2^32), so the sum cannot overflow.
        return Header(dimensions: dimensions, size: headerSize, fileSize: headerSize + elementCount)
    }

    /// The file's bytes: header then elements.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = [0, 0, IDXFile.unsignedByteType, UInt8(dimensions.count)]
        out.reserveCapacity(4 + 4 * dimensions.count + bytes.count)
        for d in dimensions {
            let v = UInt32(d)
            out += [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
        }
        out += bytes
        return out
    }

    /// Writes the file to `url`, gzip-compressed when `gzip` is true.
    public func save(to url: URL, gzip: Bool = false) throws(DataError) {
        let raw = encoded()
        try FileIO.write(gzip ? Zlib.deflate(raw, format: .gzip) : raw, to: url.path)
    }
}
