/// How a reduction combines elements.
enum ReductionKind {
    case sum, max, min

    func identity<T: TensorScalar>(_: T.Type) -> T {
        switch self {
        case .sum: return 0
        case .max: return -T.infinity
        case .min: return T.infinity
        }
    }
}

@inline(__always)
private func combine<T: TensorScalar>(_ kind: ReductionKind, _ a: T, _ b: T) -> T {
    switch kind {
    case .sum: return a + b
    case .max: return a > b || a.isNaN ? a : (b.isNaN ? b : Swift.max(a, b))
    case .min: return a < b || a.isNaN ? a : (b.isNaN ? b : Swift.min(a, b))
    }
}

private func reduceTyped<T: TensorScalar>(_: T.Type, _ kind: ReductionKind, _ x: Tensor, _ axes: [Int], _ out: inout Tensor) {
    let px = x.storage.pointer(T.self), po = out.storage.pointer(T.self)
    po.update(repeating: kind.identity(T.self), count: out.count)
    if x.count == 0 { return }
    let keptShape = out.shape
    var outStrides = contiguousStrides(keptShape)
    for a in axes { outStrides[a] = 0 }
    let (shape, strides) = Broadcasting.coalesce(shape: x.shape, strides: [contiguousStrides(x.shape), outStrides])
    let n = shape.last!, sx = strides[0].last!, so = strides[1].last!
    Broadcasting.forEachRow(shape: shape, strides: strides) { _, ox, oo, _ in
        let row = px + ox
        if so == 0 {
            var acc = kind.identity(T.self)
            switch kind {
            case .sum: for i in 0..<n { acc += row[i &* sx] }
            case .max, .min: for i in 0..<n { acc = combine(kind, acc, row[i &* sx]) }
            }
            po[oo] = combine(kind, po[oo], acc)
        } else {
            let o = po + oo
            switch kind {
            case .sum: for i in 0..<n { o[i &* so] += row[i &* sx] }
            case .max, .min: for i in 0..<n { o[i &* so] = combine(kind, o[i &* so], row[i &* sx]) }
            }
        }
    }
}

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
        let m = max(axes: axes, keepDims: true).unary(.clamp(-Double.greatestFiniteMagnitude, .greatestFiniteMagnitude))
        let s = (self - m).exp().sum(axes: axes, keepDims: true).log() + m
        return keepDims ? s : s.reshaped(Tensor.reducedShape(shape, axes: normalizeAxes(axes, rank: rank, op: "logSumExp"), keepDims: false))
    }

    static func reducedCount(_ shape: [Int], axes: [Int]) -> Int {
        axes.reduce(1) { $0 * shape[$1] }
    }

    /// Index of the largest element along `axis` for every other position (first one on ties),
    /// in row-major order of the remaining dimensions.
    public func argmax(alongAxis axis: Int) -> [Int] { argExtremum(axis: axis, largest: true) }

    /// Index of the smallest element along `axis` (first one on ties).
    public func argmin(alongAxis axis: Int) -> [Int] { argExtremum(axis: axis, largest: false) }

    private func argExtremum(axis: Int, largest: Bool) -> [Int] {
        let ax = normalizeAxis(axis, rank: Swift.max(rank, 1), op: largest ? "argmax" : "argmin")
        let shape = rank == 0 ? [1] : self.shape
        let n = shape[ax]
        precondition(n > 0, "\(largest ? "argmax" : "argmin"): empty axis \(axis) of shape \(self.shape)")
        let outer = shape[..<ax].reduce(1, *), inner = shape[(ax + 1)...].reduce(1, *)
        let x = doubles
        var result = [Int](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                var best = 0
                var bestValue = x[o * n * inner + i]
                for k in 1..<Swift.max(n, 1) {
                    let v = x[(o * n + k) * inner + i]
                    if bestValue.isNaN { break }
                    if v.isNaN || (largest ? v > bestValue : v < bestValue) { best = k; bestValue = v }
                }
                result[o * inner + i] = best
            }
        }
        return result
    }
}

extension Tensor {
    /// `log softmax` along `axis`: `(x − m) − log Σ exp(x − m)` with `m` the maximum, stable for large inputs.
    public func logSoftmax(axis: Int = -1) -> Tensor {
        let shifted = shiftedByMaximum(axis: axis)
        return shifted - shifted.exp().sum(axes: [axis], keepDims: true).log()
    }

    /// `softmax` along `axis`: `exp(x − m) / Σ exp(x − m)` with `m` the maximum, so it never overflows.
    public func softmax(axis: Int = -1) -> Tensor {
        let e = shiftedByMaximum(axis: axis).exp()
        return e / e.sum(axes: [axis], keepDims: true)
    }

    /// `x − max(x)` along `axis` (the maximum clamped to finite values). Subtracting the maximum
    /// before `exp` keeps large inputs exact: going through `x − logSumExp(x)` instead loses the
    /// low bits of `log Σ` next to a large maximum (relative error ~1e-5 in float32 at |x| = 1000).
    private func shiftedByMaximum(axis: Int) -> Tensor {
        self - max(axes: [axis], keepDims: true).unary(.clamp(-Double.greatestFiniteMagnitude, .greatestFiniteMagnitude))
    }
}
