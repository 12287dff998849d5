extension Tensor {
    /// A tensor of the given shape with every element equal to `value`.
    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32) -> Tensor {
        var t = Tensor(uninitializedShape: shape, dtype: dtype)
        t.fill(value)
        return t
    }

    /// A tensor of the given shape whose elements are not set (PyTorch's `torch.empty`).
    ///
    /// For kernels that write every element anyway: it skips the pass that ``zeros(_:dtype:)`` spends
    /// on clearing the memory. Reading an element before writing it gives an unspecified value.
    public static func empty(_ shape: [Int], dtype: DType = .float32) -> Tensor {
        Tensor(uninitializedShape: shape, dtype: dtype)
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int], dtype: DType = .float32) -> Tensor { full(shape, 0, dtype: dtype) }

    /// A tensor of ones.
    public static func ones(_ shape: [Int], dtype: DType = .float32) -> Tensor { full(shape, 1, dtype: dtype) }

    /// Zeros with the shape and dtype of `other`.
    public static func zeros(like other: Tensor) -> Tensor { zeros(other.shape, dtype: other.dtype) }

    /// Ones with the shape and dtype of `other`.
    public static func ones(like other: Tensor) -> Tensor { ones(other.shape, dtype: other.dtype) }

    /// Sets every element to `value`.
    public mutating func fill(_ value: Double) {
        makeUnique()
        switch dtype {
        case .float32: storage.pointer(Float.self).update(repeating: Float(value), count: count)
        case .float64: storage.pointer(Double.self).update(repeating: value, count: count)
        }
    }

    /// Values `start, start + step, …` below `end` (like `torch.arange`).
    public static func arange(_ start: Double = 0, _ end: Double, step: Double = 1, dtype: DType = .float32) -> Tensor {
        precondition(step != 0, "arange: step must be non-zero")
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor(shape: [n], scalars: (0..<n).map { start + Double($0) * step }, dtype: dtype)
    }

    /// `count` evenly spaced values from `start` to `end`, both included.
    public static func linspace(_ start: Double, _ end: Double, count: Int, dtype: DType = .float32) -> Tensor {
        precondition(count >= 0, "linspace: count must be non-negative, got \(count)")
        if count == 1 { return Tensor(shape: [1], scalars: [start], dtype: dtype) }
        let step = count > 1 ? (end - start) / Double(count - 1) : 0
        return Tensor(shape: [count], scalars: (0..<count).map { $0 == count - 1 ? end : start + Double($0) * step }, dtype: dtype)
    }

    /// The `n × n` identity matrix (or `n × m` with ones on the main diagonal).
    public static func eye(_ n: Int, _ m: Int? = nil, dtype: DType = .float32) -> Tensor {
        let cols = m ?? n
        var t = zeros([n, cols], dtype: dtype)
        for i in 0..<Swift.min(n, cols) { t[flat: i * cols + i] = 1 }
        return t
    }

    /// Uniform random numbers in [low, high).
    public static func uniform(_ shape: [Int], low: Double = 0, high: Double = 1,
                               dtype: DType = .float32, generator: RandomGenerator = .global) -> Tensor {
        precondition(low <= high, "uniform: low \(low) is above high \(high)")
        var t = Tensor(uninitializedShape: shape, dtype: dtype)
        switch dtype {
        case .float32: generator.fillUniform(t.storage.pointer(Float.self), count: t.count, low: low, high: high)
        case .float64: generator.fillUniform(t.storage.pointer(Double.self), count: t.count, low: low, high: high)
        }
        t.shape = shape
        return t
    }

    /// Uniform random numbers in [0, 1) (like `torch.rand`).
    public static func rand(_ shape: [Int], dtype: DType = .float32, generator: RandomGenerator = .global) -> Tensor {
        uniform(shape, dtype: dtype, generator: generator)
    }

    /// Normally distributed random numbers.
    public static func normal(_ shape: [Int], mean: Double = 0, std: Double = 1,
                              dtype: DType = .float32, generator: RandomGenerator = .global) -> Tensor {
        precondition(std >= 0, "normal: std must be non-negative, got \(std)")
        let t = Tensor(uninitializedShape: shape, dtype: dtype)
        switch dtype {
        case .float32: generator.fillNormal(t.storage.pointer(Float.self), count: t.count, mean: mean, std: std)
        case .float64: generator.fillNormal(t.storage.pointer(Double.self), count: t.count, mean: mean, std: std)
        }
        return t
    }

    /// Standard normal random numbers (like `torch.randn`).
    public static func randn(_ shape: [Int], dtype: DType = .float32, generator: RandomGenerator = .global) -> Tensor {
        normal(shape, dtype: dtype, generator: generator)
    }
}
