// swift-tools-version: 6.0
// Fuzz targets for the readers of outside data, in their own package so that the library is unaffected.
// Build and run them with scripts/fuzz.sh (see README.md): they need `-sanitize=fuzzer` and a debug build
// of the root package, whose internal entry points they reach with `@testable import`.
import PackageDescription

/// A libFuzzer target: `Sources/<name>/`, one `LLVMFuzzerTestOneInput` over the library products given.
func fuzzTarget(_ name: String, _ products: [String]) -> Target {
    .executableTarget(name: name, dependencies: ["CFuzzerDriver"] + products.map { .product(name: $0, package: "swift-autograd") })
}

let package = Package(
    name: "swift-autograd-fuzz",
    dependencies: [
        .package(name: "swift-autograd", path: ".."),
    ],
    targets: [
        // Declares libFuzzer's driver, which each target's entry point calls.
        .target(name: "CFuzzerDriver"),
        fuzzTarget("fuzz-safetensors", ["AutoGrad"]),
        fuzzTarget("fuzz-idx", ["Data"]),
        fuzzTarget("fuzz-cifar", ["Data"]),
        fuzzTarget("fuzz-image", ["Data"]),
        fuzzTarget("fuzz-gzip", ["Data"]),
    ],
    swiftLanguageModes: [.v5]
)
