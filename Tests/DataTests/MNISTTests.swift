import Foundation
import Testing
@testable import Data

@Suite struct MNISTTests {
    /// Writes a split in `dir` under MNIST's file names.
    func writeSplit(_ dir: TemporaryDirectory, _ split: MNIST.Split, count: Int, gzip: Bool,
                    labelCount: Int? = nil) throws {
        let (images, labels) = syntheticMNIST(count: count)
        let suffix = gzip ? ".gz" : ""
        try images.save(to: dir.url("\(split.filePrefix)-images-idx3-ubyte\(suffix)"), gzip: gzip)
        let n = labelCount ?? count
        try IDXFile(dimensions: [n], bytes: Array(labels.bytes.prefix(n)) + [UInt8](repeating: 3, count: Swift.max(0, n - count)))
            .save(to: dir.url("\(split.filePrefix)-labels-idx1-ubyte\(suffix)"), gzip: gzip)
    }

    @Test(arguments: [false, true])
    func loadsSplitsScaledWithShapes(gzip: Bool) throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        try writeSplit(dir, .train, count: 12, gzip: gzip)
        try writeSplit(dir, .test, count: 5, gzip: !gzip)
        let train = try MNIST(directory: dir.path, split: .train)
        let test = try MNIST(directory: dir.path, split: .test)
        #expect(train.count == 12 && test.count == 5)
        let (image, label) = train[3]
        #expect(image.shape == [1, 4, 3] && image.dtype == .float32)
        #expect(label == 3)
        let expected = (0..<12).map { Float((3 * 7 + $0) % 256) / 255 }
        #expect(image.floats == expected)
        #expect(train.images.shape == [12, 1, 4, 3])
        #expect(train.images.sliced(axis: 0, start: 3, end: 4).floats == expected)
        #expect(train.labels == (0..<12).map { $0 % 10 })
        #expect(train.pixels.max()! <= 255 && image.floats.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test func missingDirectoryExplainsHowToInstall() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let missing = dir.file("absent")
        let e = try #require(dataError { _ = try FashionMNIST(directory: missing, split: .train) })
        #expect(e.path == missing)
        #expect(e.description.contains("apt-get install dataset-fashion-mnist"))
        #expect(e.description.contains("--data-dir"))
        #expect(e.description.contains("train-images-idx3-ubyte"))
    }

    @Test func missingLabelsFileIsNamed() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        try writeSplit(dir, .test, count: 3, gzip: true)
        try FileManager.default.removeItem(atPath: dir.file("t10k-labels-idx1-ubyte.gz"))
        let e = try #require(dataError { _ = try MNIST(directory: dir.path, split: .test) })
        #expect(e == DataError(path: dir.path, .datasetMissing(missingFiles: ["t10k-labels-idx1-ubyte[.gz]"],
                                                                installHint: "Download MNIST into it or pass --data-dir DIR.")))
    }

    @Test func countMismatchNamesBothFiles() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        try writeSplit(dir, .train, count: 6, gzip: true, labelCount: 5)
        let e = try #require(dataError { _ = try MNIST(directory: dir.path, split: .train) })
        let labels = dir.file("train-labels-idx1-ubyte.gz"), images = dir.file("train-images-idx3-ubyte.gz")
        #expect(e == DataError(path: labels, .countMismatch(imagesPath: images, images: 6, labels: 5)))
        #expect(e.description.contains(labels) && e.description.contains(images))
    }

    @Test func labelsSwappedForImagesIsAWrongDimensionError() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        try writeSplit(dir, .train, count: 4, gzip: false)
        let images = dir.file("train-images-idx3-ubyte")
        try IDXFile(dimensions: [4], bytes: [0, 1, 2, 3]).save(to: URL(fileURLWithPath: images))
        let e = try #require(dataError { _ = try MNIST(directory: dir.path, split: .train) })
        #expect(e == DataError(path: images, .wrongDimensionCount(expected: 3, found: 1, role: "images")))
    }

    @Test func labelOutOfRange() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        try writeSplit(dir, .train, count: 2, gzip: false)
        let labels = dir.file("train-labels-idx1-ubyte")
        try IDXFile(dimensions: [2], bytes: [1, 10]).save(to: URL(fileURLWithPath: labels))
        let e = try #require(dataError { _ = try MNIST(directory: dir.path, split: .train) })
        #expect(e == DataError(path: labels, .labelOutOfRange(index: 1, label: 10, classes: 10)))
    }

    @Test func classNames() {
        #expect(FashionMNIST.classNames.count == 10)
        #expect(FashionMNIST.classNames[0] == "T-shirt/top" && FashionMNIST.classNames[9] == "Ankle boot")
    }

    /// Reads the real data set when Debian's `dataset-fashion-mnist` is installed; skipped otherwise.
    @Test(.enabled(if: FileManager.default.fileExists(
        atPath: FashionMNIST.defaultDirectory + "/t10k-labels-idx1-ubyte.gz"),
        "needs /usr/share/datasets/fashion-mnist (apt-get install dataset-fashion-mnist)"))
    func realFashionMNISTIfInstalled() throws {
        let train = try FashionMNIST(split: .train)
        let test = try FashionMNIST(split: .test)
        #expect(train.count == 60000 && test.count == 10000)
        #expect(test.base.height == 28 && test.base.width == 28)
        #expect(Set(train.labels) == Set(0..<10) && Set(test.labels) == Set(0..<10))
        let (image, _) = test[0]
        #expect(image.shape == [1, 28, 28])
        #expect(image.max().item <= 1 && image.min().item >= 0 && image.max().item > 0.5)
    }
}

