/// A finite, index-addressable collection of examples (PyTorch's map-style `Dataset`).
///
/// Conform by giving the number of examples and the example at an index. A ``DataLoader`` then
/// batches, shuffles and collates them.
///
/// ```swift
/// struct Squares: Dataset {
///     var count: Int { 100 }
///     func element(at index: Int) -> (Tensor, Int) { (Tensor([Float(index)]), index * index) }
/// }
/// ```
///
/// A dataset read from a ``DataLoader`` with background prefetch is read from another thread:
/// ``element(at:)`` must then be safe to call concurrently with the caller's own use of the
/// dataset (true for immutable datasets such as ``MNIST``).
public protocol Dataset {
    /// One example.
    associatedtype Element
    /// The number of examples.
    var count: Int { get }
    /// The example at `index`, for `index` in `0..<count`.
    func element(at index: Int) -> Element
}

extension Dataset {
    /// The example at `index`.
    public subscript(index: Int) -> Element { element(at: index) }

    /// A dataset whose examples are this dataset's passed through `transform`, applied lazily on access.
    ///
    /// ```swift
    /// let normalised = mnist.map { (image, label) in (normalize(image), label) }
    /// ```
    public func map<T>(_ transform: @escaping (Element) -> T) -> MappedDataset<Self, T> {
        MappedDataset(base: self, transform: transform)
    }
}

/// A dataset that applies a function to each example of another, on access. Made by ``Dataset/map(_:)``.
public struct MappedDataset<Base: Dataset, Element>: Dataset {
    /// The underlying dataset.
    public let base: Base
    /// The function applied to each of `base`'s examples.
    public let transform: (Base.Element) -> Element

    /// The number of examples, the same as `base`'s.
    public var count: Int { base.count }

    /// `transform(base.element(at: index))`.
    public func element(at index: Int) -> Element { transform(base.element(at: index)) }
}

/// The examples of a base dataset at given indices, in the order given (PyTorch's `Subset`).
public struct Subset<Base: Dataset>: Dataset {
    /// The underlying dataset.
    public let base: Base
    /// The indices into `base`, one per example of this subset.
    public let indices: [Int]

    /// A view of `base` restricted to `indices`.
    ///
    /// - Precondition: every index lies in `0..<base.count`.
    public init(_ base: Base, indices: [Int]) {
        for i in indices {
            precondition(i >= 0 && i < base.count, "Subset: index \(i) out of range 0..<\(base.count)")
        }
        self.base = base
        self.indices = indices
    }

    /// The number of indices.
    public var count: Int { indices.count }

    /// `base.element(at: indices[index])`.
    public func element(at index: Int) -> Base.Element { base.element(at: indices[index]) }
}

/// A dataset held in an array of examples.
public struct ArrayDataset<Element>: Dataset {
    /// The examples.
    public let elements: [Element]

    /// A dataset of `elements`, in order.
    public init(_ elements: [Element]) { self.elements = elements }

    /// The number of examples.
    public var count: Int { elements.count }

    /// `elements[index]`.
    public func element(at index: Int) -> Element { elements[index] }
}

/// A dataset of inputs paired with integer class labels, stored as one tensor `[N, ...]` and `N` labels
/// (PyTorch's `TensorDataset` for the common classification case).
public struct LabeledTensorDataset: Dataset {
    /// All inputs, stacked along a leading axis of length `N`.
    public let inputs: Tensor
    /// One label per input.
    public let labels: [Int]

    /// Pairs `inputs[i]` with `labels[i]`.
    ///
    /// - Precondition: `inputs` has rank at least 1 and `inputs.shape[0] == labels.count`.
    public init(inputs: Tensor, labels: [Int]) {
        precondition(inputs.rank >= 1 && inputs.shape[0] == labels.count,
                     "LabeledTensorDataset: inputs of shape \(inputs.shape) do not match \(labels.count) labels")
        self.inputs = inputs
        self.labels = labels
    }

    /// The number of examples.
    public var count: Int { labels.count }

    /// The input `inputs[index]` (shape `inputs.shape.dropFirst()`) and its label.
    public func element(at index: Int) -> (Tensor, Int) {
        let row = inputs.sliced(axis: 0, start: index, end: index + 1)
        return (row.reshaped(Array(inputs.shape.dropFirst())), labels[index])
    }
}
