import AutoGrad

// Raw-pointer loops behind the fused group normalisation (see `GroupNormalization`). An input `[N, C, *]` with `G`
// groups is `N·G` contiguous rows (one per sample and group) of `C/G` channels, each a contiguous segment of `S`
// spatial elements; statistics are per row, the affine parameters per channel (per segment). Sums accumulate in
// Double with the row kernels' `rowSum`. The forward and the input gradient split over threads by rows, the
// parameter gradients by channels, each summing over the samples in order, so results do not depend on threads.

/// Where the rows and channel segments of a group-normalised input lie.
struct GroupLayout {
    /// Samples `N`, groups `G`, channels per group `C/G`, spatial elements per channel `S`.
    let samples: Int, groups: Int, channelsPerGroup: Int, spatial: Int
    /// The elements of one row, `C/G · S`.
    var rowLength: Int { channelsPerGroup * spatial }
    var rows: Int { samples * groups }
    var channels: Int { groups * channelsPerGroup }
}

enum GroupNormKernels {
    /// Normalises every row: `μ`, `invstd = 1/√(σ² + ε)` in Double, then per channel `c` of the row
    /// `y = (x − μ)·invstd·w_c + b_c` (without `w`, `b` when nil). Writes each row's `μ` and `invstd`.
    static func forward<S: BatchNormScalar>(_ x: UnsafePointer<S>, into y: UnsafeMutablePointer<S>, _ layout: GroupLayout, eps: Double,
                                            weight: UnsafePointer<S>?, bias: UnsafePointer<S>?,
                                            mean: UnsafeMutablePointer<Double>, inverseStd: UnsafeMutablePointer<Double>) {
        let d = layout.rowLength, scale = 1 / Double(d)
        Parallel.forEachPart(layout.rows, work: layout.rows * d) { part in
            for r in part {
                let row = x + r * d, out = y + r * d
                let mu = rowSum(row, d) { $0 } * scale
                let shift = SIMD8<Double>(repeating: mu)
                let invstd = 1 / (rowSum(row, d) { v in let c = v - shift; return c * c } * scale + eps).squareRoot()
                mean[r] = mu
                inverseStd[r] = invstd
                let firstChannel = (r % layout.groups) * layout.channelsPerGroup
                for k in 0..<layout.channelsPerGroup {
                    // y = x·a + b' with the channel's factor and offset folded once.
                    let c = firstChannel + k
                    let a = invstd * (weight?[c].double ?? 1)
                    let offset = (bias?[c].double ?? 0) - mu * a
                    let segment = row + k * layout.spatial, result = out + k * layout.spatial
                    for s in 0..<layout.spatial { result[s] = S(segment[s].double * a + offset) }
                }
            }
        }
    }

    /// The input gradient, row by row: with `gw = g·w_c` and `x̂ = (x − μ)·invstd`,
    /// `∂x = invstd·(gw − mean(gw) − x̂·mean(gw·x̂))`, the means over the row.
    static func inputGradient<S: BatchNormScalar>(_ g: UnsafePointer<S>, _ x: UnsafePointer<S>, weight: UnsafePointer<S>?,
                                                  into gx: UnsafeMutablePointer<S>, _ layout: GroupLayout,
                                                  mean: UnsafePointer<Double>, inverseStd: UnsafePointer<Double>) {
        let d = layout.rowLength, scale = 1 / Double(d), n = layout.spatial
        Parallel.forEachPart(layout.rows, work: 2 * layout.rows * d) { part in
            for r in part {
                let gRow = g + r * d, xRow = x + r * d, out = gx + r * d
                let mu = mean[r], invstd = inverseStd[r], shift = SIMD8<Double>(repeating: mu)
                let firstChannel = (r % layout.groups) * layout.channelsPerGroup
                // Σ g·w and Σ g·w·(x − μ): the weight is constant over a channel's segment, so it factors out of each.
                var sumGW = 0.0, sumGWX = 0.0
                for k in 0..<layout.channelsPerGroup {
                    let w = weight?[firstChannel + k].double ?? 1
                    sumGW += w * rowSum(gRow + k * n, n) { $0 }
                    sumGWX += w * rowSum(gRow + k * n, xRow + k * n, n) { g, x in g * (x - shift) }
                }
                let meanGW = sumGW * scale, meanGWX = sumGWX * scale * invstd
                for k in 0..<layout.channelsPerGroup {
                    let w = weight?[firstChannel + k].double ?? 1
                    let gs = gRow + k * n, xs = xRow + k * n, o = out + k * n
                    for s in 0..<n {
                        let xHat = (xs[s].double - mu) * invstd
                        o[s] = S(invstd * (gs[s].double * w - meanGW - xHat * meanGWX))
                    }
                }
            }
        }
    }

    /// The weight and bias gradients per channel, `∂w_c = Σ_{n,s} g·x̂` and `∂b_c = Σ_{n,s} g`, in Double; either
    /// may be skipped. Split over threads by channels, each summed over the samples in order.
    static func parameterGradients<S: BatchNormScalar>(_ g: UnsafePointer<S>, _ x: UnsafePointer<S>, _ layout: GroupLayout,
                                                       mean: UnsafePointer<Double>, inverseStd: UnsafePointer<Double>,
                                                       weightGradient: UnsafeMutablePointer<Double>?,
                                                       biasGradient: UnsafeMutablePointer<Double>?) {
        let n = layout.spatial, rowLength = layout.rowLength
        Parallel.forEachPart(layout.channels, work: 2 * layout.samples * layout.channels * n) { channels in
            for c in channels {
                let group = c / layout.channelsPerGroup, k = c % layout.channelsPerGroup
                var gw = 0.0, gb = 0.0
                for sample in 0..<layout.samples {
                    let r = sample * layout.groups + group
                    let offset = r * rowLength + k * n
                    if biasGradient != nil { gb += rowSum(g + offset, n) { $0 } }
                    if weightGradient != nil {
                        let shift = SIMD8<Double>(repeating: mean[r])
                        gw += inverseStd[r] * rowSum(g + offset, x + offset, n) { g, x in g * (x - shift) }
                    }
                }
                weightGradient?[c] = gw
                biasGradient?[c] = gb
            }
        }
    }
}