/// Data sets that would have crashed a training loop: no items, or images of another shape.
@Suite struct MNISTShapeAndCountTests {
    func write(_ dir: TemporaryDirectory, images: IDXFile, labels: IDXFile, split: MNIST.Split = .train) throws {
        try images.save(to: dir.url("\(split.filePrefix)-images-idx3-ubyte.gz"), gzip: true)
        try labels.save(to: dir.url("\(split.filePrefix)-labels-idx1-ubyte.gz"), gzip: true)
    }

    @Test func anEmptyDataSetIsAnErrorNamingTheImagesFile() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        try write(dir, images: IDXFile(dimensions: [0, 28, 28], bytes: []), labels: IDXFile(dimensions: [0], bytes: []))
        let path = dir.file("train-images-idx3-ubyte.gz")
        for load in [{ _ = try FashionMNIST(directory: dir.path, split: .train) }, { _ = try MNIST(directory: dir.path, split: .train) }] {
            let e = dataError(load)
            #expect(e == DataError(path: path, .noItems(role: "images")))
            #expect(e?.description.contains("0 items") == true)
        }
    }

    @Test func fashionMNISTImagesMustBe28By28() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let (images, labels) = syntheticMNIST(count: 3)   // 4×3 images
        try write(dir, images: images, labels: labels)
        let e = dataError { _ = try FashionMNIST(directory: dir.path, split: .train) }
        #expect(e == DataError(path: dir.file("train-images-idx3-ubyte.gz"), .wrongImageShape(expected: [28, 28], found: [4, 3])))
        #expect(e?.description.contains("images are 4×3, but this data set's images are 28×28") == true)
        // MNIST without a promised shape reads them, and a promised shape that matches is fine.
        #expect(try MNIST(directory: dir.path, split: .train).count == 3)
        #expect(try MNIST(directory: dir.path, split: .train, imageShape: [4, 3]).height == 4)
    }

    @Test func imagesWithoutPixelsAreRefused() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        try write(dir, images: IDXFile(dimensions: [2, 0, 5], bytes: []), labels: IDXFile(dimensions: [2], bytes: [0, 1]))
        guard case .implausibleSize? = dataError({ _ = try MNIST(directory: dir.path, split: .train) })?.problem else {
            Issue.record("0×5 images were accepted"); return
        }
    }
}
