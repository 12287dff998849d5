import Foundation

/// CIFAR-10: 32×32 colour images in 10 classes, read from the data set's binary version.
///
/// Reads one split from a directory holding the binary files (each gzip-compressed or not; see
/// ``CIFARBinaryFile`` for the record layout):
///
/// | Split | Files |
/// |-------|-------|
/// | ``MNIST/Split/train`` | `data_batch_1.bin` … `data_batch_5.bin` (50,000 images) |
/// | ``MNIST/Split/test``  | `test_batch.bin` (10,000 images) |
///
/// The directory may also be the one that holds `cifar-10-batches-bin/`, the folder the official
/// archive `cifar-10-binary.tar.gz` extracts to. CIFAR-10 is in no package registry; download the
/// binary version from <https://www.cs.toronto.edu/~kriz/cifar.html> yourself.
///
/// Each example is `(image, label)`: the image a float32 `Tensor` `[3, 32, 32]` (red, green, blue
/// planes) with pixel values scaled from 0...255 to [0, 1], the label an `Int` class index;
/// ``classNames`` names the labels. ``images`` gives all images at once as `[N, 3, 32, 32]`.
///
/// ```swift
/// let train = try CIFAR10(directory: dataDir, split: .train)
/// let augment = RandomTransform.randomCrop(size: 32, padding: 4).then(.randomHorizontalFlip())
/// let loader = DataLoader(train.augmentingInputs(augment, seed: 0), batchSize: 128, shuffle: true, seed: 0)
/// ```
public struct CIFAR10: Dataset, Sendable {
    /// Which part of the data set to read: ``MNIST/Split/train`` or ``MNIST/Split/test``.
    public typealias Split = MNIST.Split

    /// The names of the 10 classes, indexed by label.
    public static let classNames = [
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
    ]

    /// The folder the official archive extracts to; looked for inside the directory given.
    public static let archiveFolder = "cifar-10-batches-bin"

    /// What to do when the files are missing.
    public static let installHint =
        "CIFAR-10 is not in the package registries; download the binary version yourself "
        + "(cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html), extract it and pass "
        + "--data-dir DIR pointing at the extracted \(archiveFolder) directory."

    /// The file names of `split`, in reading order.
    public static func fileNames(split: Split) -> [String] {
        split == .train ? (1...5).map { "data_batch_\($0).bin" } : ["test_batch.bin"]
    }

    /// The split read.
    public let split: Split
    /// The number of examples (50,000 for train, 10,000 for test).
    public let count: Int
    /// All pixels, `count × 3072` bytes in 0...255: per image the red, green and blue planes, each row-major 32×32.
    public let pixels: [UInt8]
    /// One class index per example.
    public let labels: [Int]

    /// Reads `split` from `directory` (or from `directory/cifar-10-batches-bin` when the files are there).
    ///
    /// - Throws: ``DataError``: ``DataError/Problem/datasetMissing(missingFiles:installHint:)`` naming the
    ///   directory when it or a file is missing (the message says where to download the data set and to pass
    ///   `--data-dir`), otherwise the errors of ``CIFARBinaryFile/init(contentsOf:classCount:)`` naming the file.
    public init(directory: String, split: Split) throws(DataError) {
        let names = CIFAR10.fileNames(split: split)
        var located = DatasetFiles.locate(names, in: directory)
        if !located.missing.isEmpty {
            let nested = DatasetFiles.locate(names, in: (directory as NSString).appendingPathComponent(CIFAR10.archiveFolder))
            if nested.missing.isEmpty { located = nested }
        }
        guard located.missing.isEmpty else {
            throw DataError(path: directory, .datasetMissing(missingFiles: located.missing, installHint: CIFAR10.installHint))
        }
        var labels = [Int](), pixels = [UInt8]()
        for path in located.paths {
            let file = try CIFARBinaryFile(contentsOf: path, classCount: CIFAR10.classNames.count)
            labels += file.labels.map(Int.init)
            pixels += file.pixels
        }
        self.split = split
        self.count = labels.count
        self.labels = labels
        self.pixels = pixels
    }

    /// Image `index` as a float32 tensor `[3, 32, 32]` in [0, 1], and its label.
    public func element(at index: Int) -> (Tensor, Int) {
        precondition(index >= 0 && index < count, "CIFAR10: index \(index) out of range 0..<\(count)")
        let size = CIFARBinaryFile.imageSize, side = CIFARBinaryFile.side
        return (scaledImages(pixels[(index * size)..<((index + 1) * size)], shape: [CIFARBinaryFile.channels, side, side]),
                labels[index])
    }

    /// All images as one float32 tensor `[count, 3, 32, 32]` in [0, 1].
    public var images: Tensor {
        scaledImages(pixels[...], shape: [count, CIFARBinaryFile.channels, CIFARBinaryFile.side, CIFARBinaryFile.side])
    }
}
