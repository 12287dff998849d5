// Raw-pointer loops behind `sum`, `max` and `min` over axes (and so `mean`, `variance`, `sum(toShape:)`).
//
// After `Broadcasting.coalesce` every reduction of a contiguous tensor is a loop over the output with one of two
// innermost shapes: the innermost run is reduced (`sum(axes: [-1])`, `sum()`, BatchNorm's `[N, C, L] → [C]`),
// or it is kept and whole rows add into an output row (`[N, F] → [F]`). Runs reduce over 32 independent lanes
// (four `SIMD8`s), so the loops vectorise although floating-point addition is not associative. Sums accumulate
// in T over blocks of `ReductionKernels.sumBlock` elements and add the block sums in Double; the output-row
// loops accumulate in Double. Work splits over threads by output element (or, for one output, by fixed
// chunks whose partial results combine in order), so results never depend on the thread count.

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

/// `a` and `b` combined; `max` and `min` propagate NaN.
@inline(__always)
func combine<T: TensorScalar>(_ kind: ReductionKind, _ a: T, _ b: T) -> T {
    switch kind {
    case .sum: return a + b
    case .max: return a > b || a.isNaN ? a : (b.isNaN ? b : Swift.max(a, b))
    case .min: return a < b || a.isNaN ? a : (b.isNaN ? b : Swift.min(a, b))
    }
}

/// `v` when it beats the running extremum `a` or is NaN, else `a`: a select, so loops of it vectorise.
/// A NaN in `a` stays, since no comparison with it holds.
@inline(__always)
func extremumStep<T: TensorScalar>(largest: Bool, _ a: T, _ v: T) -> T {
    largest ? ((v >= a || v != v) ? v : a) : ((v <= a || v != v) ? v : a)
}

enum ReductionKernels {
    /// Elements summed in T (over 32 lanes) before the partial sum is added in Double.
    static let sumBlock = 1024
    /// Elements per chunk when a whole contiguous tensor reduces to one value; fixed, so the partial results
    /// (and their order) do not depend on the thread count.
    static let wholeChunk = 1 << 15
    /// Output columns per tile when rows add into an output row: the accumulators stay in L1.
    static let columnTile = 512

    @inline(__always)
    static func load<T: TensorScalar & SIMDScalar>(_ p: UnsafePointer<T>, _ i: Int) -> SIMD8<T> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<T>.self)
    }

    /// `Σ p[0..<n]` in T over 32 lanes (combined pairwise), then the tail.
    @inline(__always)
    static func laneSum<T: TensorScalar & SIMDScalar>(_ p: UnsafePointer<T>, _ n: Int) -> T {
        var a0 = SIMD8<T>(), a1 = a0, a2 = a0, a3 = a0
        var i = 0
        while i &+ 32 <= n {
            a0 += load(p, i); a1 += load(p, i &+ 8); a2 += load(p, i &+ 16); a3 += load(p, i &+ 24)
            i &+= 32
        }
        while i &+ 8 <= n { a0 += load(p, i); i &+= 8 }
        var s = ((a0 + a1) + (a2 + a3)).sum()
        while i < n { s += p[i]; i &+= 1 }
        return s
    }

    /// `Σ p[i]·q[i]` over `0..<n` in T, over 32 lanes as ``laneSum(_:_:)`` adds: four independent chains instead of
    /// one dependent add per element.
    @inline(__always)
    static func laneDot<T: TensorScalar & SIMDScalar>(_ p: UnsafePointer<T>, _ q: UnsafePointer<T>, _ n: Int) -> T {
        var a0 = SIMD8<T>(), a1 = a0, a2 = a0, a3 = a0
        var i = 0
        while i &+ 32 <= n {
            a0 += load(p, i) * load(q, i); a1 += load(p, i &+ 8) * load(q, i &+ 8)
            a2 += load(p, i &+ 16) * load(q, i &+ 16); a3 += load(p, i &+ 24) * load(q, i &+ 24)
            i &+= 32
        }
        while i &+ 8 <= n { a0 += load(p, i) * load(q, i); i &+= 8 }
        var s = ((a0 + a1) + (a2 + a3)).sum()
        while i < n { s += p[i] * q[i]; i &+= 1 }
        return s
    }

    /// `Σ p[0..<n]`: blocks of `sumBlock` summed by ``laneSum(_:_:)``, block sums added in Double.
    @inline(__always)
    static func contiguousSum<T: TensorScalar & SIMDScalar>(_ p: UnsafePointer<T>, _ n: Int) -> Double {
        if n <= sumBlock { return Double(laneSum(p, n)) }
        var total = 0.0, start = 0
        while start < n {
            let length = Swift.min(sumBlock, n &- start)
            total += Double(laneSum(p + start, length))
            start &+= length
        }
        return total
    }

    /// The largest (or smallest) of `p[0..<n]` (NaN when any is NaN) over 16 lanes; the identity when `n` is 0.
    /// The lanes are a fixed-length loop of selects (``extremumStep(largest:_:_:)``), which LLVM turns into
    /// vector compares and blends.
    @inline(__always)
    static func laneExtremum<T: TensorScalar>(_ p: UnsafePointer<T>, _ n: Int, largest: Bool) -> T {
        let kind: ReductionKind = largest ? .max : .min
        var s = kind.identity(T.self)
        var i = 0
        if n >= 16 {
            withUnsafeTemporaryAllocation(of: T.self, capacity: 16) { lanes in
                let lanes = lanes.baseAddress!
                lanes.update(repeating: s, count: 16)
                if largest {
                    while i &+ 16 <= n {
                        for j in 0..<16 { lanes[j] = extremumStep(largest: true, lanes[j], p[i &+ j]) }
                        i &+= 16
                    }
                } else {
                    while i &+ 16 <= n {
                        for j in 0..<16 { lanes[j] = extremumStep(largest: false, lanes[j], p[i &+ j]) }
                        i &+= 16
                    }
                }
                for j in 0..<16 { s = combine(kind, s, lanes[j]) }
            }
        }
        while i < n { s = combine(kind, s, p[i]); i &+= 1 }
        return s
    }

    /// `kind` over `p[0..<n]`, as a T.
    @inline(__always)
    static func reduceRun<T: TensorScalar & SIMDScalar>(_ kind: ReductionKind, _ p: UnsafePointer<T>, _ n: Int) -> T {
        switch kind {
        case .sum: return T(contiguousSum(p, n))
        case .max: return laneExtremum(p, n, largest: true)
        case .min: return laneExtremum(p, n, largest: false)
        }
    }
}

