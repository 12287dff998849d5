// swift-tools-version: 6.0
// The benchmarks are their own package so that users of the library never resolve their dependencies.
import PackageDescription

let package = Package(
    name: "swift-autograd-benchmarks",
    dependencies: [
        .package(name: "swift-autograd", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // A direct line to OpenBLAS, to measure the GEMM ceiling that Tensor.matmul is compared with.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas"),
        // The cores' multiply-add ceiling, the floor under every rate the micro-benchmarks report.
        .target(name: "CPeak"),
        // Data-parallel scaling and all-reduce bandwidth, run under mpirun (Docs/Distributed.md).
        .executableTarget(
            name: "distributed-bench",
            dependencies: [
                .product(name: "NN", package: "swift-autograd"),
                .product(name: "Optim", package: "swift-autograd"),
                .product(name: "Distributed", package: "swift-autograd"),
            ]
        ),
        .executableTarget(
            name: "autograd-bench",
            dependencies: [
                .product(name: "NN", package: "swift-autograd"),
                .product(name: "Optim", package: "swift-autograd"),
                .product(name: "ONNX", package: "swift-autograd"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                "CBLAS",
                "CPeak",
            ]
        ),
    ],
    swiftLanguageModes: [.v5]
)
