// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "swift-autograd",
    products: [
        .library(name: "AutoGrad", targets: ["AutoGrad"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Optim", targets: ["Optim"]),
        .library(name: "Data", targets: ["Data"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
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
        .target(
            name: "AutoGrad",
            dependencies: [
                "COpenBLAS",
                .product(name: "RealModule", package: "swift-numerics"),
            ]
        ),
        .target(name: "NN", dependencies: ["AutoGrad"]),
        .target(name: "Optim", dependencies: ["AutoGrad"]),
        .target(name: "Data", dependencies: ["AutoGrad", "CZlib"]),
        .testTarget(name: "AutoGradTests", dependencies: ["AutoGrad"]),
        .testTarget(name: "NNTests", dependencies: ["NN"]),
        .testTarget(name: "OptimTests", dependencies: ["Optim"]),
        .testTarget(name: "DataTests", dependencies: ["Data"]),
    ],
    swiftLanguageModes: [.v5]
)
