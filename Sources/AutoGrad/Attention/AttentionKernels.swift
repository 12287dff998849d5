import CKernels
import Foundation

// Raw-pointer loops behind the fused attention op. Each problem's scores are made a block at a time: a product
// `q_blk · k_blkᵀ` into a scratch matrix, the mask and the causal rule applied to it, exponentials taken against a
// running row maximum (the online softmax: earlier output rows are rescaled when the maximum grows), and the block's
// weights multiplied into the output with `P_blk · v_blk`. The backward makes the same blocks again from q, k and
// the saved per-row log-sum-exp instead of keeping the weights. Products go through `gemm` (one call per block,
// on the calling thread inside a split loop), none with a transposed second operand: kᵀ and vᵀ are copied into
// scratch first (a small fraction of a product's work), because small Float products run CKernels' unpacked kernel
// only with b as it is, while a transposed b sends them to OpenBLAS, which packs both operands and zeroes `c` in a
// separate pass (measured: half the time of attention-t64-fwd-bwd went to that). The unpacked kernel reads a
// transposed first operand, so the backward's products with a block's transpose (∂v = Pᵀ·g, ∂k = ∂Sᵀ·q) take the
// block as it is (Docs/Performance.md). The
// softmax rows of Float blocks run CKernels' attention kernels (eight-lane exponentials with FMA). The problems
// (and in the forward, their query blocks) split over the thread pool. Results never depend on the thread count:
// each output row is written by one thread, always with the same blocks.

/// How one problem's scores are processed: every key at once, or in blocks. The choice is made in one place,
/// ``choose(queries:keys:)``, from measurements; tests force either route.
enum AttentionRoute: Equatable, Sendable {
    /// All `tq × tk` scores of a problem in one scratch matrix (one thread per problem), softmax in one pass.
    case materialized
    /// Blocks of `queries × keys` scores with a running softmax across key blocks; problems and query blocks
    /// split over threads.
    case blockwise(queries: Int, keys: Int)

    /// The route for problems of `queries × keys` scores.
    ///
    /// Measured once in a release build (`autograd-bench micro --filter attention` under each
    /// `AUTOGRAD_ATTENTION_ROUTE`), `[12, 4, T, 32]` Float, 1 thread, on a shared 2-core machine under heavy load
    /// (medians, ms, materialised / blockwise): T = 64 forward 2.3 / 2.1; T = 256 forward 44 / 58, forward+backward
    /// 130 / 136; T = 1024 forward 868 / 879, forward+backward 2341 / 2118. So whole score rows up to 256 × 256, blocks
    /// above, where the materialised scratch (4 MiB per thread at 1024) stops fitting in cache. Figures this noisy
    /// deserve a rerun on a quiet machine before the threshold is tuned further.
    ///
    /// Causal problems of that size take whole key rows too, but blocks of ``causalQueries`` queries: a block sees
    /// only the keys up to its last query, so the products and exponentials right of the diagonal are skipped
    /// (T = 64: 5/8 of the work instead of all of it). Measured, `[12, 4, T, 32]` causal forward+backward, 1 thread,
    /// load 7 on 2 cores, fastest of 30 samples in three alternating runs (µs): T = 64, queries per block 64 (whole
    /// problem) / 32 / 16: 2485–2835 / 1924–2701 / 1896–3453; T = 256, 256 / 64 / 32 / 16: 74555–85558 /
    /// 29376–51331 / 36621–49932 / 27680–46845.
    static func choose(queries: Int, keys: Int, isCausal: Bool = false) -> AttentionRoute {
        if let forced { return forced }
        guard queries * keys <= 256 * 256 else { return standardBlocks }
        return isCausal && queries > causalQueries ? .blockwise(queries: causalQueries, keys: keys) : .materialized
    }

    /// Queries per block of a causal problem on the whole-rows route.
    static let causalQueries = 32

    /// The blocks of the blockwise route: 64 × 128 Float scores (32 KiB) stay in L1/L2 beside the operands' rows.
    static let standardBlocks = AttentionRoute.blockwise(queries: 64, keys: 128)

    /// The route set by the environment variable `AUTOGRAD_ATTENTION_ROUTE` (`materialized` or `blockwise`) for every
    /// size, read once; how the benchmarks time both routes on the same shapes.
    static let forced: AttentionRoute? = {
        switch getenv("AUTOGRAD_ATTENTION_ROUTE").map({ String(cString: $0) }) {
        case "materialized": return .materialized
        case "blockwise": return standardBlocks
        default: return nil
        }
    }()

