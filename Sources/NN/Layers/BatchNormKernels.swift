import AutoGrad
import Dispatch

// Raw-pointer loops behind the fused batch normalisation (see `BatchNormTraining`). Each runs over a range
// of channels of a contiguous `[N, C, *]` tensor, so large tensors split over threads by channel and every
// part writes only its own channels. Per-channel sums accumulate in Double with independent partial sums,
// which keeps them accurate for Float inputs and lets the loops pipeline.

/// The element types the kernels run on, with exact conversions to and from Double.
protocol BatchNormScalar: TensorScalar {
    init(_ value: Double)
    var double: Double { get }
}

extension Float: BatchNormScalar {
    var double: Double { Double(self) }
}

extension Double: BatchNormScalar {
    var double: Double { self }
}

/// Where channel `c`'s elements lie in a contiguous `[N, C, *]` tensor: `batch` runs of `inner` elements
/// (the product of the spatial sizes, 1 for `[N, C]`), run `n` starting at `(n·C + c)·inner`.
struct ChannelLayout {
    /// `N`.
    let batch: Int
    /// `C`.
    let channels: Int
    /// The elements of one channel in one sample: the product of the dimensions after the channel one.
    let inner: Int

    init(shape: [Int]) {
        precondition(shape.count >= 2, "BatchNorm: expected an input of shape [N, C, *], got \(shape)")
        batch = shape[0]
        channels = shape[1]
        inner = shape.dropFirst(2).reduce(1, *)
    }

    /// `M = N·inner`: the values each channel's statistics are taken over.
    var perChannel: Int { batch * inner }

    /// Calls `body` with the start of channel `c`'s run in sample `n` for every sample, over `channels`.
    /// With one element per run (`[N, C]`) the channel loop is innermost, so it walks memory in order.
    @inline(__always)
    func forEachRun(_ channels: Range<Int>, _ body: (_ channel: Int, _ offset: Int) -> Void) {
        for n in 0..<batch {
            for c in channels { body(c, (n * self.channels + c) * inner) }
        }
    }

    /// Runs `body` over contiguous parts of the channels, on up to ``BLAS/threadCount`` threads when the
    /// tensor has at least `minimumParallelWork` elements (smaller ones never pay for thread hand-off).
    func forEachChannelPart(_ body: (Range<Int>) -> Void) {
        let threads = Swift.min(BLAS.threadCount, channels)
        guard threads > 1, batch * channels * inner >= ChannelLayout.minimumParallelWork else {
            body(0..<channels)
            return
        }
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            body((channels * t / threads)..<(channels * (t + 1) / threads))
        }
    }

    /// Elements a tensor must have before its channels are split over threads (as AutoGrad's own loops).
    static let minimumParallelWork = 1 << 16
}

/// `Σ p[i]` over `count` elements, in Double with four partial sums.
@inline(__always)
private func runSum<S: BatchNormScalar>(_ p: UnsafePointer<S>, _ count: Int) -> Double {
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    var i = 0
    while i + 4 <= count {
        s0 += p[i].double; s1 += p[i + 1].double; s2 += p[i + 2].double; s3 += p[i + 3].double
        i += 4
    }
    while i < count { s0 += p[i].double; i += 1 }
    return (s0 + s1) + (s2 + s3)
}

/// `Σ (p[i] − m)²` over `count` elements, in Double with four partial sums.
@inline(__always)
private func runSquaredDeviation<S: BatchNormScalar>(_ p: UnsafePointer<S>, _ count: Int, _ m: Double) -> Double {
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    var i = 0
    while i + 4 <= count {
        let d0 = p[i].double - m, d1 = p[i + 1].double - m, d2 = p[i + 2].double - m, d3 = p[i + 3].double - m
        s0 += d0 * d0; s1 += d1 * d1; s2 += d2 * d2; s3 += d3 * d3
        i += 4
    }
    while i < count { let d = p[i].double - m; s0 += d * d; i += 1 }
    return (s0 + s1) + (s2 + s3)
}

/// `(Σ g[i], Σ g[i]·(x[i] − m))` over `count` elements, in Double with two partial sums each.
@inline(__always)
private func runGradientSums<S: BatchNormScalar>(_ g: UnsafePointer<S>, _ x: UnsafePointer<S>, _ count: Int,
                                                 _ m: Double) -> (Double, Double) {
    var a0 = 0.0, a1 = 0.0, b0 = 0.0, b1 = 0.0
    var i = 0
    while i + 2 <= count {
        let g0 = g[i].double, g1 = g[i + 1].double
        a0 += g0; a1 += g1
        b0 += g0 * (x[i].double - m); b1 += g1 * (x[i + 1].double - m)
        i += 2
    }
    if i < count { let g0 = g[i].double; a0 += g0; b0 += g0 * (x[i].double - m) }
    return (a0 + a1, b0 + b1)
}

