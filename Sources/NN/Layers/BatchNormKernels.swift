import AutoGrad
import CKernels

// Raw-pointer loops behind the fused batch normalisation (see `BatchNormTraining`). Each runs over a range
// of channels of a contiguous `[N, C, *]` tensor, so large tensors split over threads by channel and every
// part writes only its own channels. Per-channel sums accumulate in Double, eight lanes at a time (Float
// elements widened on load), which keeps them accurate for Float inputs and lets the loops vectorise; for
// Float they run in CKernels (`ck_channel_moments_f32`, at the active instruction-set level): on AVX-512,
// Swift's SSE2 code ran at half its speed.

/// The element types the kernels run on, with exact conversions to and from Double.
protocol BatchNormScalar: TensorScalar {
    init(_ value: Double)
    var double: Double { get }
    /// Eight consecutive elements starting at `p`, widened to Double.
    static func widened(_ p: UnsafePointer<Self>) -> SIMD8<Double>
}

extension Float: BatchNormScalar {
    var double: Double { Double(self) }
    @inline(__always)
    static func widened(_ p: UnsafePointer<Float>) -> SIMD8<Double> {
        SIMD8<Double>(UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self))
    }
}

extension Double: BatchNormScalar {
    var double: Double { self }
    @inline(__always)
    static func widened(_ p: UnsafePointer<Double>) -> SIMD8<Double> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Double>.self)
    }
}

/// The first `count` (< 8) elements at `p` widened to Double, the other lanes 0.
@inline(__always)
private func widenedPartial<S: BatchNormScalar>(_ p: UnsafePointer<S>, _ count: Int) -> SIMD8<Double> {
    var v = SIMD8<Double>()
    for k in 0..<count { v[k] = p[k].double }
    return v
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

    /// Visits `channels` of `base`: with one element per run (`[N, C]`), calls `rowBody` with the start of
    /// each sample's row (to loop over the channels, in memory order); otherwise calls `runBody` with the start
    /// of every run of those channels and its channel.
    @inline(__always)
    func forEachRun<S>(of base: UnsafeMutablePointer<S>, _ channels: Range<Int>, rowBody: (UnsafeMutablePointer<S>) -> Void,
                       runBody: (UnsafeMutablePointer<S>, _ channel: Int) -> Void) {
        for n in 0..<batch {
            if inner == 1 {
                rowBody(base + n * self.channels)
            } else {
                for c in channels { runBody(base + (n * self.channels + c) * inner, c) }
            }
        }
    }

    /// Runs `body` over contiguous parts of the channels, split over threads by ``Parallel`` when the
    /// tensor is large enough to pay for the hand-off.
    func forEachChannelPart(_ body: (Range<Int>) -> Void) {
        Parallel.forEachPart(channels, work: batch * channels * inner, body)
    }
}

enum BatchNormKernels {
    /// The mean and biased variance (`Σ (x − μ)² / M`) of every channel, in one pass in Double.
    ///
    /// The pass sums `d = x − K` and `d²` with `K` the channel's first element, so `μ = K + Σd / M` and
    /// `σ² = (Σd² − (Σd)²/M) / M` cancel only as much as `(μ − K)²` exceeds `σ²`, a few binary digits of Double's
    /// 53 for any `K` drawn from the data (a second pass over the centred values cost 1.2% of the DCGAN step).
    static func statistics<S: BatchNormScalar>(_ x: UnsafePointer<S>, _ layout: ChannelLayout)
        -> (mean: [Double], variance: [Double]) {
        let count = Double(layout.perChannel)
        var mean = [Double](repeating: 0, count: layout.channels)
        var variance = mean, shift = mean
        precondition(layout.perChannel > 0, "BatchNorm: statistics of an empty channel")
        mean.withUnsafeMutableBufferPointer { mean in
            variance.withUnsafeMutableBufferPointer { variance in
                shift.withUnsafeMutableBufferPointer { shift in
                    let mean = mean.baseAddress!, variance = variance.baseAddress!, shift = shift.baseAddress!
                    layout.forEachChannelPart { channels in
                        for c in channels { shift[c] = x[c * layout.inner].double }
                        moments(x, x, layout, channels, pShift: shift, qShift: shift, first: mean, second: variance)
                        for c in channels {
                            let sum = mean[c], sumOfSquares = variance[c]
                            mean[c] = shift[c] + sum / count
                            variance[c] = Swift.max(0, (sumOfSquares - sum * sum / count) / count)
                        }
                    }
                }
            }
        }
        return (mean, variance)
    }

