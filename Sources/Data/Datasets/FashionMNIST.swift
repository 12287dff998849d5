/// Zalando's Fashion-MNIST: 28×28 grayscale images of clothing in 10 classes, in MNIST's file layout.
///
/// Debian's `dataset-fashion-mnist` package installs the four gzip files in
/// ``defaultDirectory``. Examples are `(image [1, 28, 28] in [0, 1], label)`, as for ``MNIST``;
/// ``classNames`` names the labels.
///
/// ```swift
/// let test = try FashionMNIST(split: .test)
/// let (image, label) = test[0]
/// print(FashionMNIST.classNames[label])   // "Ankle boot"
/// ```
public struct FashionMNIST: Dataset, Sendable {
    /// Where Debian's `dataset-fashion-mnist` installs the files.
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"

    /// What to do when the files are missing.
    public static let installHint =
        "Install the data set with `sudo apt-get install dataset-fashion-mnist` (it goes to "
        + "\(defaultDirectory)) or pass --data-dir DIR pointing at a directory with the four IDX files."

    /// The `[height, width]` of every image: 28×28 pixels.
    public static let imageShape = [28, 28]

    /// The names of the 10 classes, indexed by label.
    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// The examples, read as MNIST.
    public let base: MNIST

    /// Reads `split` from `directory`.
    ///
    /// - Throws: ``DataError`` as ``MNIST/init(directory:split:classCount:installHint:imageShape:)``, with
    ///   every image required to be ``imageShape``; when files are missing the message says to run
    ///   `apt-get install dataset-fashion-mnist` or pass `--data-dir`.
    public init(directory: String = FashionMNIST.defaultDirectory, split: MNIST.Split) throws(DataError) {
        base = try MNIST(directory: directory, split: split, classCount: FashionMNIST.classNames.count,
                         installHint: FashionMNIST.installHint, imageShape: FashionMNIST.imageShape)
    }

    /// The number of examples (60,000 for train, 10,000 for test).
    public var count: Int { base.count }

    /// Image `index` as a float32 tensor `[1, 28, 28]` in [0, 1], and its label.
    public func element(at index: Int) -> (Tensor, Int) { base.element(at: index) }

    /// All images as one float32 tensor `[count, 1, 28, 28]` in [0, 1].
    public var images: Tensor { base.images }

    /// One class index per example.
    public var labels: [Int] { base.labels }
}