/// A reduction of a contiguous tensor, coalesced: the innermost run of `inner` elements (reduced or kept),
/// and the outer dimensions split into kept ones (indexing the output, row-major) and reduced ones.
struct ReductionPlan {
    var keptShape: [Int] = [], keptStrides: [Int] = []
    var reducedShape: [Int] = [], reducedStrides: [Int] = []
    /// The innermost run's length (stride 1 in the input).
    let inner: Int
    /// Whether the innermost run is reduced (else it is kept, and rows add into output rows).
    let innerReduced: Bool

    /// `shape` (contiguous) reduced over `axes` (sorted, in range).
    init(shape: [Int], axes: [Int]) {
        var outStrides = contiguousStrides(Tensor.reducedShape(shape, axes: axes, keepDims: true))
        for a in axes { outStrides[a] = 0 }
        let (dims, strides) = Broadcasting.coalesce(shape: shape, strides: [contiguousStrides(shape), outStrides])
        inner = dims.last!
        innerReduced = strides[1].last! == 0
        for d in 0..<(dims.count - 1) {
            if strides[1][d] == 0 {
                reducedShape.append(dims[d]); reducedStrides.append(strides[0][d])
            } else {
                keptShape.append(dims[d]); keptStrides.append(strides[0][d])
            }
        }
    }

    /// The outer kept positions: output elements when the run is reduced, output rows when it is kept.
    var outerCount: Int { keptShape.reduce(1, *) }

    /// The input offset of outer kept position `index`.
    @inline(__always)
    func keptOffset(_ index: Int) -> Int {
        Broadcasting.offset(ofPosition: index, shape: keptShape, strides: keptStrides)
    }
}

/// `out` (the keepDims shape, contiguous) = `kind` of `x` over `axes` (sorted, in range).
func reduceTyped<T: TensorScalar & SIMDScalar>(_: T.Type, _ kind: ReductionKind, _ x: Tensor, _ axes: [Int],
                                               _ out: inout Tensor) {
    let px = UnsafePointer(x.storage.pointer(T.self)), po = out.storage.pointer(T.self)
    if x.count == 0 {
        po.update(repeating: kind.identity(T.self), count: out.count)
        return
    }
    let plan = ReductionPlan(shape: x.shape, axes: axes)
    if plan.innerReduced {
        if plan.keptShape.isEmpty && plan.reducedShape.isEmpty {
            po[0] = reduceWhole(kind, px, plan.inner)
        } else {
            reduceRuns(kind, px, po, plan, work: x.count)
        }
    } else {
        reduceRows(kind, px, po, plan, work: x.count)
    }
}

