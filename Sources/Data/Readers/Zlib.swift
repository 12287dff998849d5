import CZlib
import Foundation

/// zlib helpers shared by the IDX reader and the PNG writer/reader.
enum Zlib {
    /// Whether `bytes` start with the gzip magic number `1F 8B`.
    static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// The format a compressed stream is in.
    enum Format {
        /// RFC 1950 zlib stream (PNG's IDAT).
        case zlib
        /// RFC 1952 gzip file, possibly several members one after another (as `cat a.gz b.gz` makes).
        case gzip

        var windowBits: Int32 { self == .zlib ? MAX_WBITS : MAX_WBITS + 16 }
    }

    /// The decompressed bytes of `input`, at most `limit` of them.
    ///
    /// Decompression stops as soon as the output would pass `limit`, so no more than `limit + 1` bytes
    /// are ever held.
    ///
    /// - Throws: ``ZlibFailure/tooLarge(limit:)`` when the data inflates to more than `limit` bytes,
    ///   ``ZlibFailure/corrupt(_:)`` when it is malformed.
    static func inflate(_ input: [UInt8], format: Format, limit: Int) throws(ZlibFailure) -> [UInt8] {
        let inflater = try Inflater(input, format: format)
        try inflater.inflate(upTo: limit == .max ? limit : limit + 1)
        guard inflater.output.count <= limit else { throw .tooLarge(limit: limit) }
        return inflater.output
    }

    /// `input` compressed as a zlib stream (PNG) or a gzip file, at `level` (0–9).
    static func deflate(_ input: [UInt8], format: Format, level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        let status = deflateInit2_(&stream, level, Z_DEFLATED, format.windowBits, 8, Z_DEFAULT_STRATEGY,
                                   ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "Zlib.deflate: deflateInit2 failed (\(status))")
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
        let written: Int = input.withUnsafeBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress ?? UnsafePointer(outBuf.baseAddress!))
                stream.avail_in = UInt32(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = UInt32(outBuf.count)
                let result = CZlib.deflate(&stream, Z_FINISH)
                precondition(result == Z_STREAM_END, "Zlib.deflate: output buffer too small (\(result))")
                return outBuf.count - Int(stream.avail_out)
            }
        }
        return Array(output[0..<written])
    }

    /// `input` compressed as a zlib stream with `compress2` (PNG's IDAT data).
    static func compress(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
        var size = compressBound(uLong(input.count))
        var output = [UInt8](repeating: 0, count: Int(size))
        let status = output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBufferPointer { inp in
                compress2(out.baseAddress, &size, inp.baseAddress, uLong(inp.count), level)
            }
        }
        precondition(status == Z_OK, "Zlib.compress: compress2 failed (\(status))")
        return Array(output[0..<Int(size)])
    }

    /// The CRC-32 of `bytes` (as PNG chunks and gzip use), continuing from `crc`.
    static func crc32<C: Collection>(_ bytes: C, continuing crc: UInt32 = 0) -> UInt32 where C.Element == UInt8 {
        let result = bytes.withContiguousStorageIfAvailable { buf in
            CZlib.crc32(uLong(crc), buf.baseAddress, uInt(buf.count))
        } ?? Array(bytes).withUnsafeBufferPointer { buf in
            CZlib.crc32(uLong(crc), buf.baseAddress, uInt(buf.count))
        }
        return UInt32(truncatingIfNeeded: result)
    }
}

/// What went wrong when inflating a zlib stream or gzip file.
enum ZlibFailure: Error, Equatable {
    /// The data is malformed or cut short; the string says how, in words.
    case corrupt(String)
    /// The data inflates to more than `limit` bytes; inflation stopped there.
    case tooLarge(limit: Int)
}

/// Reading and writing whole files, with errors that name the file.
enum FileIO {
    /// The bytes of the file at `path`.
    static func read(_ path: String) throws(DataError) -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError(path: path, .fileNotFound)
        }
        if isDirectory.boolValue { throw DataError(path: path, .unreadable("is a directory")) }
        do {
            return [UInt8](try Foundation.Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw DataError(path: path, .unreadable(error.localizedDescription))
        }
    }

    /// Writes `bytes` to `path`, replacing any file there.
    static func write(_ bytes: [UInt8], to path: String) throws(DataError) {
        do {
            try Foundation.Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw DataError(path: path, .unreadable(error.localizedDescription))
        }
    }
}
