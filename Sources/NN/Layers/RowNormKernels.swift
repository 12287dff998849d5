import AutoGrad
import CKernels

// Raw-pointer loops behind the fused layer and RMS normalisation (see `RowNormalization`). The input is seen as
// `rows` contiguous rows of `d` elements (the normalised trailing dimensions flattened); every row is normalised
// on its own, so the forward and the input gradient split over threads by rows, and the weight and bias gradients
// (sums over rows) split by columns: every part writes only what it owns, and the sums are in a fixed order.
// Double rows run the loops below, whose sums accumulate in Double eight lanes at a time. Float rows run CKernels'
// row-norm kernels at the CPU's level, all in Float with FMA (statistics by the corrected two-pass algorithm, the
// parameter gradients summed in Float over blocks of rows and in Double across them; see ckernels.h).

/// `Σ f(p[i])` for `i` in `0..<n`, in Double, eight lanes at a time; `f` maps eight widened elements.
@inline(__always)
func rowSum<S: BatchNormScalar>(_ p: UnsafePointer<S>, _ n: Int, _ f: (SIMD8<Double>) -> SIMD8<Double>) -> Double {
    var acc = SIMD8<Double>()
    var i = 0
    while i + 8 <= n {
        acc += f(S.widened(p + i))
        i += 8
    }
    var total = acc.sum()
    if i < n {
        var tail = SIMD8<Double>()
        for k in 0..<(n - i) { tail[k] = p[i + k].double }
        let mapped = f(tail)
        for k in 0..<(n - i) { total += mapped[k] }
    }
    return total
}

/// `Σ f(p[i], q[i])` over a row, in Double, eight lanes at a time.
@inline(__always)
func rowSum<S: BatchNormScalar>(_ p: UnsafePointer<S>, _ q: UnsafePointer<S>, _ n: Int,
                                        _ f: (SIMD8<Double>, SIMD8<Double>) -> SIMD8<Double>) -> Double {
    var acc = SIMD8<Double>()
    var i = 0
    while i + 8 <= n {
        acc += f(S.widened(p + i), S.widened(q + i))
        i += 8
    }
    var total = acc.sum()
    if i < n {
        var a = SIMD8<Double>(), b = SIMD8<Double>()
        for k in 0..<(n - i) {
            a[k] = p[i + k].double
            b[k] = q[i + k].double
        }
        let mapped = f(a, b)
        for k in 0..<(n - i) { total += mapped[k] }
    }
    return total
}

/// Where the rows lie and how they are normalised: `rows` rows of `d` elements, centred (layer norm) or not (RMS norm).
struct RowLayout {
    let rows: Int
    let d: Int
    /// Whether the row mean is subtracted (LayerNorm) or taken as 0 (RMSNorm).
    let centered: Bool
}

enum RowNormKernels {
    /// Normalises every row: `μ = Σx/d` (0 when not centred), `invstd = 1/√(Σ(x − μ)²/d + ε)`,
    /// `y = (x − μ)·invstd·w + b` (without `w`, `b` when nil): for Double rows all in Double; for Float rows in Float
    /// (CKernels' `ck_row_norm_f32`).
    /// Writes each row's `μ` and `invstd` to `mean` and `inverseStd`.
    static func forward<S: BatchNormScalar>(_ x: UnsafePointer<S>, into y: UnsafeMutablePointer<S>, _ layout: RowLayout, eps: Double,
                                            weight: UnsafePointer<S>?, bias: UnsafePointer<S>?,
                                            mean: UnsafeMutablePointer<Double>, inverseStd: UnsafeMutablePointer<Double>) {
        let d = layout.d, scale = 1 / Double(d)
        if S.self == Float.self {
            Parallel.forEachPart(layout.rows, work: layout.rows * d) { part in
                ck_row_norm_f32(floats(x) + part.lowerBound * d, floats(y) + part.lowerBound * d, part.count, d, eps,
                                weight.map(floats), bias.map(floats), layout.centered ? 1 : 0,
                                mean + part.lowerBound, inverseStd + part.lowerBound)
            }
            return
        }
        Parallel.forEachPart(layout.rows, work: layout.rows * d) { part in
            for r in part {
                let row = x + r * d, out = y + r * d
                let mu = layout.centered ? rowSum(row, d) { $0 } * scale : 0
                let shift = SIMD8<Double>(repeating: mu)
                let meanSquare = rowSum(row, d) { v in let c = v - shift; return c * c } * scale
                let invstd = 1 / (meanSquare + eps).squareRoot()
                mean[r] = mu
                inverseStd[r] = invstd
                switch (weight, bias) {
                case let (w?, b?): for i in 0..<d { out[i] = S((row[i].double - mu) * invstd * w[i].double + b[i].double) }
                case let (w?, nil): for i in 0..<d { out[i] = S((row[i].double - mu) * invstd * w[i].double) }
                case let (nil, b?): for i in 0..<d { out[i] = S((row[i].double - mu) * invstd + b[i].double) }
                case (nil, nil): for i in 0..<d { out[i] = S((row[i].double - mu) * invstd) }
                }
            }
        }
    }

