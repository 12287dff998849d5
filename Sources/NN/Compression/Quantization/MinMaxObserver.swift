import AutoGrad

/// The running range of the activations a layer receives during calibration (PyTorch's `MinMaxObserver`): the least
/// and greatest value over every batch observed, from which ``quantization`` chooses a fixed unsigned-byte map.
///
/// ```swift
/// var observer = MinMaxObserver()
/// for batch in calibration { observer.observe(batch) }
/// let map = observer.quantization   // scale and zero point for [min(low, 0), max(high, 0)]
/// ```
public struct MinMaxObserver: Sendable, Equatable {
    /// The least value seen (NaN skipped); `+∞` before any.
    public private(set) var low = Float.infinity
    /// The greatest value seen (NaN skipped); `−∞` before any.
    public private(set) var high = -Float.infinity
    /// The number of tensors observed.
    public private(set) var batches = 0

    /// An observer that has seen nothing.
    public init() {}

    /// Widens the range to hold every element of `x`.
    ///
    /// - Precondition: `x` is `float32` (the dtype quantised layers take).
    public mutating func observe(_ x: Tensor) {
        precondition(x.dtype == .float32, "MinMaxObserver.observe: expected a float32 tensor, got \(x.dtype) of shape \(x.shape)")
        let (batchLow, batchHigh) = x.withUnsafeBufferPointer(as: Float.self) { values in
            values.baseAddress.map { ActivationQuantization.extremes($0, count: values.count) } ?? (.infinity, -.infinity)
        }
        low = Swift.min(low, batchLow)
        high = Swift.max(high, batchHigh)
        batches += 1
    }

    /// The unsigned-byte map of the observed range, widened to hold 0.
    ///
    /// - Precondition: at least one tensor was observed.
    public var quantization: ActivationQuantization {
        precondition(batches > 0, "MinMaxObserver.quantization: no tensor was observed")
        return ActivationQuantization(low: low, high: high)
    }
}