    /// `y ← (y − mean_c)·scale_c + shift_c` in place, for every element of channel `c`.
    static func normalize<S: BatchNormScalar>(_ x: UnsafePointer<S>, into y: UnsafeMutablePointer<S>, _ layout: ChannelLayout,
                                              mean: [Double], scale: [Double], shift: [Double]) {
        let m = mean.map(S.init), s = scale.map(S.init), b = shift.map(S.init)
        m.withUnsafeBufferPointer { m in s.withUnsafeBufferPointer { s in b.withUnsafeBufferPointer { b in
            let (m, s, b) = (m.baseAddress!, s.baseAddress!, b.baseAddress!)
            layout.forEachChannelPart { channels in
                layout.forEachRun(of: y, channels, rowBody: { row in
                    let xRow = x + (row - y)
                    for c in channels { row[c] = (xRow[c] - m[c]) * s[c] + b[c] }
                }, runBody: { run, c in
                    let (mc, sc, bc) = (m[c], s[c], b[c]), xRun = x + (run - y)
                    for i in 0..<layout.inner { run[i] = (xRun[i] - mc) * sc + bc }
                })
            }
        } } }
    }

    /// Per channel, `Σ g` and `Σ g·(x − mean_c)`, in Double.
    static func gradientSums<S: BatchNormScalar>(_ g: UnsafePointer<S>, _ x: UnsafePointer<S>, _ layout: ChannelLayout,
                                                 mean: [Double]) -> (sumG: [Double], sumGCentered: [Double]) {
        var sumG = [Double](repeating: 0, count: layout.channels)
        var sumGCentered = sumG
        mean.withUnsafeBufferPointer { mean in
            sumG.withUnsafeMutableBufferPointer { sumG in
                sumGCentered.withUnsafeMutableBufferPointer { sumGCentered in
                    let mean = mean.baseAddress!, sumG = sumG.baseAddress!, sumGCentered = sumGCentered.baseAddress!
                    layout.forEachChannelPart { channels in
                        moments(g, x, layout, channels, pShift: nil, qShift: mean, first: sumG, second: sumGCentered)
                    }
                }
            }
        }
        return (sumG, sumGCentered)
    }

