// swift-tools-version: 6.0
import PackageDescription

/// An example program: an executable in Examples/<name> using every library module and the shared support code.
func example(_ name: String) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["NN", "Optim", "Data", "Training", "ONNX", "ExampleSupport",
                       .product(name: "ArgumentParser", package: "swift-argument-parser")],
        path: "Examples/\(name)"
    )
}

let package = Package(
    name: "swift-autograd",
    products: [
        .library(name: "AutoGrad", targets: ["AutoGrad"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Optim", targets: ["Optim"]),
        .library(name: "Data", targets: ["Data"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "Distributed", targets: ["Distributed"]),
        // Helpers for tests of ops (seeded inputs, tolerance comparison, gradient checks, op inventory), for this
        // package's tests and for packages that add ops of their own.
        .library(name: "AutoGradTestSupport", targets: ["AutoGradTestSupport"]),
        .library(name: "ONNX", targets: ["ONNX"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `swift package generate-documentation`: the DocC catalogs in Sources/<Module>/<Module>.docc.
        .package(url: "https://github.com/apple/swift-docc-plugin", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
    ],
    targets: [
        // OpenBLAS (cblas.h) and LAPACKE (lapacke.h) from Debian's libopenblas-dev and liblapacke-dev.
        // pkg-config supplies the OpenBLAS include path, which is not on the default search path.
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev", "pkg-config"])]
        ),
        // zlib from Debian's zlib1g-dev: gzip-compressed IDX files and PNG output.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // Open MPI from Debian's libopenmpi-dev (and openmpi-bin for mpirun), for Distributed only.
        .systemLibrary(
            name: "CMPI",
            pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]
        ),
        // Header-only helpers that let hot loops vectorise (see vector_math.h).
        .systemLibrary(name: "CVectorMath"),
        // Arithmetic-bound loops built for several x86-64 feature levels, chosen at load (see ckernels.h).
        .target(name: "CKernels"),
        .target(
            name: "AutoGrad",
            dependencies: [
                "COpenBLAS",
                "CKernels",
                "CVectorMath",
                .product(name: "RealModule", package: "swift-numerics"),
            ]
        ),
        .target(name: "NN", dependencies: ["AutoGrad", "CKernels"]),
        .target(name: "AutoGradTestSupport", dependencies: ["AutoGrad"]),
        .target(name: "Optim", dependencies: ["AutoGrad", "CKernels", "CVectorMath"]),
        .target(name: "Data", dependencies: ["AutoGrad", "CZlib"]),
        // What a training run needs beyond layers and optimizers: checkpoint sets of model, optimizer, schedule,
        // step and RNG state, written atomically; a progress bar; evaluation metrics.
        .target(name: "Training", dependencies: ["NN", "Optim", "Data", "CZlib"]),
        // Data-parallel training over MPI: process group, collectives, bucketed gradient all-reduce.
        .target(name: "Distributed", dependencies: ["AutoGrad", "NN", "CMPI"]),
        // Run by DistributedTests under mpirun: checks that need several processes.
        .executableTarget(name: "distributed-check", dependencies: ["Distributed", "NN", "Optim", "Data", "Training"],
                          path: "Tests/DistributedCheck"),
        // Export of trained modules to ONNX files; the message code is generated from onnx.proto once and committed
        // (scripts/generate-onnx-proto.sh).
        .target(name: "ONNX", dependencies: ["NN", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // Examples: executables that train on real data. ExampleSupport holds what they share
        // (classifier training loop, command-line options, error exit); it is not a product.
        .target(name: "ExampleSupport", dependencies: ["NN", "Optim", "Data", "Training", "Distributed", "ONNX",
                                                     .product(name: "ArgumentParser", package: "swift-argument-parser")],
                path: "Examples/ExampleSupport"),
        example("example-mlp"),
        example("example-gp"),
        example("example-cnn"),
        example("example-gan"),
        example("example-text"),
        example("example-compress"),
        example("example-regression"),
        .testTarget(name: "AutoGradTests", dependencies: ["AutoGrad", "AutoGradTestSupport", "CKernels"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "AutoGradTestSupport"]),
        .testTarget(name: "OptimTests", dependencies: ["Optim"]),
        .testTarget(name: "DataTests", dependencies: ["Data"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training"]),
        // Launching test programs under mpirun, for DistributedTests and ExampleTests.
        .target(name: "MPITestSupport", path: "Tests/MPITestSupport"),
        .testTarget(name: "DistributedTests", dependencies: ["Distributed", "NN", "Optim", "Data", "Training", "MPITestSupport",
                                                           "distributed-check"]),
        .testTarget(name: "ONNXTests", dependencies: ["ONNX"]),
        // Every swift snippet of README.md, the DocC articles and the `///` comments, compiled (and run where it needs
        // no data on disk); those of ONNX and Distributed sit in their own test targets.
        .testTarget(name: "DocSnippetTests", dependencies: ["NN", "Optim", "Data", "Training", "AutoGradTestSupport"]),
        .testTarget(name: "ExampleTests", dependencies: ["example-mlp", "example-cnn", "example-gp", "example-gan", "example-text", "example-compress", "example-regression", "ExampleSupport", "Optim", "Training", "Distributed", "MPITestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