    /// Rows of queries and keys per block for a problem of `tq × tk` scores (at least 1 each).
    func blocks(tq: Int, tk: Int) -> (queries: Int, keys: Int) {
        switch self {
        case .materialized: return (Swift.max(tq, 1), Swift.max(tk, 1))
        case .blockwise(let queries, let keys): return (Swift.max(1, Swift.min(queries, tq)), Swift.max(1, Swift.min(keys, tk)))
        }
    }
}

/// The read-only operands of one attention call, in the computation's element type.
struct AttentionOperands<T: TensorScalar> {
    let query: UnsafePointer<T>, key: UnsafePointer<T>, value: UnsafePointer<T>
    /// The additive mask (0 where attending, −∞ where not, or any float), laid out as ``AttentionLayout`` says.
    let mask: UnsafePointer<T>?
    /// The dropout multipliers `[batch, tq, tk]` (0 or `1/(1 − p)`), or nil without dropout.
    let dropout: UnsafePointer<T>?
}

enum AttentionKernels {
    /// Adds the mask to `row` (the scores of query `i` against keys `j0 ..< j0 + width` of problem `b`) and sets
    /// the keys after `i` to −∞ when causal.
    @inline(__always)
    static func mask<T: TensorScalar>(_ row: UnsafeMutablePointer<T>, _ layout: AttentionLayout, _ x: AttentionOperands<T>,
                                      problem b: Int, query i: Int, firstKey j0: Int, width: Int) {
        if let mask = x.mask, let offsets = layout.maskOffsets {
            let m = mask + offsets[b] + i * layout.maskRowStride + j0 * layout.maskColumnStride
            if layout.maskColumnStride == 1 {
                for c in 0..<width { row[c] += m[c] }
            } else {
                let value = m[0]
                for c in 0..<width { row[c] += value }
            }
        }
        if layout.isCausal && j0 + width - 1 > i {
            let first = Swift.max(0, i + 1 - j0)
            (row + first).update(repeating: -T.infinity, count: width - first)
        }
    }

    /// One key block of the running softmax over `rows` rows of `width` scores, in place (see
    /// `ck_attention_softmax_step_f32`): the rows become `exp(score − m)` with `m` the new running maximum, and
    /// `correction[r]` the factor by which what earlier blocks added must be scaled.
    @inline(__always)
    static func softmaxStep<T: TensorScalar & SIMDScalar>(_ scores: UnsafeMutablePointer<T>, rows: Int, width: Int,
                                                          rowMax: UnsafeMutablePointer<T>, rowSum: UnsafeMutablePointer<T>,
                                                          correction: UnsafeMutablePointer<T>) {
        if T.self == Float.self {
            ck_attention_softmax_step_f32(scores.reinterpreted(as: Float.self), rows, width, rowMax.reinterpreted(as: Float.self),
                                          rowSum.reinterpreted(as: Float.self), correction.reinterpreted(as: Float.self))
            return
        }
        for r in 0..<rows {
            let row = scores + r * width, previous = rowMax[r]
            let m = Swift.max(previous, ReductionKernels.laneExtremum(UnsafePointer(row), width, largest: true))
            guard m != -T.infinity else {
                // Every key so far is hidden: the row's weights are 0 and the running state stays empty.
                row.update(repeating: 0, count: width)
                correction[r] = 1
                continue
            }
            SoftmaxKernels.exponentiate(row, minus: m, width)
            let c = previous == m ? 1 : T.exp(previous - m)
            rowSum[r] = rowSum[r] * c + ReductionKernels.laneSum(UnsafePointer(row), width)
            rowMax[r] = m
            correction[r] = c
        }
    }

    /// Rows `r < rows` of `width` scores become `exp(score − shift[r])` in place, or 0 where `shift[r] = −∞`.
    @inline(__always)
    static func exponentiateRows<T: TensorScalar>(_ scores: UnsafeMutablePointer<T>, rows: Int, width: Int, minus shift: UnsafePointer<T>) {
        if T.self == Float.self {
            ck_attention_exp_rows_f32(scores.reinterpreted(as: Float.self), rows, width, shift.reinterpreted(as: Float.self))
            return
        }
        for r in 0..<rows {
            let row = scores + r * width
            if shift[r] == -T.infinity { row.update(repeating: 0, count: width) }
            else { SoftmaxKernels.exponentiate(row, minus: shift[r], width) }
        }
    }