    /// For every channel `c` in `channels`, adds `Σ (p − ps_c)` to `first[c]` and `Σ (p − ps_c)·(q − qs_c)` to
    /// `second[c]` over the channel's elements of `p` and `q`, in Double, with `ps = pShift` (0 when nil) and
    /// `qs = qShift`: CKernels' loop for Float (at the active instruction-set level), else eight Double lanes at a time
    /// (along each run, or across eight channels of a row when a run is one element).
    private static func moments<S: BatchNormScalar>(
        _ p: UnsafePointer<S>, _ q: UnsafePointer<S>, _ layout: ChannelLayout, _ channels: Range<Int>,
        pShift: UnsafePointer<Double>?, qShift: UnsafePointer<Double>,
        first: UnsafeMutablePointer<Double>, second: UnsafeMutablePointer<Double>
    ) {
        if S.self == Float.self {
            ck_channel_moments_f32(UnsafeRawPointer(p).assumingMemoryBound(to: Float.self),
                                   UnsafeRawPointer(q).assumingMemoryBound(to: Float.self), layout.batch, layout.channels,
                                   layout.inner, channels.lowerBound, channels.count, pShift, qShift, first, second)
            return
        }
        let l = layout.inner, stride = layout.channels
        @inline(__always)
        func terms(_ p: SIMD8<Double>, _ q: SIMD8<Double>, _ ps: SIMD8<Double>, _ qs: SIMD8<Double>)
            -> (SIMD8<Double>, SIMD8<Double>) {
            let d = p - ps
            return (d, d * (q - qs))
        }
        @inline(__always)
        func shifts(_ c: Int, _ width: Int) -> (SIMD8<Double>, SIMD8<Double>) {
            (pShift.map { width == 8 ? Double.widened($0 + c) : widenedPartial($0 + c, width) } ?? .zero,
             width == 8 ? Double.widened(qShift + c) : widenedPartial(qShift + c, width))
        }
        if l == 1 {
            // Row by row, in memory order, adding into the channels' totals; the channels go in tiles whose
            // totals stay in the L1 cache.
            let tile = 256
            for tileStart in Swift.stride(from: channels.lowerBound, to: channels.upperBound, by: tile) {
                let tileEnd = Swift.min(tileStart + tile, channels.upperBound)
                for n in 0..<layout.batch {
                    let row = n * stride
                    var c = tileStart
                    while c < tileEnd {
                        let width = Swift.min(8, tileEnd - c)
                        let (ps, qs) = shifts(c, width)
                        // Lanes past `width` read 0 and shift by 0: their terms are 0.
                        let (t1, t2) = width == 8
                            ? terms(S.widened(p + row + c), S.widened(q + row + c), ps, qs)
                            : terms(widenedPartial(p + row + c, width), widenedPartial(q + row + c, width), ps, qs)
                        if width == 8 {
                            UnsafeMutableRawPointer(first + c).storeBytes(of: Double.widened(first + c) + t1, as: SIMD8<Double>.self)
                            UnsafeMutableRawPointer(second + c).storeBytes(of: Double.widened(second + c) + t2, as: SIMD8<Double>.self)
                        } else {
                            for k in 0..<width {
                                first[c + k] += t1[k]
                                second[c + k] += t2[k]
                            }
                        }
                        c += width
                    }
                }
            }
            return
        }
        let tailMask = SIMD8<Int64>(0, 1, 2, 3, 4, 5, 6, 7) .>= SIMD8(repeating: Int64(l % 8))
        for n in 0..<layout.batch {
            for c in channels {
                let run = (n * stride + c) * l
                let ps = SIMD8<Double>(repeating: pShift?[c] ?? 0), qs = SIMD8<Double>(repeating: qShift[c])
                var a = SIMD8<Double>(), b = SIMD8<Double>()
                var i = run
                while i + 8 <= run + l {
                    let (t1, t2) = terms(S.widened(p + i), S.widened(q + i), ps, qs)
                    a += t1
                    b += t2
                    i += 8
                }
                if i < run + l {
                    let (t1, t2) = terms(widenedPartial(p + i, run + l - i), widenedPartial(q + i, run + l - i), ps, qs)
                    a += t1.replacing(with: 0, where: tailMask)
                    b += t2.replacing(with: 0, where: tailMask)
                }
                first[c] += a.sum()
                second[c] += b.sum()
            }
        }
    }

    /// `gx ← gx·gScale_c + (x − mean_c)·xScale_c + offset_c` in place (`gx` holds the output gradient on entry).
    static func inputGradient<S: BatchNormScalar>(_ g: UnsafePointer<S>, _ x: UnsafePointer<S>, into gx: UnsafeMutablePointer<S>,
                                                  _ layout: ChannelLayout, mean: [Double], gScale: [Double],
                                                  xScale: [Double], offset: [Double]) {
        let m = mean.map(S.init), a = gScale.map(S.init), d = xScale.map(S.init), e = offset.map(S.init)
        m.withUnsafeBufferPointer { m in a.withUnsafeBufferPointer { a in
            d.withUnsafeBufferPointer { d in e.withUnsafeBufferPointer { e in
                let (m, a, d, e) = (m.baseAddress!, a.baseAddress!, d.baseAddress!, e.baseAddress!)
                layout.forEachChannelPart { channels in
                    layout.forEachRun(of: gx, channels, rowBody: { row in
                        let (xRow, gRow) = (x + (row - gx), g + (row - gx))
                        for c in channels { row[c] = gRow[c] * a[c] + (xRow[c] - m[c]) * d[c] + e[c] }
                    }, runBody: { run, c in
                        let (mc, ac, dc, ec) = (m[c], a[c], d[c], e[c])
                        let (xRun, gRun) = (x + (run - gx), g + (run - gx))
                        for i in 0..<layout.inner { run[i] = gRun[i] * ac + (xRun[i] - mc) * dc + ec }
                    })
                }
            } }
        } }
    }
}
