/// A function from one example (or part of one) to another, composable with `then(_:)` and
/// ``init(composing:)`` (torchvision's `transforms` and `Compose`).
///
/// ```swift
/// let prepare = Transform.scale(from: 0...255).then(.normalize(mean: [0.5], std: [0.5]))
/// let train = rawImages.transformingInputs(prepare)   // values in [-1, 1]
/// ```
public struct Transform<Input, Output> {
    /// The function applied.
    public let apply: (Input) -> Output

    /// A transform that applies `apply`.
    public init(_ apply: @escaping (Input) -> Output) { self.apply = apply }

    /// `apply(input)`.
    public func callAsFunction(_ input: Input) -> Output { apply(input) }

    /// This transform followed by `next`.
    public func then<Next>(_ next: Transform<Output, Next>) -> Transform<Input, Next> {
        let first = apply
        return Transform<Input, Next> { next.apply(first($0)) }
    }
}

extension Transform where Input == Output {
    /// The transforms applied in order, first to last (torchvision's `Compose`); the identity when empty.
    public init(composing transforms: [Transform]) {
        let steps = transforms.map(\.apply)
        self.init { x in steps.reduce(x) { value, step in step(value) } }
    }

    /// The transform that returns its input.
    public static var identity: Transform { Transform { $0 } }
}

extension Transform where Input == Tensor, Output == Tensor {
    /// Maps values linearly from `range` to [0, 1]: `(x - range.lowerBound) / (range.upperBound - range.lowerBound)`.
    ///
    /// The default maps raw 8-bit pixel values 0...255 to [0, 1] (torchvision's `ToTensor` scaling).
    /// The dtype is kept.
    ///
    /// - Precondition: the range is not a single point.
    public static func scale(from range: ClosedRange<Double> = 0...255) -> Transform {
        let low = range.lowerBound, span = range.upperBound - range.lowerBound
        precondition(span > 0, "Transform.scale: range \(range) is empty")
        return Transform { ($0 - low) / span }
    }

    /// Normalises per channel: `(x[c, ...] - mean[c]) / std[c]` for inputs `[C, ...]` (torchvision's `Normalize`).
    ///
    /// With one mean and one standard deviation the same values apply to every element, whatever the
    /// input's shape. The dtype is kept.
    ///
    /// - Precondition: `mean` and `std` have the same length, every `std` is positive, and with more than
    ///   one channel the input's first dimension equals that length.
    public static func normalize(mean: [Double], std: [Double]) -> Transform {
        precondition(!mean.isEmpty && mean.count == std.count,
                     "Transform.normalize: \(mean.count) means and \(std.count) standard deviations")
        precondition(std.allSatisfy { $0 > 0 }, "Transform.normalize: standard deviations must be positive, got \(std)")
        return Transform { x in
            if mean.count == 1 { return (x - mean[0]) / std[0] }
            precondition(x.rank >= 1 && x.shape[0] == mean.count,
                         "Transform.normalize: input of shape \(x.shape) does not have \(mean.count) channels in dimension 0")
            let shape = [mean.count] + Array(repeating: 1, count: x.rank - 1)
            return (x - Tensor(shape: shape, scalars: mean, dtype: x.dtype)) / Tensor(shape: shape, scalars: std, dtype: x.dtype)
        }
    }
}

extension Transform where Input == Int, Output == Tensor {
    /// A class index as a one-hot vector `[classCount]` (1 at the index, 0 elsewhere).
    ///
    /// - Precondition: the index lies in `0..<classCount`.
    public static func oneHot(classCount: Int, dtype: DType = .float32) -> Transform {
        Transform { Data.oneHot([$0], classCount: classCount, dtype: dtype).reshaped([classCount]) }
    }
}

/// Class indices as one-hot rows: a tensor `[labels.count, classCount]` with `out[i, labels[i]] = 1`, 0 elsewhere
/// (PyTorch's `F.one_hot`, as floats).
///
/// - Precondition: `classCount > 0` and every label lies in `0..<classCount`.
public func oneHot(_ labels: [Int], classCount classes: Int, dtype: DType = .float32) -> Tensor {
    precondition(classes > 0, "oneHot: classCount must be positive, got \(classes)")
    var scalars = [Double](repeating: 0, count: labels.count * classes)
    for (i, label) in labels.enumerated() {
        precondition(label >= 0 && label < classes, "oneHot: label \(label) at \(i) is outside 0..<\(classes)")
        scalars[i * classes + label] = 1
    }
    return Tensor(shape: [labels.count, classes], scalars: scalars, dtype: dtype)
}

extension Dataset {
    /// A dataset of `(input, label)` pairs with `transform` applied to each input, on access.
    public func transformingInputs<Input, Label, Output>(
        _ transform: Transform<Input, Output>
    ) -> MappedDataset<Self, (Output, Label)> where Element == (Input, Label) {
        map { (transform($0.0), $0.1) }
    }

    /// A dataset with `transform` applied to each example, on access.
    public func transformed<Output>(_ transform: Transform<Element, Output>) -> MappedDataset<Self, Output> {
        map(transform.apply)
    }
}