    /// The input gradient, row by row: with `gw = g·w` (`g` without a weight) and `x̂ = (x − μ)·invstd`,
    /// `∂x = invstd·(gw − mean(gw) − x̂·mean(gw·x̂))`, the `mean(gw)` term only when centred.
    ///
    /// For Float rows, when either parameter gradient is wanted (its buffer not nil), the same pass over `g` and `x`
    /// sums them too, bit for bit as ``parameterGradients(_:_:_:mean:inverseStd:weightGradient:biasGradient:)``
    /// would, and the result is true; otherwise it is false and the buffers are untouched.
    @discardableResult
    static func inputGradient<S: BatchNormScalar>(_ g: UnsafePointer<S>, _ x: UnsafePointer<S>, weight: UnsafePointer<S>?,
                                                  into gx: UnsafeMutablePointer<S>, _ layout: RowLayout,
                                                  mean: UnsafePointer<Double>, inverseStd: UnsafePointer<Double>,
                                                  weightGradient: UnsafeMutablePointer<Double>? = nil,
                                                  biasGradient: UnsafeMutablePointer<Double>? = nil) -> Bool {
        let d = layout.d, scale = 1 / Double(d)
        if S.self == Float.self {
            let summing = weightGradient != nil || biasGradient != nil
            // Threads take whole blocks of the parameter sums (CKernels' CK_ROW_NORM_BLOCK_ROWS rows), so every
            // block's partial sums are the same however many threads there are.
            let blockRows = Int(CK_ROW_NORM_BLOCK_ROWS), blocks = (layout.rows + blockRows - 1) / blockRows
            var blockSums = [Float](repeating: 0, count: summing ? blocks * 2 * d : 0)
            blockSums.withUnsafeMutableBufferPointer { blockSums in
                Parallel.forEachPart(blocks, work: 2 * layout.rows * d) { part in
                    let firstRow = part.lowerBound * blockRows, first = firstRow * d
                    let rows = Swift.min(part.upperBound * blockRows, layout.rows) - firstRow
                    ck_row_norm_input_gradient_f32(floats(g) + first, floats(x) + first, weight.map(floats), floats(gx) + first,
                                                   rows, d, layout.centered ? 1 : 0, mean + firstRow, inverseStd + firstRow,
                                                   summing ? blockSums.baseAddress! + part.lowerBound * 2 * d : nil)
                }
            }
            guard summing else { return false }
            // The blocks added in Double, in order, as ck_row_norm_parameter_gradients_f32 adds them.
            for j in 0..<d {
                var weightTotal = 0.0, biasTotal = 0.0
                for block in 0..<blocks {
                    weightTotal += Double(blockSums[block * 2 * d + j])
                    biasTotal += Double(blockSums[block * 2 * d + d + j])
                }
                weightGradient?[j] = weightTotal
                biasGradient?[j] = biasTotal
            }
            return true
        }
        Parallel.forEachPart(layout.rows, work: 2 * layout.rows * d) { part in
            for r in part {
                let gRow = g + r * d, xRow = x + r * d, out = gx + r * d
                let mu = mean[r], invstd = inverseStd[r]
                let shift = SIMD8<Double>(repeating: mu), s = SIMD8<Double>(repeating: invstd)
                var meanGW = 0.0, meanGWX = 0.0
                if let w = weight {
                    // Σ g·w and Σ g·w·x̂ with the weight as a third stream: fold it in per element.
                    for i in 0..<d {
                        let gw = gRow[i].double * w[i].double
                        meanGW += gw
                        meanGWX += gw * (xRow[i].double - mu)
                    }
                    meanGW *= scale
                    meanGWX *= scale * invstd
                } else {
                    meanGW = layout.centered ? rowSum(gRow, d) { $0 } * scale : 0
                    meanGWX = rowSum(gRow, xRow, d) { g, x in g * ((x - shift) * s) } * scale
                }
                if !layout.centered { meanGW = 0 }
                for i in 0..<d {
                    let gw = weight.map { gRow[i].double * $0[i].double } ?? gRow[i].double
                    let xHat = (xRow[i].double - mu) * invstd
                    out[i] = S(invstd * (gw - meanGW - xHat * meanGWX))
                }
            }
        }
        return false
    }

    /// The weight and bias gradients, `∂w = Σ_rows g·x̂` and `∂b = Σ_rows g`, each `d` long, in Double; either may
    /// be skipped. Split over threads by columns, so each total is summed over the rows in order.
    static func parameterGradients<S: BatchNormScalar>(_ g: UnsafePointer<S>, _ x: UnsafePointer<S>, _ layout: RowLayout,
                                                       mean: UnsafePointer<Double>, inverseStd: UnsafePointer<Double>,
                                                       weightGradient: UnsafeMutablePointer<Double>?,
                                                       biasGradient: UnsafeMutablePointer<Double>?) {
        let d = layout.d
        if S.self == Float.self {
            Parallel.forEachPart(d, work: 2 * layout.rows * d) { columns in
                ck_row_norm_parameter_gradients_f32(floats(g), floats(x), layout.rows, d, mean, inverseStd, columns.lowerBound,
                                                    columns.count, weightGradient, biasGradient)
            }
            return
        }
        Parallel.forEachPart(d, work: 2 * layout.rows * d) { columns in
            for j in columns {
                weightGradient?[j] = 0
                biasGradient?[j] = 0
            }
            for r in 0..<layout.rows {
                let gRow = g + r * d, xRow = x + r * d
                let mu = mean[r], invstd = inverseStd[r]
                if let gw = weightGradient {
                    for j in columns { gw[j] += gRow[j].double * ((xRow[j].double - mu) * invstd) }
                }
                if let gb = biasGradient {
                    for j in columns { gb[j] += gRow[j].double }
                }
            }
        }
    }
}
