import CFuzzerDriver
@testable import Data

/// Reads the input as a CIFAR-10 binary file, plain or gzip-compressed, as
/// `CIFARBinaryFile(contentsOf:)` does (with a 16-record limit on gzip data so that the fuzzer can
/// reach it). An accepted file must be exactly what the writer produces for its records.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCIFAR(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    do {
        let contents = try FileContents(bytes, path: "fuzz")
        let file = try CIFARBinaryFile(fileContents: contents, maximumRecordCount: 16)
        let plain = contents.isGzip ? try contents.all(limit: .max) : bytes
        precondition(file.encoded() == plain, "an accepted CIFAR file differs from its re-encoding")
        precondition(file.labels.allSatisfy { $0 < 10 }, "a label outside 0..<10 was accepted")
    } catch {
        // Only DataError can be thrown (typed throws); reaching here is the expected outcome.
    }
    return 0
}

/// The entry point SwiftPM links as `main` (it renames executables' `main` to `fuzz_cifar_main`): hands the
/// command line to libFuzzer's driver.
@_cdecl("fuzz_cifar_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc, argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzCIFAR)
}
