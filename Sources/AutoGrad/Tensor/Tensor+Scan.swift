// Running (prefix) sums along one axis.

extension Tensor {
    /// Running sums along `axis` (PyTorch's `cumsum`): `yᵢ = Σ_{j ≤ i} xⱼ`, or with `reverse` the
    /// suffix sums `yᵢ = Σ_{j ≥ i} xⱼ` (the adjoint of the forward scan). Same shape as `x`; negative
    /// axes count from the end; a scalar is its own running sum (axis 0 or −1).
    public func cumsum(axis: Int, reverse: Bool = false) -> Tensor {
        let a = normalizeAxis(axis, rank: Swift.max(rank, 1), op: "cumsum")
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        guard count > 0 else { return out }
        let n = rank == 0 ? 1 : shape[a]
        let inner = rank == 0 ? 1 : shape[(a + 1)...].reduce(1, *)
        let outer = count / (n * inner)
        switch dtype {
        case .float32:
            Tensor.scan(storage.pointer(Float.self), out.storage.pointer(Float.self), outer, n, inner, reverse)
        case .float64:
            Tensor.scan(storage.pointer(Double.self), out.storage.pointer(Double.self), outer, n, inner, reverse)
        }
        return out
    }

    /// Scans `[outer, n, inner]` along the middle dimension, a whole inner row at a time so the loop
    /// runs over contiguous memory.
    private static func scan<T: TensorScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>,
                                              _ outer: Int, _ n: Int, _ inner: Int, _ reverse: Bool) {
        for o in 0..<outer {
            let base = o &* n &* inner
            for step in 0..<n {
                let i = reverse ? n - 1 - step : step
                let src = x + base + i &* inner, dst = y + base + i &* inner
                if step == 0 {
                    for k in 0..<inner { dst[k] = src[k] }
                } else {
                    let previous = UnsafePointer(y + base + (reverse ? i + 1 : i - 1) &* inner)
                    for k in 0..<inner { dst[k] = previous[k] + src[k] }
                }
            }
        }
    }
}
