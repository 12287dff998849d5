// Raw-pointer loops behind `softmax`, `logSoftmax` and `logSumExp` over one block of consecutive axes of a
// contiguous tensor, seen as `[outer, n, inner]` with the `n` axis reduced. With `inner == 1` each of the
// `outer` rows is contiguous: a max pass, an exp pass (written to the output), a sum and a scaling pass, all
// in L1 (`exp` is ``VectorMathScalar/vectorizableExp(_:)``, so those loops vectorise). Otherwise the same passes run across rows of `inner` columns, in tiles of columns. Both subtract the
// maximum, clamped to finite values, before `exp`: large inputs stay exact, and a row of −∞ gives
// `logSumExp = −∞`. Work splits over threads by row or column tile, so results never depend on the thread count.

enum SoftmaxKernels {
    /// What the row computes.
    enum Output { case softmax, logSoftmax }

    /// Columns per tile in the `inner > 1` kernels.
    static let columnTile = 256

    /// `m` clamped to `±greatestFiniteMagnitude` (NaN stays), so `x − m` is never `∞ − ∞`.
    @inline(__always)
    static func finite<T: TensorScalar>(_ m: T) -> T {
        m < -T.greatestFiniteMagnitude ? -T.greatestFiniteMagnitude : (m > T.greatestFiniteMagnitude ? T.greatestFiniteMagnitude : m)
    }

    /// `y[i] = exp(x[i] − m)` for `i < n`. A function of its own: inside larger loop nests the optimiser
    /// stops inlining `vectorizableExp`, and the loop then runs a call per element.
    @inline(never)
    static func exponentials<T: TensorScalar>(_ x: UnsafePointer<T>, minus m: T, _ y: UnsafeMutablePointer<T>, _ n: Int) {
        for i in 0..<n { y[i] = T.vectorizableExp(x[i] - m) }
    }

    /// `x[i] = exp(x[i] − m)` for `i < n`, in place. Not ``exponentials(_:minus:_:_:)`` with `y == x`: the vectorised
    /// loop there is guarded by a check that the two buffers do not overlap, so in place it falls back to its scalar
    /// loop (measured: attention's forward spent half its time there). One pointer has nothing to check.
    @inline(never)
    static func exponentiate<T: TensorScalar>(_ x: UnsafeMutablePointer<T>, minus m: T, _ n: Int) {
        for i in 0..<n { x[i] = T.vectorizableExp(x[i] - m) }
    }

    /// Softmax or log-softmax of the contiguous row `x[0..<n]` into `y`.
    @inline(__always)
    static func row<T: TensorScalar & SIMDScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int,
                                                  _ output: Output) {
        let m = finite(ReductionKernels.laneExtremum(x, n, largest: true))
        exponentials(x, minus: m, y, n)
        let s = T(ReductionKernels.contiguousSum(UnsafePointer(y), n))
        switch output {
        case .softmax:
            for i in 0..<n { y[i] = y[i] / s }
        case .logSoftmax:
            let logSum = T.log(s)
            for i in 0..<n { y[i] = (x[i] - m) - logSum }
        }
    }

    /// `log Σ exp` of the contiguous row `x[0..<n]`; `buffer` holds `sumBlock` scratch elements.
    @inline(__always)
    static func rowLogSumExp<T: TensorScalar & SIMDScalar>(_ x: UnsafePointer<T>, _ n: Int,
                                                           _ buffer: UnsafeMutablePointer<T>) -> T {
        let m = finite(ReductionKernels.laneExtremum(x, n, largest: true))
        let block = ReductionKernels.sumBlock
        var total = 0.0, start = 0
        while start < n {
            let length = Swift.min(block, n - start), src = x + start
            exponentials(src, minus: m, buffer, length)
            total += Double(ReductionKernels.laneSum(UnsafePointer(buffer), length))
            start += length
        }
        return T.log(T(total)) + m
    }

    /// Per column `j < width` of the `n` rows `x + k·stride`: the clamped maximum into `m` and `Σ exp(x − m)` into
    /// `s`; when `y` is given, the exponentials are written there (same layout as `x`).
    @inline(__always)
    static func columnMaxAndSum<T: TensorScalar & SIMDScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>?,
                                                              n: Int, stride: Int, width: Int,
                                                              m: UnsafeMutablePointer<T>, s: UnsafeMutablePointer<Double>) {
        m.update(repeating: -T.infinity, count: width)
        for k in 0..<n {
            let row = x + k * stride
            for j in 0..<width { m[j] = extremumStep(largest: true, m[j], row[j]) }
        }
        for j in 0..<width { m[j] = finite(m[j]) }
        s.update(repeating: 0, count: width)
        for k in 0..<n {
            let row = x + k * stride
            if let y {
                let out = y + k * stride
                for j in 0..<width {
                    let e = T.vectorizableExp(row[j] - m[j])
                    out[j] = e
                    s[j] += Double(e)
                }
            } else {
                for j in 0..<width { s[j] += Double(T.vectorizableExp(row[j] - m[j])) }
            }
        }
    }

    /// Runs `body(block, firstColumn, width)` over the `[outer, ·, inner]` columns in tiles, split over threads.
    @inline(__always)
    static func forEachColumnTile(outer: Int, inner: Int, work: Int, _ body: (Int, Int, Int) -> Void) {
        let tile = Swift.min(columnTile, inner), tiles = (inner + tile - 1) / tile
        Parallel.forEachPart(outer * tiles, work: work) { part in
            for item in part {
                let first = (item % tiles) * tile
                body(item / tiles, first, Swift.min(tile, inner - first))
            }
        }
    }
}

