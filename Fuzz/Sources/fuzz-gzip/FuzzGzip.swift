import CFuzzerDriver
@testable import Data

/// Inflates the input as gzip data with a 1 MiB limit, through `Zlib.inflate` and step by step
/// through `Inflater`. Both must agree, stay within the limit, and recompress to the same bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGzip(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let limit = 1 << 20
    let whole: [UInt8]
    do {
        whole = try Zlib.inflate(bytes, format: .gzip, limit: limit)
    } catch {
        return 0   // ZlibFailure (typed throws): corrupt or over the limit
    }
    precondition(whole.count <= limit, "inflated \(whole.count) bytes past the limit \(limit)")
    // Inflating in small steps gives the same bytes and never overshoots a step.
    if let inflater = try? Inflater(bytes, format: .gzip) {
        var asked = 0
        while !inflater.isFinished {
            asked += 1000
            guard (try? inflater.inflate(upTo: asked)) != nil else { fatalError("stepwise inflation failed where whole inflation succeeded") }
            precondition(inflater.output.count <= asked, "inflated \(inflater.output.count) bytes when asked for \(asked)")
        }
        precondition(inflater.output == whole, "stepwise and whole inflation disagree")
    }
    precondition(try! Zlib.inflate(Zlib.deflate(whole, format: .gzip), format: .gzip, limit: limit) == whole,
                 "inflated data does not survive recompression")
    return 0
}

/// The entry point SwiftPM links as `main` (it renames executables' `main` to `fuzz_gzip_main`): hands the
/// command line to libFuzzer's driver.
@_cdecl("fuzz_gzip_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc, argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzGzip)
}