    /// Row `r` of `rows` (each `width` long) multiplied by `factor[r]`, in place.
    @inline(__always)
    static func scaleRows<T: TensorScalar>(_ x: UnsafeMutablePointer<T>, rows: Int, width: Int, by factor: UnsafePointer<T>) {
        if T.self == Float.self {
            ck_attention_scale_rows_f32(x.reinterpreted(as: Float.self), rows, width, factor.reinterpreted(as: Float.self))
            return
        }
        for r in 0..<rows {
            let row = x + r * width, f = factor[r]
            for c in 0..<width { row[c] *= f }
        }
    }

    /// The scores' gradient `∂S = P ∘ (∂P ∘ M − D)` in place of ∂P (`gradient`), rows of `width` (see
    /// `ck_attention_score_gradient_f32`): `dropout`'s row `r` (the multipliers M) at `dropout + r·dropoutStride`.
    @inline(__always)
    static func scoreGradient<T: TensorScalar>(_ gradient: UnsafeMutablePointer<T>, weights: UnsafePointer<T>, rows: Int, width: Int,
                                               rowDot: UnsafePointer<T>, dropout: UnsafePointer<T>?, dropoutStride: Int) {
        if T.self == Float.self {
            ck_attention_score_gradient_f32(gradient.reinterpreted(as: Float.self), weights.reinterpreted(as: Float.self), rows, width,
                                            rowDot.reinterpreted(as: Float.self), dropout?.reinterpreted(as: Float.self), dropoutStride)
            return
        }
        for r in 0..<rows {
            let pr = weights + r * width, dr = gradient + r * width, d = rowDot[r]
            if let dropout {
                let m = dropout + r * dropoutStride
                for c in 0..<width { dr[c] = pr[c] * (dr[c] * m[c] - d) }
            } else {
                for c in 0..<width { dr[c] = pr[c] * (dr[c] - d) }
            }
        }
    }

    /// The output `[batch, tq, ev]` and per-row `log Σ exp(scores)` `[batch, tq]` (−∞ for a row whose keys are all
    /// masked; its output row is 0, as PyTorch gives).
    static func forward<T: TensorScalar & SIMDScalar>(_ layout: AttentionLayout, _ x: AttentionOperands<T>, route: AttentionRoute,
                                                      output: UnsafeMutablePointer<T>, logSumExp: UnsafeMutablePointer<T>) {
        let (qb, kb) = route.blocks(tq: layout.tq, tk: layout.tk)
        let queryBlocks = (layout.tq + qb - 1) / qb
        let work = layout.batch * layout.tq * layout.tk * (layout.e + layout.ev)
        Parallel.forEachPart(layout.batch * queryBlocks, work: work) { items in
            withUnsafeTemporaryAllocation(of: T.self, capacity: qb * kb + layout.e * kb + 3 * qb) { scratch in
                let scores = scratch.baseAddress!, keysT = scores + qb * kb, rowMax = keysT + layout.e * kb
                let rowSum = rowMax + qb, correction = rowSum + qb
                for item in items {
                    let b = item / queryBlocks, i0 = item % queryBlocks * qb
                    forwardBlock(layout, x, problem: b, firstQuery: i0, rows: Swift.min(qb, layout.tq - i0), keyBlock: kb,
                                 scores: scores, keysT: keysT, rowMax: rowMax, rowSum: rowSum, correction: correction,
                                 output: output, logSumExp: logSumExp)
                }
            }
        }
    }

