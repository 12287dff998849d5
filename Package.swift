// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "swift-autograd",
    products: [
        .library(name: "AutoGrad", targets: ["AutoGrad"]),
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
        .target(
            name: "AutoGrad",
            dependencies: [
                "COpenBLAS",
                .product(name: "RealModule", package: "swift-numerics"),
            ]
        ),
        .testTarget(name: "AutoGradTests", dependencies: ["AutoGrad"]),
    ],
    swiftLanguageModes: [.v5]
)
