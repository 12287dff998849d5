/// A tensor of integers: token ids, class labels, gather and pooling indices, counters saved in checkpoints.
///
/// ``Tensor`` holds floating-point numbers for arithmetic and gradients; integers that name positions
/// (a vocabulary entry, a class, an element of a window) are not differentiable and must never be
/// rounded, so they get their own type instead of `[Int]` arrays carried beside a tensor. An `IntTensor`
/// is a plain value — a row-major shape and its `Int` (64-bit) elements — with the shape operations
/// a data pipeline needs: reshaping, taking rows of a batch, and conversion to and from ``Tensor``
/// (checked: a floating value that is not a whole number is refused). In a safetensors file it is
/// stored as `I64`, as PyTorch stores `torch.long` (see ``SafeTensors``).
///
/// ```swift
/// let tokens = IntTensor(shape: [2, 4], values: [5, 17, 3, 0, 42, 42, 0, 0])
/// let first = tokens.rows(0..<1)            // shape [1, 4]
/// let flat = tokens.reshaped([-1])          // shape [8]
/// let asFloat = Tensor(tokens, dtype: .float32)
/// let back = IntTensor(exactly: asFloat)   // Optional(tokens); nil if any value were fractional
/// ```
public struct IntTensor: Hashable, Sendable {
    /// The shape, row-major; `[]` for a scalar.
    public let shape: [Int]
    /// The elements in row-major order; `values.count` is the product of `shape`.
    public let values: [Int]

    /// A tensor of the given shape holding `values` in row-major order.
    ///
    /// - Precondition: the shape has no negative dimension and `values.count` is its product.
    public init(shape: [Int], values: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "IntTensor: shape \(shape) has a negative dimension")
        precondition(shapeCount(shape) == values.count, "IntTensor: shape \(shape) needs \(shapeCount(shape)) values, got \(values.count)")
        self.shape = shape
        self.values = values
    }

    /// A one-dimensional tensor of `values`.
    public init(_ values: [Int]) { self.init(shape: [values.count], values: values) }

    /// A scalar (rank-0) tensor.
    public init(scalar: Int) { self.init(shape: [], values: [scalar]) }

    /// A tensor of `shape` filled with `value` (zeros by default).
    public init(repeating value: Int = 0, shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "IntTensor(repeating:shape:): shape \(shape) has a negative dimension")
        self.init(shape: shape, values: Array(repeating: value, count: shapeCount(shape)))
    }

    /// `0, 1, …, n − 1` (PyTorch's `torch.arange(n)`).
    public static func arange(_ n: Int) -> IntTensor {
        precondition(n >= 0, "IntTensor.arange: n = \(n) must be non-negative")
        return IntTensor(Array(0..<n))
    }

    /// The whole numbers of `tensor`, or nil when any element is fractional, infinite, NaN or outside `Int`'s range
    /// (as Swift's `Int(exactly:)`).
    public init?(exactly tensor: Tensor) {
        var values: [Int] = []
        values.reserveCapacity(tensor.count)
        for v in tensor.doubles {
            guard let i = Int(exactly: v) else { return nil }
            values.append(i)
        }
        self.init(shape: tensor.shape, values: values)
    }

    /// The number of dimensions.
    public var rank: Int { shape.count }
    /// The number of elements.
    public var count: Int { values.count }

    /// The single element of a tensor with one element (any shape).
    ///
    /// - Precondition: `count == 1`.
    public var item: Int {
        precondition(count == 1, "IntTensor.item: the tensor has shape \(shape) (\(count) elements), not one element")
        return values[0]
    }

    /// The same elements with a new shape; one dimension may be −1 and is inferred.
    ///
    /// - Precondition: the new shape has as many elements.
    public func reshaped(_ newShape: [Int]) -> IntTensor {
        IntTensor(shape: Tensor.inferShape(newShape, count: count, op: "IntTensor.reshaped", from: shape), values: values)
    }

    /// The rows `range` along the first dimension (PyTorch's `t[a:b]`): a batch's slice of token ids.
    ///
    /// - Precondition: rank ≥ 1 and `range` lies within `0..<shape[0]`.
    public func rows(_ range: Range<Int>) -> IntTensor {
        precondition(rank >= 1, "IntTensor.rows: a scalar has no rows")
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[0],
                     "IntTensor.rows: rows \(range) out of bounds for shape \(shape)")
        let rowLength = shapeCount(Array(shape.dropFirst()))
        var newShape = shape
        newShape[0] = range.count
        return IntTensor(shape: newShape, values: Array(values[range.lowerBound * rowLength..<range.upperBound * rowLength]))
    }

    /// Row `i` along the first dimension, without that dimension (PyTorch's `t[i]`).
    ///
    /// - Precondition: rank ≥ 1 and `0 ≤ i < shape[0]`.
    public subscript(row i: Int) -> IntTensor {
        precondition(rank >= 1 && i >= 0 && i < shape[0], "IntTensor[row:]: row \(i) out of bounds for shape \(shape)")
        return rows(i..<i + 1).reshaped(Array(shape.dropFirst()))
    }
}

/// The name of ``IntTensor`` used by the indexing operations before it was a tensor type of its own.
public typealias TensorIndices = IntTensor

extension IntTensor: CustomStringConvertible {
    /// PyTorch-like text: `tensor([[1, 2], [3, 4]], dtype=int64)`; `IntTensor(shape: […])` past ``Tensor/printThreshold`` elements.
    public var description: String {
        if count > Tensor.printThreshold { return "IntTensor(shape: \(shape), dtype: int64)" }
        var index = 0
        func render(_ dim: Int) -> String {
            if dim == rank { defer { index += 1 }; return String(values[index]) }
            return "[" + (0..<shape[dim]).map { _ in render(dim + 1) }.joined(separator: ", ") + "]"
        }
        return "tensor(" + render(0) + ", dtype=int64)"
    }
}

extension Tensor {
    /// The integers of `integers` as floating-point numbers of `dtype` (rounded to nearest past 2²⁴ for
    /// `float32` and 2⁵³ for `float64`).
    public init(_ integers: IntTensor, dtype: DType = .float32) {
        self.init(shape: integers.shape, scalars: integers.values.map(Double.init), dtype: dtype)
    }
}
