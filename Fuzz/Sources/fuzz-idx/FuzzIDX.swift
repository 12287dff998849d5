import CFuzzerDriver
@testable import Data

/// Reads the input as an IDX file, plain or gzip-compressed, as `IDXFile(contentsOf:)` does. A file
/// that is accepted must be exactly what the writer produces for the array it decoded to.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    do {
        let contents = try FileContents(bytes, path: "fuzz")
        let file = try IDXFile(fileContents: contents)
        let plain = contents.isGzip ? try contents.all(limit: .max) : bytes
        precondition(file.encoded() == plain, "an accepted IDX file differs from its re-encoding")
    } catch {
        // Only DataError can be thrown (typed throws); reaching here is the expected outcome.
    }
    return 0
}

/// The entry point SwiftPM links as `main` (it renames executables' `main` to `fuzz_idx_main`): hands the
/// command line to libFuzzer's driver.
@_cdecl("fuzz_idx_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc, argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzIDX)
}
