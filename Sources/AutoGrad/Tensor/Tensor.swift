/// A dense, contiguous, row-major array of `Float` or `Double` with any number of dimensions.
///
/// `Tensor` is plain numerics: it has value semantics (copy-on-write storage) and knows nothing of
/// gradients. ``Variable`` wraps a tensor to record the operations applied to it.
///
/// ```swift
/// let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6] as [Float])
/// let b = a * 2 + 1          // broadcasting with scalars
/// print(b.sum(axes: [1]))    // tensor([15.0, 33.0], dtype=float32)
/// ```
///
/// Shapes follow NumPy: a scalar has shape `[]`; binary operations broadcast by aligning
/// trailing dimensions, where each pair must be equal or one of them 1.
public struct Tensor {
    /// The size of each dimension, outermost first.
    public internal(set) var shape: [Int]
    var storage: TensorStorage

    /// The element type.
    public var dtype: DType { storage.dtype }
    /// The number of dimensions (0 for a scalar).
    public var rank: Int { shape.count }
    /// The number of elements (the product of `shape`; 1 for a scalar).
    public var count: Int { storage.count }

    init(shape: [Int], storage: TensorStorage) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        precondition(shapeCount(shape) == storage.count,
                     "Tensor: shape \(shape) needs \(shapeCount(shape)) elements, storage has \(storage.count)")
        self.shape = shape
        self.storage = storage
    }

    /// Uninitialised tensor; every caller writes all elements before the tensor escapes.
    init(uninitializedShape shape: [Int], dtype: DType) {
        self.init(shape: shape, storage: TensorStorage(dtype: dtype, count: shapeCount(shape)))
    }

    /// A tensor of the given shape holding `scalars` in row-major order.
    ///
    /// - Precondition: `scalars.count` equals the product of `shape`.
    public init<T: TensorScalar>(shape: [Int], scalars: [T]) {
        precondition(shapeCount(shape) == scalars.count,
                     "Tensor(shape:scalars:): shape \(shape) needs \(shapeCount(shape)) scalars, got \(scalars.count)")
        self.init(uninitializedShape: shape, dtype: T.dtype)
        let p = storage.pointer(T.self)
        scalars.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: $0.count) }
    }

    /// A tensor of the given shape and dtype holding `scalars` converted from `Double`.
    public init(shape: [Int], scalars: [Double], dtype: DType) {
        switch dtype {
        case .float64: self.init(shape: shape, scalars: scalars)
        case .float32: self.init(shape: shape, scalars: scalars.map { Float($0) })
        }
    }

    /// A one-dimensional tensor.
    public init<T: TensorScalar>(_ scalars: [T]) {
        self.init(shape: [scalars.count], scalars: scalars)
    }

    /// A scalar (rank-0) tensor.
    public init<T: TensorScalar>(_ scalar: T) {
        self.init(shape: [], scalars: [scalar])
    }

    /// A scalar (rank-0) tensor of the given dtype.
    public init(_ scalar: Double, dtype: DType) {
        self.init(shape: [], scalars: [scalar], dtype: dtype)
    }

    // MARK: Element access

    /// Calls `body` with the elements, which must be of type `T`.
    public func withUnsafeBufferPointer<T: TensorScalar, R>(
        as type: T.Type, _ body: (UnsafeBufferPointer<T>) throws -> R
    ) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer(T.self), count: count))
    }

    /// Calls `body` with mutable elements of type `T`, copying the storage first if it is shared.
    public mutating func withUnsafeMutableBufferPointer<T: TensorScalar, R>(
        as type: T.Type, _ body: (UnsafeMutableBufferPointer<T>) throws -> R
    ) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.pointer(T.self), count: count))
    }

    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    /// The elements converted to `T`, in row-major order.
    public func scalars<T: TensorScalar>(as type: T.Type = T.self) -> [T] {
        switch dtype {
        case .float32: return withUnsafeBufferPointer(as: Float.self) { $0.map { T($0) } }
        case .float64: return withUnsafeBufferPointer(as: Double.self) { $0.map { T($0) } }
        }
    }

    /// The elements as `Double`, in row-major order.
    public var doubles: [Double] { scalars(as: Double.self) }
    /// The elements as `Float`, in row-major order.
    public var floats: [Float] { scalars(as: Float.self) }

    /// The single element of a one-element tensor, as `Double`.
    public var item: Double {
        precondition(count == 1, "Tensor.item: tensor of shape \(shape) has \(count) elements, not 1")
        return self[flat: 0]
    }

    /// The element at a row-major flat index, as `Double`.
    public subscript(flat index: Int) -> Double {
        get {
            precondition(index >= 0 && index < count, "Tensor[flat:]: index \(index) out of range for \(count) elements")
            switch dtype {
            case .float32: return Double(storage.pointer(Float.self)[index])
            case .float64: return storage.pointer(Double.self)[index]
            }
        }
        set {
            precondition(index >= 0 && index < count, "Tensor[flat:]: index \(index) out of range for \(count) elements")
            makeUnique()
            switch dtype {
            case .float32: storage.pointer(Float.self)[index] = Float(newValue)
            case .float64: storage.pointer(Double.self)[index] = newValue
            }
        }
    }

    /// The element at a multi-dimensional index, as `Double`.
    public subscript(_ indices: Int...) -> Double {
        get { self[flat: flatIndex(indices)] }
        set { self[flat: flatIndex(indices)] = newValue }
    }

    func flatIndex(_ indices: [Int]) -> Int {
        precondition(indices.count == rank, "Tensor subscript: \(indices.count) indices for shape \(shape)")
        var flat = 0
        for (i, (index, size)) in zip(indices, shape).enumerated() {
            precondition(index >= 0 && index < size, "Tensor subscript: index \(index) out of range for dimension \(i) of shape \(shape)")
            flat = flat * size + index
        }
        return flat
    }

    /// This tensor converted to another dtype (the same storage when the dtype already matches).
    public func to(_ newType: DType) -> Tensor {
        if newType == dtype { return self }
        var out = Tensor(uninitializedShape: shape, dtype: newType)
        switch (dtype, newType) {
        case (.float32, .float64):
            let src = storage.pointer(Float.self), dst = out.storage.pointer(Double.self)
            for i in 0..<count { dst[i] = Double(src[i]) }
        case (.float64, .float32):
            let src = storage.pointer(Double.self), dst = out.storage.pointer(Float.self)
            for i in 0..<count { dst[i] = Float(src[i]) }
        default: break
        }
        out.shape = shape
        return out
    }

    /// Replaces the shape without touching the elements (used by reshape).
    mutating func setShape(_ newShape: [Int]) {
        precondition(shapeCount(newShape) == count, "reshape: cannot view \(count) elements as shape \(newShape)")
        shape = newShape
    }
}

