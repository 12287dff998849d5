/// An error in data read from outside the program: a file that is missing, malformed or inconsistent.
///
/// Every error names the file (or directory) it concerns and what was wrong with it, so a message
/// such as
///
/// ```
/// /data/train-images-idx3-ubyte.gz: truncated: expected 47040016 bytes, got 1000016
/// ```
///
/// can be acted on without a debugger. Compare ``path`` and ``problem`` in code; print the error
/// (``description``) for people.
public struct DataError: Error, Equatable, CustomStringConvertible, Sendable {
    /// What was wrong with the file.
    public enum Problem: Equatable, Sendable {
        /// The file does not exist.
        case fileNotFound
        /// The file exists but could not be read or written (permissions, a directory, I/O failure).
        case unreadable(String)
        /// The file starts with the gzip magic bytes but does not decompress.
        case corruptGzip(String)
        /// An IDX file's first bytes are not `0x00 0x00 type ndim`.
        case badMagic([UInt8])
        /// An IDX element type other than unsigned byte (`0x08`).
        case unsupportedDataType(UInt8)
        /// An IDX file with the wrong number of dimensions for its role (3 for images, 1 for labels).
        case wrongDimensionCount(expected: Int, found: Int, role: String)
        /// The file holds fewer bytes than its header promises.
        case truncated(expected: Int, got: Int)
        /// A file of fixed-size records whose size is not a whole number of records: the last record
        /// is cut short (`expected` is the size rounded up to whole records).
        case truncatedRecord(recordSize: Int, expected: Int, got: Int)
        /// A file that holds no data at all.
        case empty
        /// The file holds more bytes than its header promises.
        case trailingData(expected: Int, got: Int)
        /// Image and label files that disagree on the number of items.
        case countMismatch(imagesPath: String, images: Int, labels: Int)
        /// A data set directory without the files it needs.
        case datasetMissing(missingFiles: [String], installHint: String)
        /// A label value outside the data set's classes.
        case labelOutOfRange(index: Int, label: Int, classes: Int)
        /// A malformed or unsupported image file (PNG, PGM).
        case invalidImage(String)
        /// A size declared by the file overflows or exceeds the reader's documented limit; the string
        /// says which size and which limit.
        case implausibleSize(String)
        /// Gzip data that inflates to more than `limit` bytes, the most the file's header or format
        /// allows; decompression stopped there.
        case decompressedTooLarge(limit: Int)
        /// A data set file that holds no items (`role`: "images", "labels").
        case noItems(role: String)
        /// Images of a shape other than the one the data set promises (height, width).
        case wrongImageShape(expected: [Int], found: [Int])
        /// Text that is not valid UTF-8; `offset` is the position of the first bad byte (from 0).
        case invalidUTF8(offset: Int)
        /// Text too short for its use: `count` tokens where at least `needed` are required (a context
        /// window and its next token).
        case textTooShort(count: Int, needed: Int)
        /// A tokenizer file that is not valid JSON, not in the documented format, or inconsistent; the
        /// string says what was wrong.
        case invalidTokenizerFile(String)
    }

    /// The file or directory concerned.
    public var path: String
    /// What was wrong with it.
    public var problem: Problem

    /// An error about the file at `path`.
    public init(path: String, _ problem: Problem) {
        self.path = path
        self.problem = problem
    }

    /// `path: problem`, in words.
    public var description: String {
        let what: String
        switch problem {
        case .fileNotFound:
            what = "file not found"
        case .unreadable(let reason):
            what = "cannot read or write file: \(reason)"
        case .corruptGzip(let reason):
            what = "corrupt gzip data: \(reason)"
        case .badMagic(let bytes):
            let hex = bytes.map { "0x" + String($0, radix: 16, uppercase: true).leftPadded(to: 2) }
            what = "bad IDX magic number \(hex.joined(separator: " ")) (expected 0x00 0x00 <type> <dimensions>)"
        case .unsupportedDataType(let code):
            let name = idxTypeNames[code].map { " (\($0))" } ?? ""
            what = "unsupported IDX data type 0x\(String(code, radix: 16, uppercase: true).leftPadded(to: 2))\(name); "
                + "only unsigned byte (0x08) is supported"
        case .wrongDimensionCount(let expected, let found, let role):
            what = "wrong number of dimensions for \(role): expected \(expected), found \(found)"
        case .truncated(let expected, let got):
            what = "truncated: expected \(expected) bytes, got \(got)"
        case .truncatedRecord(let recordSize, let expected, let got):
            what = "truncated record: records are \(recordSize) bytes each, so expected \(expected) bytes, got \(got)"
        case .empty:
            what = "empty file"
        case .trailingData(let expected, let got):
            what = "wrong size: expected \(expected) bytes, got \(got) (extra data after the last item)"
        case .countMismatch(let imagesPath, let images, let labels):
            what = "\(labels) labels, but \(imagesPath) holds \(images) images"
        case .datasetMissing(let files, let hint):
            what = "missing \(files.joined(separator: ", ")). \(hint)"
        case .labelOutOfRange(let index, let label, let classes):
            what = "label \(label) at item \(index) is outside 0..<\(classes)"
        case .invalidImage(let reason):
            what = "invalid image: \(reason)"
        case .implausibleSize(let reason):
            what = "implausible size: \(reason)"
        case .decompressedTooLarge(let limit):
            what = "gzip data inflates to more than \(limit) bytes, the most this file can hold "
                + "(data after the last item, or a decompression bomb)"
        case .noItems(let role):
            what = "no \(role): the file holds 0 items, and a data set needs at least one"
        case .wrongImageShape(let expected, let found):
            what = "images are \(found.map(String.init).joined(separator: "×")), "
                + "but this data set's images are \(expected.map(String.init).joined(separator: "×"))"
        case .invalidUTF8(let offset):
            what = "not valid UTF-8 text: bad byte at offset \(offset)"
        case .textTooShort(let count, let needed):
            what = "text too short: \(count) tokens, but at least \(needed) are needed (a context window and its next token)"
        case .invalidTokenizerFile(let reason):
            what = "invalid tokenizer file: \(reason)"
        }
        return "\(path): \(what)"
    }
}

private let idxTypeNames: [UInt8: String] = [
    0x09: "signed byte", 0x0B: "short", 0x0C: "int", 0x0D: "float", 0x0E: "double",
]

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
