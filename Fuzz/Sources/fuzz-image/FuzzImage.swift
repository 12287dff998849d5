import CFuzzerDriver
@testable import Data

/// Reads the input as an image file the way `GrayscaleImage.load` does (PNG or binary PGM, by the
/// first bytes). An accepted PNG must decode to the same image after re-encoding, and every accepted
/// image must be a `[1, H, W]` tensor within ImageSizeLimit with values in [0, 1].
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImage(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    do {
        let tensor = try GrayscaleImage.decode(bytes, path: "fuzz")
        precondition(tensor.shape.count == 3 && tensor.shape[0] == 1, "image tensor of shape \(tensor.shape)")
        precondition(tensor.shape[1] <= ImageSizeLimit.maximumSide && tensor.shape[2] <= ImageSizeLimit.maximumSide,
                     "image of \(tensor.shape) is over ImageSizeLimit")
        precondition(tensor.floats.allSatisfy { $0 >= 0 && $0 <= 1 }, "pixel values outside [0, 1]")
        if bytes.starts(with: PNGImage.signature) {
            let image = try PNGImage(decoding: bytes, path: "fuzz")
            guard let again = try? PNGImage(decoding: image.encoded(), path: "fuzz-round-trip"), again == image else {
                fatalError("an accepted PNG does not survive a round trip through the writer")
            }
        }
    } catch {
        // Only DataError can be thrown (typed throws); reaching here is the expected outcome.
    }
    return 0
}

/// The entry point SwiftPM links as `main` (it renames executables' `main` to `fuzz_image_main`): hands the
/// command line to libFuzzer's driver.
@_cdecl("fuzz_image_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc, argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzImage)
}