extension Tensor: Equatable {
    /// Two tensors are equal when shape, dtype and every element are equal.
    public static func == (a: Tensor, b: Tensor) -> Bool {
        a.shape == b.shape && a.dtype == b.dtype && (a.storage === b.storage || a.doubles == b.doubles)
    }
}

/// The number of elements of a shape.
@inline(__always)
func shapeCount(_ shape: [Int]) -> Int {
    var n = 1
    for d in shape { n *= d }
    return n
}

/// Row-major strides of a contiguous tensor of this shape.
func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[i] = s
        s *= shape[i]
    }
    return strides
}

/// Turns a possibly negative axis into an index in `0..<rank`, trapping with the op's name otherwise.
func normalizeAxis(_ axis: Int, rank: Int, op: String) -> Int {
    let a = axis < 0 ? axis + rank : axis
    precondition(a >= 0 && a < rank, "\(op): axis \(axis) out of range for rank \(rank)")
    return a
}

/// Normalises and sorts a list of axes; `nil` means every axis, an empty list none (nothing is reduced).
func normalizeAxes(_ axes: [Int]?, rank: Int, op: String) -> [Int] {
    guard let axes else { return Array(0..<rank) }
    let normalized = Set(axes.map { normalizeAxis($0, rank: rank, op: op) })
    precondition(normalized.count == axes.count, "\(op): repeated axis in \(axes)")
    return normalized.sorted()
}
