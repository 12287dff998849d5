/// The bytes of a data file, inflated on demand when they are gzip-compressed.
///
/// Compression is recognised by the gzip magic bytes, not by the file name. A reader looks at the
/// first bytes (``prefix(_:)``), works out from its header how large the file can be, and then asks
/// for everything with that limit (``all(limit:)``): gzip data that would inflate past the limit
/// throws ``DataError/Problem/decompressedTooLarge(limit:)`` after inflating at most `limit + 1`
/// bytes, so a small file can never make a reader allocate more than its header justifies.
struct FileContents {
    /// The file the bytes came from, for errors.
    let path: String
    private let raw: [UInt8]
    private let inflater: Inflater?

    /// The contents of the file at `path`.
    ///
    /// - Throws: ``DataError`` naming `path`: ``DataError/Problem/fileNotFound``,
    ///   ``DataError/Problem/unreadable(_:)``.
    init(path: String) throws(DataError) {
        try self.init(FileIO.read(path), path: path)
    }

    /// `bytes` as read from a file; `path` names it in errors.
    init(_ bytes: [UInt8], path: String) throws(DataError) {
        self.path = path
        raw = bytes
        do {
            inflater = Zlib.isGzip(bytes) ? try Inflater(bytes, format: .gzip) : nil
        } catch {
            throw FileContents.gzipError(error, path: path)
        }
    }

    /// Whether the file is gzip-compressed.
    var isGzip: Bool { inflater != nil }

    /// The first `count` bytes of the (decompressed) contents, or all of them when there are fewer.
    ///
    /// - Throws: ``DataError/Problem/corruptGzip(_:)`` when those bytes do not inflate.
    func prefix(_ count: Int) throws(DataError) -> [UInt8] {
        guard let inflater else { return Array(raw.prefix(count)) }
        do { try inflater.inflate(upTo: count) } catch { throw FileContents.gzipError(error, path: path) }
        return Array(inflater.output.prefix(count))
    }

    /// All of the (decompressed) contents.
    ///
    /// A plain file is returned whole whatever its size (it is already in memory; the reader checks
    /// its size against the header and reports the difference exactly).
    ///
    /// - Throws: ``DataError/Problem/decompressedTooLarge(limit:)`` when gzip data inflates to more
    ///   than `limit` bytes, ``DataError/Problem/corruptGzip(_:)`` when it does not inflate.
    func all(limit: Int) throws(DataError) -> [UInt8] {
        guard let inflater else { return raw }
        do { try inflater.inflate(upTo: limit == .max ? limit : limit + 1) } catch { throw FileContents.gzipError(error, path: path) }
        guard inflater.output.count <= limit else { throw DataError(path: path, .decompressedTooLarge(limit: limit)) }
        return inflater.output
    }

    private static func gzipError(_ failure: ZlibFailure, path: String) -> DataError {
        switch failure {
        case .corrupt(let reason): DataError(path: path, .corruptGzip(reason))
        case .tooLarge(let limit): DataError(path: path, .decompressedTooLarge(limit: limit))
        }
    }
}
