import Foundation

/// The MNIST handwritten-digit data set, or any data set in its layout (see ``FashionMNIST``).
///
/// Reads one split from a directory holding the four IDX files (each gzip-compressed or not):
///
/// | Split | Images | Labels |
/// |-------|--------|--------|
/// | ``Split/train`` | `train-images-idx3-ubyte[.gz]` | `train-labels-idx1-ubyte[.gz]` |
/// | ``Split/test``  | `t10k-images-idx3-ubyte[.gz]`  | `t10k-labels-idx1-ubyte[.gz]`  |
///
/// Each example is `(image, label)`: the image a float32 `Tensor` of shape `[1, H, W]` (`[1, 28, 28]`
/// for MNIST) with pixel values scaled from 0...255 to [0, 1], the label an `Int` class index.
/// ``images`` gives all images at once as `[N, 1, H, W]`.
///
/// ```swift
/// let train = try MNIST(directory: "/data/mnist", split: .train)
/// let loader = DataLoader(train, batchSize: 64, shuffle: true, seed: 0)
/// ```
public struct MNIST: Dataset, Sendable {
    /// Which part of the data set to read.
    public enum Split: String, Sendable, CaseIterable {
        /// The training examples (60,000 for MNIST).
        case train
        /// The test examples (10,000 for MNIST).
        case test

        /// The file-name prefix of the split: `train` or `t10k`.
        public var filePrefix: String { self == .train ? "train" : "t10k" }
    }

    /// The split read.
    public let split: Split
    /// The number of examples.
    public let count: Int
    /// Image height in pixels.
    public let height: Int
    /// Image width in pixels.
    public let width: Int
    /// All pixels, `count × height × width` bytes in 0...255, row-major.
    public let pixels: [UInt8]
    /// One class index per example.
    public let labels: [Int]
    /// The number of classes (10).
    public let classCount: Int

    /// The images file and labels file of `split` in `directory` (the `.gz` name when it exists,
    /// otherwise the plain name), and the names of those that exist under neither.
    static func files(in directory: String, split: Split) -> (images: String, labels: String, missing: [String]) {
        let (paths, missing) = DatasetFiles.locate(["\(split.filePrefix)-images-idx3-ubyte",
                                                    "\(split.filePrefix)-labels-idx1-ubyte"], in: directory)
        return (paths[0], paths[1], missing)
    }

    /// Reads `split` from `directory`.
    ///
    /// - Parameters:
    ///   - directory: the folder holding the four IDX files.
    ///   - split: the training or the test set.
    ///   - classCount: the number of classes; every label must lie in `0..<classCount`.
    ///   - installHint: appended to the message when files are missing.
    ///   - imageShape: the `[height, width]` every image must have (`[28, 28]` for MNIST and
    ///     Fashion-MNIST); any non-empty shape when nil.
    /// - Throws: ``DataError``: ``DataError/Problem/datasetMissing(missingFiles:installHint:)`` naming the
    ///   directory when it or a file is missing, and otherwise the IDX reader's errors naming the file,
    ///   ``DataError/Problem/wrongImageShape(expected:found:)`` when the images are not `imageShape`
    ///   (or empty), ``DataError/Problem/countMismatch(imagesPath:images:labels:)`` when the two files
    ///   disagree, ``DataError/Problem/noItems(role:)`` when they hold no examples, and
    ///   ``DataError/Problem/labelOutOfRange(index:label:classes:)``.
    public init(directory: String, split: Split, classCount: Int = 10,
                installHint: String = "Download MNIST into it or pass --data-dir DIR.",
                imageShape: [Int]? = nil) throws(DataError) {
        let (imagesPath, labelsPath, missing) = MNIST.files(in: directory, split: split)
        guard missing.isEmpty else {
            throw DataError(path: directory, .datasetMissing(missingFiles: missing, installHint: installHint))
        }
        let images = try IDXFile(contentsOf: imagesPath, expectedDimensionCount: 3, role: "images")
        let shape = Array(images.dimensions[1...])
        if let imageShape, shape != imageShape {
            throw DataError(path: imagesPath, .wrongImageShape(expected: imageShape, found: shape))
        }
        guard shape.allSatisfy({ $0 > 0 }) else {
            throw DataError(path: imagesPath, .implausibleSize("images of \(shape[0])×\(shape[1]) pixels hold nothing"))
        }
        let labels = try IDXFile(contentsOf: labelsPath, expectedDimensionCount: 1, role: "labels")
        guard images.dimensions[0] == labels.dimensions[0] else {
            throw DataError(path: labelsPath, .countMismatch(imagesPath: imagesPath, images: images.dimensions[0],
                                                              labels: labels.dimensions[0]))
        }
        guard images.dimensions[0] > 0 else { throw DataError(path: imagesPath, .noItems(role: "images")) }
        let labelValues = labels.bytes.map(Int.init)
        if let bad = labelValues.firstIndex(where: { $0 >= classCount }) {
            throw DataError(path: labelsPath, .labelOutOfRange(index: bad, label: labelValues[bad], classes: classCount))
        }
        self.split = split
        self.count = images.dimensions[0]
        self.height = images.dimensions[1]
        self.width = images.dimensions[2]
        self.pixels = images.bytes
        self.labels = labelValues
        self.classCount = classCount
    }

    /// Image `index` as a float32 tensor `[1, height, width]` in [0, 1], and its label.
    public func element(at index: Int) -> (Tensor, Int) {
        precondition(index >= 0 && index < count, "MNIST: index \(index) out of range 0..<\(count)")
        let size = height * width
        return (scaledImages(pixels[(index * size)..<((index + 1) * size)], shape: [1, height, width]), labels[index])
    }

    /// All images as one float32 tensor `[count, 1, height, width]` in [0, 1].
    public var images: Tensor {
        scaledImages(pixels[...], shape: [count, 1, height, width])
    }
}

/// Bytes 0...255 as a float32 tensor of `shape` with values `byte / 255`.
func scaledImages(_ bytes: ArraySlice<UInt8>, shape: [Int]) -> Tensor {
    var t = Tensor.zeros(shape, dtype: .float32)
    t.withUnsafeMutableBufferPointer(as: Float.self) { out in
        bytes.withUnsafeBufferPointer { inp in
            for i in 0..<inp.count { out[i] = Float(inp[i]) / 255 }
        }
    }
    return t
}