/// One value from `n` contiguous elements: fixed chunks reduced in parallel, combined in chunk order.
private func reduceWhole<T: TensorScalar & SIMDScalar>(_ kind: ReductionKind, _ px: UnsafePointer<T>, _ n: Int) -> T {
    let chunk = ReductionKernels.wholeChunk
    if n <= chunk { return ReductionKernels.reduceRun(kind, px, n) }
    let chunks = (n + chunk - 1) / chunk
    switch kind {
    case .sum:
        var partials = [Double](repeating: 0, count: chunks)
        partials.withUnsafeMutableBufferPointer { partials in
            Parallel.forEachPart(chunks, work: n) { part in
                for c in part {
                    partials[c] = ReductionKernels.contiguousSum(px + c * chunk, Swift.min(chunk, n - c * chunk))
                }
            }
        }
        return T(partials.reduce(0, +))
    case .max, .min:
        var partials = [T](repeating: 0, count: chunks)
        partials.withUnsafeMutableBufferPointer { partials in
            Parallel.forEachPart(chunks, work: n) { part in
                for c in part { partials[c] = ReductionKernels.reduceRun(kind, px + c * chunk, Swift.min(chunk, n - c * chunk)) }
            }
        }
        return partials.reduce(kind.identity(T.self)) { combine(kind, $0, $1) }
    }
}

/// The innermost run is reduced: each output element combines its runs (one per outer reduced position, in
/// order; sums in Double). Splits by output element.
private func reduceRuns<T: TensorScalar & SIMDScalar>(_ kind: ReductionKind, _ px: UnsafePointer<T>,
                                                      _ po: UnsafeMutablePointer<T>, _ plan: ReductionPlan, work: Int) {
    let n = plan.inner
    Parallel.forEachPart(plan.outerCount, work: work) { part in
        for o in part {
            let base = px + plan.keptOffset(o)
            switch kind {
            case .sum:
                var total = 0.0
                Broadcasting.forEachOffset(shape: plan.reducedShape, strides: plan.reducedStrides) { r in
                    total += ReductionKernels.contiguousSum(base + r, n)
                }
                po[o] = T(total)
            case .max, .min:
                var best = kind.identity(T.self)
                Broadcasting.forEachOffset(shape: plan.reducedShape, strides: plan.reducedStrides) { r in
                    best = combine(kind, best, ReductionKernels.reduceRun(kind, base + r, n))
                }
                po[o] = best
            }
        }
    }
}

/// The innermost run is kept: every output row is the combination of the input rows over the outer reduced
/// positions, taken in order (sums in Double), in tiles of columns. Splits by (row, tile).
private func reduceRows<T: TensorScalar & SIMDScalar>(_ kind: ReductionKind, _ px: UnsafePointer<T>,
                                                      _ po: UnsafeMutablePointer<T>, _ plan: ReductionPlan, work: Int) {
    let n = plan.inner, rows = plan.outerCount
    var tile = Swift.min(ReductionKernels.columnTile, n)
    let threads = Swift.max(1, BLAS.threadCount)
    if rows * ((n + tile - 1) / tile) < threads {
        // Too few tiles to share: narrower ones (each element's order of accumulation is unchanged).
        tile = Swift.max(64, ((n + threads - 1) / threads + 7) / 8 * 8)
    }
    let tiles = (n + tile - 1) / tile
    Parallel.forEachPart(rows * tiles, work: work) { part in
        withUnsafeTemporaryAllocation(of: Double.self, capacity: tile) { sums in
            let sums = sums.baseAddress!
            for item in part {
                let row = item / tiles, first = (item % tiles) * tile
                let length = Swift.min(tile, n - first)
                let base = px + plan.keptOffset(row) + first
                let dst = po + row * n + first
                switch kind {
                case .sum:
                    sums.update(repeating: 0, count: length)
                    if plan.reducedShape.count == 1 {
                        // One reduced dimension: four rows per pass over the accumulators, added pairwise in T
                        // (at most two roundings) before joining the Double sums.
                        let count = plan.reducedShape[0], step = plan.reducedStrides[0]
                        var r = 0
                        while r + 4 <= count {
                            let r0 = base + r * step, r1 = r0 + step, r2 = r1 + step, r3 = r2 + step
                            for j in 0..<length {
                                sums[j] += Double((r0[j] + r1[j]) + (r2[j] + r3[j]))
                            }
                            r += 4
                        }
                        while r < count {
                            let src = base + r * step
                            for j in 0..<length { sums[j] += Double(src[j]) }
                            r += 1
                        }
                    } else {
                        Broadcasting.forEachOffset(shape: plan.reducedShape, strides: plan.reducedStrides) { r in
                            let src = base + r
                            for j in 0..<length { sums[j] += Double(src[j]) }
                        }
                    }
                    for j in 0..<length { dst[j] = T(sums[j]) }
                case .max, .min:
                    let largest = kind == .max
                    dst.update(repeating: kind.identity(T.self), count: length)
                    Broadcasting.forEachOffset(shape: plan.reducedShape, strides: plan.reducedStrides) { r in
                        let src = base + r
                        if largest {
                            for j in 0..<length { dst[j] = extremumStep(largest: true, dst[j], src[j]) }
                        } else {
                            for j in 0..<length { dst[j] = extremumStep(largest: false, dst[j], src[j]) }
                        }
                    }
                }
            }
        }
    }
}
