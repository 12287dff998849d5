import CFuzzerDriver
import AutoGrad
import Foundation

/// Decodes the input as a safetensors file. Every outcome but a thrown `SafeTensorsError` or a file
/// that survives a round trip is a bug: a crash, a leak of another error type, or a decoded file that
/// the writer cannot reproduce.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = Data(UnsafeBufferPointer(start: start, count: count))
    // The typed view (integers kept as integers) obeys the same rules.
    do {
        let stored = try SafeTensors.decodeStored(data, path: "fuzz")
        let encoded = SafeTensors.encode(stored: stored.tensors, metadata: stored.metadata)
        guard let again = try? SafeTensors.decodeStored(encoded, path: "fuzz-round-trip"),
              SafeTensors.encode(stored: again.tensors, metadata: again.metadata) == encoded else {
            fatalError("an accepted file does not survive a round trip through the typed writer")
        }
    } catch is SafeTensorsError {
    } catch {
        fatalError("SafeTensors.decodeStored threw \(type(of: error)), not SafeTensorsError: \(error)")
    }
    let decoded: (tensors: [String: Tensor], metadata: [String: String])
    do {
        decoded = try SafeTensors.decode(data, path: "fuzz")
    } catch is SafeTensorsError {
        return 0
    } catch {
        fatalError("SafeTensors.decode threw \(type(of: error)), not SafeTensorsError: \(error)")
    }
    // What was accepted must survive a round trip through the writer, bit for bit.
    let encoded = SafeTensors.encode(decoded.tensors, metadata: decoded.metadata)
    guard let again = try? SafeTensors.decode(encoded, path: "fuzz-round-trip"),
          SafeTensors.encode(again.tensors, metadata: again.metadata) == encoded else {
        fatalError("an accepted file does not survive a round trip through the writer")
    }
    return 0
}

/// The entry point SwiftPM links as `main` (it renames executables' `main` to `fuzz_safetensors_main`): hands the
/// command line to libFuzzer's driver.
@_cdecl("fuzz_safetensors_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc, argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzSafeTensors)
}