enum BatchNormKernels {
    /// The mean and biased variance (`Σ (x − μ)² / M`) of every channel, by two passes in Double.
    static func statistics<S: BatchNormScalar>(_ x: UnsafePointer<S>, _ layout: ChannelLayout)
        -> (mean: [Double], variance: [Double]) {
        let count = Double(layout.perChannel), l = layout.inner
        var mean = [Double](repeating: 0, count: layout.channels)
        var variance = mean
        mean.withUnsafeMutableBufferPointer { meanBuffer in
            variance.withUnsafeMutableBufferPointer { varianceBuffer in
                let mean = meanBuffer.baseAddress!, variance = varianceBuffer.baseAddress!
                layout.forEachChannelPart { channels in
                    if l == 1 {
                        layout.forEachRun(channels) { c, i in mean[c] += x[i].double }
                        for c in channels { mean[c] /= count }
                        layout.forEachRun(channels) { c, i in let d = x[i].double - mean[c]; variance[c] += d * d }
                    } else {
                        layout.forEachRun(channels) { c, i in mean[c] += runSum(x + i, l) }
                        for c in channels { mean[c] /= count }
                        layout.forEachRun(channels) { c, i in variance[c] += runSquaredDeviation(x + i, l, mean[c]) }
                    }
                    for c in channels { variance[c] /= count }
                }
            }
        }
        return (mean, variance)
    }

    /// `y ← (y − mean_c)·scale_c + shift_c` in place, for every element of channel `c`.
    static func normalize<S: BatchNormScalar>(_ y: UnsafeMutablePointer<S>, _ layout: ChannelLayout,
                                              mean: [Double], scale: [Double], shift: [Double]) {
        let m = mean.map(S.init), s = scale.map(S.init), b = shift.map(S.init), l = layout.inner
        m.withUnsafeBufferPointer { m in s.withUnsafeBufferPointer { s in b.withUnsafeBufferPointer { b in
            layout.forEachChannelPart { channels in
                layout.forEachRun(channels) { c, start in
                    let mc = m[c], sc = s[c], bc = b[c], run = y + start
                    for i in 0..<l { run[i] = (run[i] - mc) * sc + bc }
                }
            }
        } } }
    }

    /// Per channel, `Σ g` and `Σ g·(x − mean_c)`, in Double.
    static func gradientSums<S: BatchNormScalar>(_ g: UnsafePointer<S>, _ x: UnsafePointer<S>, _ layout: ChannelLayout,
                                                 mean: [Double]) -> (sumG: [Double], sumGCentered: [Double]) {
        let l = layout.inner
        var sumG = [Double](repeating: 0, count: layout.channels)
        var sumGCentered = sumG
        sumG.withUnsafeMutableBufferPointer { aBuffer in
            sumGCentered.withUnsafeMutableBufferPointer { bBuffer in
                let a = aBuffer.baseAddress!, b = bBuffer.baseAddress!
                layout.forEachChannelPart { channels in
                    layout.forEachRun(channels) { c, i in
                        let (sg, sgx) = runGradientSums(g + i, x + i, l, mean[c])
                        a[c] += sg
                        b[c] += sgx
                    }
                }
            }
        }
        return (sumG, sumGCentered)
    }

    /// `gx ← gx·gScale_c + (x − mean_c)·xScale_c + offset_c` in place (`gx` holds the output gradient on entry).
    static func inputGradient<S: BatchNormScalar>(_ gx: UnsafeMutablePointer<S>, _ x: UnsafePointer<S>,
                                                  _ layout: ChannelLayout, mean: [Double], gScale: [Double],
                                                  xScale: [Double], offset: [Double]) {
        let m = mean.map(S.init), a = gScale.map(S.init), d = xScale.map(S.init), e = offset.map(S.init)
        let l = layout.inner
        m.withUnsafeBufferPointer { m in a.withUnsafeBufferPointer { a in
            d.withUnsafeBufferPointer { d in e.withUnsafeBufferPointer { e in
                layout.forEachChannelPart { channels in
                    layout.forEachRun(channels) { c, start in
                        let mc = m[c], ac = a[c], dc = d[c], ec = e[c], gRun = gx + start, xRun = x + start
                        for i in 0..<l { gRun[i] = gRun[i] * ac + (xRun[i] - mc) * dc + ec }
                    }
                }
            } }
        } }
    }
}
