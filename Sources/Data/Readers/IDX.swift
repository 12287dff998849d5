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

    /// An IDX array of unsigned bytes.
    ///
    /// - Precondition: `bytes.count` is the product of `dimensions`, each of which fits in 32 bits.
    public init(dimensions: [Int], bytes: [UInt8]) {
        precondition(dimensions.allSatisfy { $0 >= 0 && $0 <= Int(UInt32.max) } && dimensions.count <= 255,
                     "IDXFile: invalid dimensions \(dimensions)")
        precondition(dimensions.reduce(1, *) == bytes.count,
                     "IDXFile: dimensions \(dimensions) need \(dimensions.reduce(1, *)) bytes, got \(bytes.count)")
        self.dimensions = dimensions
        self.bytes = bytes
    }

    /// Reads and validates the IDX file at `path` (gzip-compressed or not).
    ///
    /// - Parameters:
    ///   - expectedDimensionCount: when given, the number of dimensions the file must have
    ///     (3 for images, 1 for labels).
    ///   - role: what the file holds, for error messages ("images", "labels").
    /// - Throws: ``DataError`` naming `path`: ``DataError/Problem/fileNotFound``,
    ///   ``DataError/Problem/corruptGzip(_:)``, ``DataError/Problem/badMagic(_:)``,
    ///   ``DataError/Problem/unsupportedDataType(_:)``,
    ///   ``DataError/Problem/wrongDimensionCount(expected:found:role:)``,
    ///   ``DataError/Problem/truncated(expected:got:)`` or ``DataError/Problem/trailingData(expected:got:)``.
    public init(contentsOf path: String, expectedDimensionCount: Int? = nil, role: String = "data") throws(DataError) {
        let data = try FileIO.readMaybeGzip(path)
        try self.init(decoding: data, path: path, expectedDimensionCount: expectedDimensionCount, role: role)
    }

    /// Decodes and validates IDX `data` (already decompressed); `path` names the source in errors.
    public init(decoding data: [UInt8], path: String, expectedDimensionCount: Int? = nil,
                role: String = "data") throws(DataError) {
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
        var dims = [Int]()
        for d in 0..<rank {
            let o = 4 + 4 * d
            dims.append(Int(data[o]) << 24 | Int(data[o + 1]) << 16 | Int(data[o + 2]) << 8 | Int(data[o + 3]))
        }
        let (elementCount, overflow) = dims.reduce((1, false)) { acc, d in
            let (p, o) = acc.0.multipliedReportingOverflow(by: d)
            return (p, acc.1 || o)
        }
        let expectedSize = overflow ? Int.max : headerSize + elementCount
        if data.count < expectedSize { throw DataError(path: path, .truncated(expected: expectedSize, got: data.count)) }
        if data.count > expectedSize { throw DataError(path: path, .trailingData(expected: expectedSize, got: data.count)) }
        self.init(dimensions: dims, bytes: Array(data[headerSize...]))
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

    /// Writes the file to `path`, gzip-compressed when `gzip` is true.
    public func write(to path: String, gzip: Bool = false) throws(DataError) {
        let raw = encoded()
        try FileIO.write(gzip ? Zlib.deflate(raw, format: .gzip) : raw, to: path)
    }
}