/// Softmax or log-softmax of contiguous `x`, seen as `[outer, n, inner]`, along the `n` axis.
func softmaxTyped<T: TensorScalar & SIMDScalar>(_: T.Type, _ x: Tensor, outer: Int, n: Int, inner: Int,
                                                _ output: SoftmaxKernels.Output) -> Tensor {
    let out = Tensor(uninitializedShape: x.shape, dtype: x.dtype)
    let px = UnsafePointer(x.storage.pointer(T.self)), py = out.storage.pointer(T.self)
    let work = x.count * 4
    if inner == 1 {
        Parallel.forEachPart(outer, work: work) { rows in
            for r in rows { SoftmaxKernels.row(px + r * n, py + r * n, n, output) }
        }
        return out
    }
    let tile = Swift.min(SoftmaxKernels.columnTile, inner)
    SoftmaxKernels.forEachColumnTile(outer: outer, inner: inner, work: work) { block, first, width in
        withUnsafeTemporaryAllocation(of: T.self, capacity: tile) { m in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: tile) { s in
                let m = m.baseAddress!, s = s.baseAddress!
                let offset = block * n * inner + first
                let x = px + offset, y = py + offset
                SoftmaxKernels.columnMaxAndSum(x, y, n: n, stride: inner, width: width, m: m, s: s)
                switch output {
                case .softmax:
                    for k in 0..<n {
                        let yr = y + k * inner
                        for j in 0..<width { yr[j] = yr[j] / T(s[j]) }
                    }
                case .logSoftmax:
                    for j in 0..<width { s[j] = Double(T.log(T(s[j]))) }
                    for k in 0..<n {
                        let xr = x + k * inner, yr = y + k * inner
                        for j in 0..<width { yr[j] = (xr[j] - m[j]) - T(s[j]) }
                    }
                }
            }
        }
    }
    return out
}

/// `log Σ exp` of contiguous `x`, seen as `[outer, n, inner]`, over the `n` axis, into `out` (`outer · inner` elements).
func logSumExpTyped<T: TensorScalar & SIMDScalar>(_: T.Type, _ x: Tensor, outer: Int, n: Int, inner: Int,
                                                  into out: inout Tensor) {
    let px = UnsafePointer(x.storage.pointer(T.self)), po = out.storage.pointer(T.self)
    let work = x.count * 2
    if inner == 1 {
        Parallel.forEachPart(outer, work: work) { rows in
            withUnsafeTemporaryAllocation(of: T.self, capacity: ReductionKernels.sumBlock) { buffer in
                for r in rows { po[r] = SoftmaxKernels.rowLogSumExp(px + r * n, n, buffer.baseAddress!) }
            }
        }
        return
    }
    let tile = Swift.min(SoftmaxKernels.columnTile, inner)
    SoftmaxKernels.forEachColumnTile(outer: outer, inner: inner, work: work) { block, first, width in
        withUnsafeTemporaryAllocation(of: T.self, capacity: tile) { m in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: tile) { s in
                let m = m.baseAddress!, s = s.baseAddress!
                SoftmaxKernels.columnMaxAndSum(px + block * n * inner + first, nil, n: n, stride: inner, width: width,
                                               m: m, s: s)
                let dst = po + block * inner + first
                for j in 0..<width { dst[j] = T.log(T(s[j])) + m[j] }
            }
        }
    }
}

/// The index of the largest (or smallest) element along the `n` axis of contiguous `x`, seen as
/// `[outer, n, inner]` (`n > 0`), for every `(outer, inner)` position in row-major order: the first NaN, else
/// the first of equal extremes.
func argExtremumTyped<T: TensorScalar>(_: T.Type, _ x: Tensor, outer: Int, n: Int, inner: Int, largest: Bool) -> [Int] {
    let px = UnsafePointer(x.storage.pointer(T.self))
    var result = [Int](repeating: 0, count: outer * inner)
    var bestValues = [T](repeating: 0, count: inner)
    result.withUnsafeMutableBufferPointer { result in
        bestValues.withUnsafeMutableBufferPointer { bestValues in
            for o in 0..<outer {
                let block = px + o * n * inner, indices = result.baseAddress! + o * inner
                bestValues.baseAddress!.update(from: block, count: inner)
                for k in 1..<n {
                    let row = block + k * inner
                    for j in 0..<inner {
                        let best = bestValues[j], v = row[j]
                        if best.isNaN { continue }
                        if v.isNaN || (largest ? v > best : v < best) {
                            indices[j] = k
                            bestValues[j] = v
                        }
                    }
                }
            }
        }
    }
    return result
}
