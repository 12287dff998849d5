extension Tensor {
    /// The shape after reducing `axes` (kept as size 1 with `keepDims`).
    static func reducedShape(_ shape: [Int], axes: [Int], keepDims: Bool) -> [Int] {
        if keepDims { return shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element } }
        return shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    }

    func reduce(_ kind: ReductionKind, axes: [Int]?, keepDims: Bool, op: String) -> Tensor {
        let axes = normalizeAxes(axes, rank: rank, op: op)
        if kind != .sum {
            for a in axes { precondition(shape[a] > 0, "\(op): cannot reduce over empty axis \(a) of shape \(shape)") }
        }
        var out = Tensor(uninitializedShape: Tensor.reducedShape(shape, axes: axes, keepDims: true), dtype: dtype)
        switch dtype {
        case .float32: reduceTyped(Float.self, kind, self, axes, &out)
        case .float64: reduceTyped(Double.self, kind, self, axes, &out)
        }
        if !keepDims { out.setShape(Tensor.reducedShape(shape, axes: axes, keepDims: false)) }
        return out
    }

    /// Sum over `axes` (all when nil): `Σ xᵢ`. Reduced axes are dropped, or kept as size 1 with `keepDims`.
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        reduce(.sum, axes: axes, keepDims: keepDims, op: "sum")
    }

    /// Arithmetic mean over `axes` (all when nil).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let n = Tensor.reducedCount(shape, axes: normalizeAxes(axes, rank: rank, op: "mean"))
        return sum(axes: axes, keepDims: keepDims) * (1 / Double(n))
    }

    /// Maximum over `axes` (all when nil); NaN propagates.
    public func max(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        reduce(.max, axes: axes, keepDims: keepDims, op: "max")
    }

    /// Minimum over `axes` (all when nil); NaN propagates.
    public func min(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        reduce(.min, axes: axes, keepDims: keepDims, op: "min")
    }

    /// Variance over `axes`: `Σ (x − mean)² / (n − correction)`; `correction: 1` is Bessel's (PyTorch's default).
    public func variance(axes: [Int]? = nil, correction: Int = 1, keepDims: Bool = false) -> Tensor {
        let n = Tensor.reducedCount(shape, axes: normalizeAxes(axes, rank: rank, op: "variance"))
        let centered = self - mean(axes: axes, keepDims: true)
        return centered.squared().sum(axes: axes, keepDims: keepDims) * (1 / Double(Swift.max(n - correction, 0)))
    }

    /// `log Σ exp(x)` over `axes`, computed as `m + log Σ exp(x − m)` with `m` the maximum, so it does not overflow.
    public func logSumExp(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let normalized = normalizeAxes(axes, rank: rank, op: "logSumExp")
        for a in normalized {
            precondition(shape[a] > 0, "logSumExp: cannot reduce over empty axis \(a) of shape \(shape)")
        }
        let reduced = Tensor.reducedShape(shape, axes: normalized, keepDims: keepDims)
        guard let first = normalized.first, normalized.last! - first == normalized.count - 1 else {
            // No axes, or axes with kept ones between them: composed from whole-tensor ops.
            let limit = dtype == .float32 ? Double(Float.greatestFiniteMagnitude) : .greatestFiniteMagnitude
            let m = max(axes: axes, keepDims: true).unary(.clamp(-limit, limit))
            return ((self - m).exp().sum(axes: axes, keepDims: true).log() + m).reshaped(reduced)
        }
        let (outer, n, inner) = blockView(axes: first...normalized.last!)
        var out = Tensor(uninitializedShape: reduced, dtype: dtype)
        if out.count == 0 { return out }
        switch dtype {
        case .float32: logSumExpTyped(Float.self, self, outer: outer, n: n, inner: inner, into: &out)
        case .float64: logSumExpTyped(Double.self, self, outer: outer, n: n, inner: inner, into: &out)
        }
        return out
    }

    /// This tensor seen as `[outer, n, inner]`, with `n` the product of the dimensions in `axes`.
    func blockView(axes: ClosedRange<Int>) -> (outer: Int, n: Int, inner: Int) {
        (shape[..<axes.lowerBound].reduce(1, *), shape[axes].reduce(1, *), shape[(axes.upperBound + 1)...].reduce(1, *))
    }

    static func reducedCount(_ shape: [Int], axes: [Int]) -> Int {
        axes.reduce(1) { $0 * shape[$1] }
    }

    /// Index of the largest element along `axis` for every other position (first one on ties),
    /// in row-major order of the remaining dimensions.
    public func argmax(axis: Int) -> [Int] { argExtremum(axis: axis, largest: true) }

    /// Index of the smallest element along `axis` (first one on ties).
    public func argmin(axis: Int) -> [Int] { argExtremum(axis: axis, largest: false) }

    private func argExtremum(axis: Int, largest: Bool) -> [Int] {
        let x = rank == 0 ? reshaped([1]) : self
        let ax = normalizeAxis(axis, rank: x.rank, op: largest ? "argmax" : "argmin")
        precondition(x.shape[ax] > 0, "\(largest ? "argmax" : "argmin"): empty axis \(axis) of shape \(shape)")
        let (outer, n, inner) = x.blockView(axes: ax...ax)
        switch dtype {
        case .float32: return argExtremumTyped(Float.self, x, outer: outer, n: n, inner: inner, largest: largest)
        case .float64: return argExtremumTyped(Double.self, x, outer: outer, n: n, inner: inner, largest: largest)
        }
    }
}

extension Tensor {
    /// `log softmax` along `axis`: `(x − m) − log Σ exp(x − m)` with `m` the maximum, stable for large inputs.
    public func logSoftmax(axis: Int = -1) -> Tensor { softmaxFamily(axis: axis, .logSoftmax, op: "logSoftmax") }

    /// `softmax` along `axis`: `exp(x − m) / Σ exp(x − m)` with `m` the maximum, so it never overflows.
    public func softmax(axis: Int = -1) -> Tensor { softmaxFamily(axis: axis, .softmax, op: "softmax") }

    /// Subtracting the maximum (clamped to finite values) before `exp` keeps large inputs exact: going through
    /// `x − logSumExp(x)` instead loses the low bits of `log Σ` next to a large maximum (relative error ~1e-5
    /// in float32 at |x| = 1000).
    private func softmaxFamily(axis: Int, _ output: SoftmaxKernels.Output, op: String) -> Tensor {
        let a = normalizeAxis(axis, rank: rank, op: op)
        precondition(shape[a] > 0, "\(op): cannot reduce over empty axis \(axis) of shape \(shape)")
        if count == 0 { return self }
        let (outer, n, inner) = blockView(axes: a...a)
        switch dtype {
        case .float32: return softmaxTyped(Float.self, self, outer: outer, n: n, inner: inner, output)
        case .float64: return softmaxTyped(Double.self, self, outer: outer, n: n, inner: inner, output)
        }
    }
}
