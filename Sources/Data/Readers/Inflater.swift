import CZlib

/// Inflates a zlib stream or a gzip file step by step, producing no more output than asked for.
///
/// A reader inflates a file's first bytes, reads the header there, and only then decides how much
/// output it accepts (``inflate(upTo:)``); a decompression bomb therefore stops at the size the header
/// declares instead of filling memory. Output is appended to ``output`` in pieces of at most 64 KiB and
/// never grows past the count requested.
final class Inflater {
    /// The bytes inflated so far.
    private(set) var output: [UInt8] = []
    /// Whether the whole input has been inflated (every gzip member, up to the last byte).
    private(set) var isFinished = false

    private let input: [UInt8]
    private let format: Zlib.Format
    /// zlib keeps a pointer back to its stream, so the stream lives at a fixed address.
    private let stream: UnsafeMutablePointer<z_stream>
    private var consumed = 0
    private var chunk = [UInt8](repeating: 0, count: 1 << 16)

    /// An inflater over `input` in `format`; throws when `input` is empty.
    init(_ input: [UInt8], format: Zlib.Format) throws(ZlibFailure) {
        guard !input.isEmpty else { throw .corrupt("no compressed data") }
        self.input = input
        self.format = format
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard inflateInit2_(stream, format.windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .corrupt("inflateInit2 failed")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Inflates until ``output`` holds at least `count` bytes or the input is finished, never past `count`.
    ///
    /// - Throws: ``ZlibFailure/corrupt(_:)`` when the data is malformed or ends before the stream does.
    func inflate(upTo count: Int) throws(ZlibFailure) {
        if count > output.capacity {
            // Deflate expands at most 1032:1, so this reserves no more than the input can produce.
            let possible = input.count.multipliedReportingOverflow(by: 1032)
            output.reserveCapacity(Swift.min(count, possible.overflow ? count : possible.partialValue + 1024))
        }
        while output.count < count && !isFinished {
            try step(maxOutput: Swift.min(count - output.count, chunk.count))
        }
    }

    /// One call of zlib's `inflate` with room for `maxOutput` bytes; handles the end of a gzip member.
    private func step(maxOutput: Int) throws(ZlibFailure) {
        var status: Int32 = Z_OK
        input.withUnsafeBufferPointer { inBuf in
            chunk.withUnsafeMutableBufferPointer { outBuf in
                let available = UInt32(clamping: inBuf.count - consumed)
                stream.pointee.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress! + consumed)
                stream.pointee.avail_in = available
                stream.pointee.next_out = outBuf.baseAddress
                stream.pointee.avail_out = UInt32(maxOutput)
                status = CZlib.inflate(stream, Z_NO_FLUSH)
                consumed += Int(available - stream.pointee.avail_in)
                output.append(contentsOf: outBuf[0..<(maxOutput - Int(stream.pointee.avail_out))])
            }
        }
        switch status {
        case Z_OK:
            return   // progress was made; zlib reports Z_BUF_ERROR when none is possible
        case Z_STREAM_END:
            // Another gzip member may follow (as `cat a.gz b.gz` makes); anything else is an error.
            let rest = input.count - consumed
            if rest == 0 {
                isFinished = true
            } else if format == .gzip && rest >= 2 && input[consumed] == 0x1F && input[consumed + 1] == 0x8B {
                inflateReset(stream)
            } else {
                throw .corrupt("\(rest) unexpected bytes after the end of the compressed stream")
            }
        case Z_BUF_ERROR:
            throw .corrupt("unexpected end of compressed data after \(consumed) bytes (file cut short?)")
        default:
            let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
            throw .corrupt("\(message) at byte \(consumed)")
        }
    }
}