    /// Queries `i0 ..< i0 + n` of problem `b`, over key blocks of `kb` (`keysT` holds `e × kb` scratch for a block's kᵀ).
    @inline(__always)
    private static func forwardBlock<T: TensorScalar & SIMDScalar>(
        _ layout: AttentionLayout, _ x: AttentionOperands<T>, problem b: Int, firstQuery i0: Int, rows n: Int, keyBlock kb: Int,
        scores: UnsafeMutablePointer<T>, keysT: UnsafeMutablePointer<T>, rowMax: UnsafeMutablePointer<T>,
        rowSum: UnsafeMutablePointer<T>, correction: UnsafeMutablePointer<T>,
        output: UnsafeMutablePointer<T>, logSumExp: UnsafeMutablePointer<T>
    ) {
        let (tq, tk, e, ev) = (layout.tq, layout.tk, layout.e, layout.ev)
        let q = x.query + layout.queryOffsets[b] + i0 * e, k = x.key + layout.keyOffsets[b], v = x.value + layout.valueOffsets[b]
        let o = output + (b * tq + i0) * ev
        rowMax.update(repeating: -T.infinity, count: n)
        rowSum.update(repeating: 0, count: n)
        let keyEnd = layout.isCausal ? Swift.min(tk, i0 + n) : tk
        // The first key block writes the output rows (β = 0) and needs no correction: nothing came before it.
        if keyEnd == 0 { o.update(repeating: 0, count: n * ev) }
        var j0 = 0
        while j0 < keyEnd {
            let w = Swift.min(kb, keyEnd - j0)
            transposeMatrix(rows: w, columns: e, k + j0 * e, stride: e, into: keysT, stride: w)
            gemm(transposeA: false, transposeB: false, m: n, n: w, k: e, alpha: T(layout.scale), q, lda: e, UnsafePointer(keysT), ldb: w,
                 beta: 0, scores, ldc: w)
            if x.mask != nil || (layout.isCausal && j0 + w - 1 > i0) {
                for r in 0..<n { mask(scores + r * w, layout, x, problem: b, query: i0 + r, firstKey: j0, width: w) }
            }
            softmaxStep(scores, rows: n, width: w, rowMax: rowMax, rowSum: rowSum, correction: correction)
            if j0 > 0 { scaleRows(o, rows: n, width: ev, by: correction) }
            if let dropout = x.dropout {
                for r in 0..<n {
                    let row = scores + r * w, d = dropout + (b * tq + i0 + r) * tk + j0
                    for c in 0..<w { row[c] *= d[c] }
                }
            }
            if ev > 0 {
                gemm(transposeA: false, transposeB: false, m: n, n: ev, k: w, alpha: 1, UnsafePointer(scores), lda: w,
                     v + j0 * ev, ldb: ev, beta: j0 == 0 ? 0 : 1, o, ldc: ev)
            }
            j0 += w
        }
        // The rows' logarithms in one vectorised pass (into `correction`, no longer needed), then their factors 1/Σ
        // (1 for a row whose keys are all hidden: its weights were 0).
        T.vectorizableLog(rowSum, into: correction, count: n)
        let lse = logSumExp + b * tq + i0
        for r in 0..<n {
            let visible = rowSum[r] > 0
            lse[r] = visible ? rowMax[r] + correction[r] : -T.infinity
            correction[r] = visible ? 1 / rowSum[r] : 1
        }
        scaleRows(o, rows: n, width: ev, by: correction)
    }

    /// The gradients of the forward's inputs for output gradient `g` `[batch, tq, ev]`, recomputing the weights
    /// from q, k and `logSumExp`, into each non-nil destination (`[batch, tq, e]`, `[batch, tk, e]`, `[batch, tk, ev]`),
    /// whose contents are overwritten.
    static func backward<T: TensorScalar & SIMDScalar>(
        _ layout: AttentionLayout, _ x: AttentionOperands<T>, route: AttentionRoute,
        output: UnsafePointer<T>, logSumExp: UnsafePointer<T>, gradient g: UnsafePointer<T>,
        queryGradient: UnsafeMutablePointer<T>?, keyGradient: UnsafeMutablePointer<T>?, valueGradient: UnsafeMutablePointer<T>?
    ) {
        let (tq, tk, e, ev) = (layout.tq, layout.tk, layout.e, layout.ev)
        let (qb, kb) = route.blocks(tq: tq, tk: tk)
        let wantsScores = queryGradient != nil || keyGradient != nil
        let work = layout.batch * tq * tk * (2 * e + 2 * ev)
        let blockScratch = qb * kb, scratchCount = 3 * blockScratch + tk * (e + ev) + tq
        // Keys' and values' gradients add up over every query block, so a problem stays on one thread.
        Parallel.forEachPart(layout.batch, work: work) { problems in
            withUnsafeTemporaryAllocation(of: T.self, capacity: scratchCount) { scratch in
                let p = scratch.baseAddress!, dp = p + blockScratch, dropped = dp + blockScratch
                let keysT = dropped + blockScratch, valuesT = keysT + tk * e, rowDot = valuesT + tk * ev
                for b in problems {
                    let q = x.query + layout.queryOffsets[b], k = x.key + layout.keyOffsets[b], v = x.value + layout.valueOffsets[b]
                    let gb = g + b * tq * ev, lse = logSumExp + b * tq
                    // The products below add into the problem's gradient rows.
                    queryGradient?.advanced(by: b * tq * e).update(repeating: 0, count: tq * e)
                    keyGradient?.advanced(by: b * tk * e).update(repeating: 0, count: tk * e)
                    valueGradient?.advanced(by: b * tk * ev).update(repeating: 0, count: tk * ev)
                    transposeMatrix(rows: tk, columns: e, k, stride: e, into: keysT, stride: tk)
                    if wantsScores {
                        transposeMatrix(rows: tk, columns: ev, v, stride: ev, into: valuesT, stride: tk)
                        // D_i = Σ_c g_ic·o_ic = Σ_j P_ij·∂P_ij: the softmax's row term, from the output instead of the weights.
                        let ob = output + b * tq * ev
                        for i in 0..<tq { rowDot[i] = ReductionKernels.laneDot(gb + i * ev, ob + i * ev, ev) }
                    }
                    var i0 = 0
                    while i0 < tq {
                        let n = Swift.min(qb, tq - i0)
                        let keyEnd = layout.isCausal ? Swift.min(tk, i0 + n) : tk
                        var j0 = 0
                        while j0 < keyEnd {
                            let w = Swift.min(kb, keyEnd - j0)
                            gemm(transposeA: false, transposeB: false, m: n, n: w, k: e, alpha: T(layout.scale), q + i0 * e, lda: e,
                                 keysT + j0, ldb: tk, beta: 0, p, ldc: w)
                            if x.mask != nil || (layout.isCausal && j0 + w - 1 > i0) {
                                for r in 0..<n { mask(p + r * w, layout, x, problem: b, query: i0 + r, firstKey: j0, width: w) }
                            }
                            exponentiateRows(p, rows: n, width: w, minus: lse + i0)
                            var weights = UnsafePointer(p)
                            if let dropout = x.dropout {
                                for r in 0..<n {
                                    let d = dropout + (b * tq + i0 + r) * tk + j0, src = p + r * w, dst = dropped + r * w
                                    for c in 0..<w { dst[c] = src[c] * d[c] }
                                }
                                weights = UnsafePointer(dropped)
                            }
                            if let gv = valueGradient, ev > 0 {
                                gemm(transposeA: true, transposeB: false, m: w, n: ev, k: n, alpha: 1, weights, lda: w,
                                     gb + i0 * ev, ldb: ev, beta: 1, gv + (b * tk + j0) * ev, ldc: ev)
                            }
                            if wantsScores {
                                if ev > 0 {
                                    gemm(transposeA: false, transposeB: false, m: n, n: w, k: ev, alpha: 1, gb + i0 * ev, lda: ev,
                                         valuesT + j0, ldb: tk, beta: 0, dp, ldc: w)
                                } else {
                                    dp.update(repeating: 0, count: n * w)
                                }
                                // ∂S = P ∘ (∂P − D), with ∂P the weights' gradient before dropout.
                                scoreGradient(dp, weights: p, rows: n, width: w, rowDot: rowDot + i0,
                                              dropout: x.dropout.map { $0 + (b * tq + i0) * tk + j0 }, dropoutStride: tk)
                                if let gq = queryGradient {
                                    gemm(transposeA: false, transposeB: false, m: n, n: e, k: w, alpha: T(layout.scale), UnsafePointer(dp),
                                         lda: w, k + j0 * e, ldb: e, beta: 1, gq + (b * tq + i0) * e, ldc: e)
                                }
                                if let gk = keyGradient {
                                    gemm(transposeA: true, transposeB: false, m: w, n: e, k: n, alpha: T(layout.scale),
                                         UnsafePointer(dp), lda: w, q + i0 * e, ldb: e, beta: 1, gk + (b * tk + j0) * e, ldc: e)
                                }
                            }
                            j0 += w
                        }
                        i0 += n
                    }
                }
            }
        }
    }
}
