import AutoGradTestSupport
import Testing
@testable import AutoGrad

// 2-D pooling: forward against naive loops written here from PyTorch's definitions, exact values at
// ties and edges, first and second derivatives by finite differences, and the traps.

/// One pooling configuration: kernel, stride, padding as (height, width).
private struct PoolConfig: CustomStringConvertible {
    let shape: [Int]
    let kernel: (Int, Int)
    let stride: (Int, Int)
    let padding: (Int, Int)
    var description: String { "\(shape) k\(kernel) s\(stride) p\(padding)" }
}

private let configs: [PoolConfig] = [
    PoolConfig(shape: [2, 3, 4, 6], kernel: (2, 2), stride: (2, 2), padding: (0, 0)),
    PoolConfig(shape: [2, 2, 5, 7], kernel: (3, 2), stride: (2, 1), padding: (1, 1)),
    PoolConfig(shape: [1, 2, 7, 5], kernel: (3, 3), stride: (2, 2), padding: (1, 1)),   // odd sizes, batch 1
    PoolConfig(shape: [1, 1, 5, 5], kernel: (2, 3), stride: (3, 1), padding: (1, 0)),   // stride > kernel
    PoolConfig(shape: [3, 5, 5], kernel: (2, 2), stride: (1, 1), padding: (0, 1)),      // unbatched, overlapping
    PoolConfig(shape: [2, 1, 3, 4], kernel: (3, 4), stride: (1, 1), padding: (0, 0)),   // kernel = whole plane
    PoolConfig(shape: [1, 2, 3, 3], kernel: (1, 1), stride: (2, 2), padding: (0, 0)),
]

/// The output size `⌊(n + 2p − k)/s⌋ + 1`.
private func outSize(_ n: Int, _ k: Int, _ s: Int, _ p: Int) -> Int { (n + 2 * p - k) / s + 1 }

/// Naive max pooling: values and in-plane argmax (first maximum in row-major order; a NaN replaces the
/// maximum so far, so the last NaN wins).
private func naiveMaxPool(_ x: Tensor, _ c: PoolConfig) -> (shape: [Int], values: [Double], indices: [Int]) {
    let v = x.doubles, s = x.shape, r = s.count
    let (h, w) = (s[r - 2], s[r - 1])
    let (oh, ow) = (outSize(h, c.kernel.0, c.stride.0, c.padding.0), outSize(w, c.kernel.1, c.stride.1, c.padding.1))
    let planes = s.dropLast(2).reduce(1, *)
    var values: [Double] = [], indices: [Int] = []
    for p in 0..<planes {
        for i in 0..<oh {
            for j in 0..<ow {
                var best = -Double.infinity, at = -1
                for a in 0..<c.kernel.0 {
                    for b in 0..<c.kernel.1 {
                        let (y, z) = (i * c.stride.0 - c.padding.0 + a, j * c.stride.1 - c.padding.1 + b)
                        guard y >= 0 && y < h && z >= 0 && z < w else { continue }
                        let e = v[p * h * w + y * w + z]
                        if at < 0 || e > best || e.isNaN { best = e; at = y * w + z }
                    }
                }
                values.append(best)
                indices.append(at)
            }
        }
    }
    return (Array(s.dropLast(2)) + [oh, ow], values, indices)
}

/// Naive average pooling with PyTorch's divisor rules.
private func naiveAvgPool(_ x: Tensor, _ c: PoolConfig, countIncludePad: Bool, divisorOverride: Int?) -> (shape: [Int], values: [Double]) {
    let v = x.doubles, s = x.shape, r = s.count
    let (h, w) = (s[r - 2], s[r - 1])
    let (oh, ow) = (outSize(h, c.kernel.0, c.stride.0, c.padding.0), outSize(w, c.kernel.1, c.stride.1, c.padding.1))
    let planes = s.dropLast(2).reduce(1, *)
    var values: [Double] = []
    for p in 0..<planes {
        for i in 0..<oh {
            for j in 0..<ow {
                var sum = 0.0, inside = 0, padded = 0
                for a in 0..<c.kernel.0 {
                    for b in 0..<c.kernel.1 {
                        let (y, z) = (i * c.stride.0 - c.padding.0 + a, j * c.stride.1 - c.padding.1 + b)
                        // Positions in the padded frame count for countIncludePad; beyond it they do not.
                        if y < h + c.padding.0 && z < w + c.padding.1 { padded += 1 }
                        guard y >= 0 && y < h && z >= 0 && z < w else { continue }
                        sum += v[p * h * w + y * w + z]
                        inside += 1
                    }
                }
                values.append(sum / Double(divisorOverride ?? (countIncludePad ? padded : inside)))
            }
        }
    }
    return (Array(s.dropLast(2)) + [oh, ow], values)
}

/// Naive adaptive average pooling: windows ⌊i·n/m⌋ ..< ⌈(i+1)·n/m⌉.
private func naiveAdaptive(_ x: Tensor, _ out: (Int, Int)) -> (shape: [Int], values: [Double]) {
    let v = x.doubles, s = x.shape, r = s.count
    let (h, w) = (s[r - 2], s[r - 1])
    let planes = s.dropLast(2).reduce(1, *)
    var values: [Double] = []
    for p in 0..<planes {
        for i in 0..<out.0 {
            let (y0, y1) = (Int((Double(i * h) / Double(out.0)).rounded(.down)), Int((Double((i + 1) * h) / Double(out.0)).rounded(.up)))
            for j in 0..<out.1 {
                let (z0, z1) = (Int((Double(j * w) / Double(out.1)).rounded(.down)), Int((Double((j + 1) * w) / Double(out.1)).rounded(.up)))
                var sum = 0.0
                for y in y0..<y1 { for z in z0..<z1 { sum += v[p * h * w + y * w + z] } }
                values.append(sum / Double((y1 - y0) * (z1 - z0)))
            }
        }
    }
    return (Array(s.dropLast(2)) + [out.0, out.1], values)
}

@Suite struct MaxPoolTests {
    @Test func forwardMatchesNaiveLoops() {
        for (k, c) in configs.enumerated() {
            let x = sample(c.shape, seed: UInt64(k))
            let expected = naiveMaxPool(x, c)
            let (values, indices) = x.maxPool2dWithIndices(kernelSize: c.kernel, stride: c.stride, padding: c.padding)
            #expect(mismatch(values, shape: expected.shape, expected.values) == nil, "\(c)")
            #expect(indices.shape == expected.shape && indices.values == expected.indices, "\(c)")
            let v = Variable(x).maxPool2d(kernelSize: c.kernel, stride: c.stride, padding: c.padding)
            #expect(v.value == values, "\(c)")
            // Float32 runs its own kernel and picks the same elements.
            #expect(x.to(.float32).maxPool2d(kernelSize: c.kernel, stride: c.stride, padding: c.padding) == values.to(.float32), "\(c)")
        }
    }

    @Test func squareOverloadAndDefaultStrideAreTheKernel() {
        let x = sample([2, 3, 6, 6], seed: 3)
        #expect(x.maxPool2d(kernelSize: 2) == x.maxPool2d(kernelSize: (2, 2), stride: (2, 2), padding: (0, 0)))
        #expect(x.maxPool2d(kernelSize: 3, stride: 1, padding: 1) == x.maxPool2d(kernelSize: (3, 3), stride: (1, 1), padding: (1, 1)))
        #expect(x.maxPool2d(kernelSize: 3, stride: 1, padding: 1).shape == [2, 3, 6, 6])
    }

    @Test func paddingIsMinusInfinityNotZero() {
        let x = Tensor.full([1, 1, 2, 3], -5, dtype: .float64)
        let y = x.maxPool2d(kernelSize: 3, stride: 1, padding: 1)
        #expect(mismatch(y, shape: [1, 1, 2, 3], Array(repeating: -5, count: 6)) == nil)
    }

    @Test func tiedMaximaGiveTheWholeGradientToTheFirstInRowMajorOrder() {
        // Window 0 (rows 0–1, cols 0–1) holds 3 twice, at (0,1) and (1,0); window 1 (cols 2–3) holds 7 four times.
        let x = Variable(Tensor(shape: [1, 1, 2, 4], scalars: [1, 3, 7, 7,
                                                                3, 2, 7, 7] as [Double]), requiresGrad: true)
        let y = x.maxPool2d(kernelSize: 2)
        #expect(y.value.doubles == [3, 7])
        y.backward(seed: Tensor(shape: [1, 1, 1, 2], scalars: [10, 20] as [Double]))
        #expect(x.grad!.doubles == [0, 10, 20, 0,
                                    0, 0, 0, 0])
        #expect(Tensor.full([1, 1, 2, 2], 1, dtype: .float64).maxPool2dWithIndices(kernelSize: (2, 2)).indices.values == [0])
    }

    @Test func overlappingWindowsAccumulateAtTheirSharedMaximum() {
        // The centre is the maximum of all four 2×2 windows of a 3×3 plane.
        let x = Variable(Tensor(shape: [1, 1, 3, 3], scalars: [1, 2, 3, 4, 9, 5, 6, 7, 8] as [Double]), requiresGrad: true)
        x.maxPool2d(kernelSize: 2, stride: 1).sum().backward()
        #expect(x.grad!.doubles == [0, 0, 0, 0, 4, 0, 0, 0, 0])
    }

    @Test func nanIsPropagated() {
        let x = Tensor(shape: [1, 1, 2, 2], scalars: [1, .nan, 5, 2] as [Double])
        #expect(x.maxPool2d(kernelSize: 2).item.isNaN)
    }

    @Test func firstAndSecondDerivativesMatchFiniteDifferences() {
        for (k, c) in configs.enumerated() {
            // Distinct values keep every window away from ties, where max is not differentiable.
            expectGradients("maxPool2d \(c)", [sample(c.shape, .distinct, seed: UInt64(10 + k))], secondOrder: true) {
                $0[0].maxPool2d(kernelSize: c.kernel, stride: c.stride, padding: c.padding)
            }
        }
    }

    @Test func backwardIsARecordedOpWhoseGradientGathers() {
        let x = Variable(sample([1, 2, 4, 4], .distinct, seed: 4), requiresGrad: true)
        let y = x.maxPool2d(kernelSize: 2)
        #expect(y.opName == "MaxPool2d")
        // d(½Σy²)/dx = y scattered back: it depends on x, so with createGraph the backward op is recorded.
        let dx = Graph.gradients(of: (y * y).sum() * 0.5, withRespectTo: [x], createGraph: true)[0]
        #expect(dx.opName == "MaxPool2dBackward")
        let seed = sample(y.shape, seed: 5)
        // The backward scatters g to the argmax positions; its own gradient gathers a weight w there.
        let indices = x.value.maxPool2dWithIndices(kernelSize: (2, 2)).indices
        let g = Variable(seed, requiresGrad: true)
        let windows = PoolWindows.sliding("MaxPool2d", inputShape: x.shape, kernel: (2, 2), stride: (2, 2), padding: (0, 0))
        let scattered = MaxPoolScatter(windows: windows, indices: indices)(g)
        #expect(scattered.value == Graph.gradients(of: y, withRespectTo: [x], seed: seed)[0].value)
        let w = sample(x.shape, seed: 6)
        #expect(Graph.gradients(of: scattered, withRespectTo: [g], seed: w)[0].value == w.planeGathered(indices))
    }
}

/// Configurations that reach each max-pooling kernel: the unrolled 2×2 one (with the one-pass backward at
/// stride 2; in Float on AVX-512 CPUs, CKernels' vector kernel), the row walk (column stride 1) and the per-window scan (other strides), with and without
/// padding and overlap.
private let kernelConfigs: [PoolConfig] = [
    PoolConfig(shape: [2, 3, 5, 7], kernel: (2, 2), stride: (2, 2), padding: (0, 0)),   // one-pass backward; odd last row and column
    PoolConfig(shape: [1, 2, 3, 71], kernel: (2, 2), stride: (2, 2), padding: (0, 0)),  // 35 windows a row: 16, 16 and 3 at a time (AVX-512)
    PoolConfig(shape: [2, 2, 5, 6], kernel: (2, 2), stride: (1, 1), padding: (0, 0)),   // 2×2, overlapping
    PoolConfig(shape: [1, 2, 6, 5], kernel: (2, 2), stride: (1, 2), padding: (0, 0)),   // 2×2, overlapping rows only
    PoolConfig(shape: [1, 2, 7, 8], kernel: (2, 2), stride: (3, 3), padding: (0, 0)),   // 2×2 with gaps between windows
    PoolConfig(shape: [2, 2, 6, 7], kernel: (3, 3), stride: (1, 1), padding: (1, 1)),   // row walk, padded
    PoolConfig(shape: [2, 2, 7, 6], kernel: (3, 2), stride: (2, 1), padding: (1, 0)),   // row walk, rows strided
    PoolConfig(shape: [1, 3, 7, 7], kernel: (3, 3), stride: (2, 2), padding: (1, 1)),   // scan, padded and overlapping
    PoolConfig(shape: [1, 2, 8, 9], kernel: (2, 3), stride: (2, 3), padding: (0, 1)),   // scan, padded and disjoint
]

/// Values from {−1, 0, 1, NaN}, so that windows hold ties, several NaNs, and both.
private func tiesAndNaNs(_ shape: [Int], seed: UInt64) -> Tensor {
    let u = Tensor.uniform(shape, dtype: .float64, generator: RandomGenerator(seed: seed)).doubles
    return Tensor(shape: shape, scalars: u.map { $0 < 0.15 ? .nan : ($0 * 4).rounded(.down) - 1 })
}

/// `g` added at each window's in-plane argmax, into zeros of `shape` (max pooling's backward by hand).
private func naiveScatter(_ g: Tensor, indices: [Int], into shape: [Int]) -> [Double] {
    let plane = shape[shape.count - 2] * shape[shape.count - 1], outPlane = g.count / shape.dropLast(2).reduce(1, *)
    var out = [Double](repeating: 0, count: shape.reduce(1, *))
    for (k, v) in g.doubles.enumerated() { out[k / outPlane * plane + indices[k]] += v }
    return out
}

@Suite struct MaxPoolKernelTests {
    @Test func everyKernelKeepsTheFirstTieAndTheLastNaN() {
        for (k, c) in kernelConfigs.enumerated() {
            let x = tiesAndNaNs(c.shape, seed: UInt64(60 + k))
            let expected = naiveMaxPool(x, c)
            for dtype in [DType.float64, .float32] {
                let (values, indices) = x.to(dtype).maxPool2dWithIndices(kernelSize: c.kernel, stride: c.stride, padding: c.padding)
                #expect(indices.values == expected.indices, "\(c) \(dtype)")
                #expect(values.dtype == dtype && mismatch(values, shape: expected.shape, expected.values) == nil, "\(c) \(dtype)")
                // Without indices (Tensor.maxPool2d) the same kernels pick the same values.
                let plain = x.to(dtype).maxPool2d(kernelSize: c.kernel, stride: c.stride, padding: c.padding)
                #expect(mismatch(plain, values, atol: 0, rtol: 0) == nil, "\(c) \(dtype)")
            }
        }
    }

    @Test func handCheckedTiesAndNaNsOnEachKernel() {
        let nan = Double.nan
        // One 1×4 row: 3 ties with 3, a NaN replaces the best, the later NaN replaces the earlier one.
        let row = Tensor(shape: [1, 1, 1, 4], scalars: [3, nan, 3, nan] as [Double])
        for (kernel, stride) in [((1, 4), (1, 1)), ((1, 4), (1, 4))] {   // row walk, scan
            let (values, indices) = row.maxPool2dWithIndices(kernelSize: kernel, stride: stride)
            #expect(indices.values == [3] && values.item.isNaN, "\(kernel) \(stride)")
        }
        let ties = Tensor(shape: [1, 1, 1, 4], scalars: [1, 3, 2, 3] as [Double])
        for (kernel, stride) in [((1, 4), (1, 1)), ((1, 4), (1, 4))] {
            #expect(ties.maxPool2dWithIndices(kernelSize: kernel, stride: stride).indices.values == [1], "\(kernel) \(stride)")
        }
        // 2×2 windows: [[NaN, 5], [1, 2]] keeps the NaN; [[1, NaN], [NaN, 2]] ends on the second NaN;
        // [[-∞, -∞], [-∞, -∞]] keeps the first element.
        let x = Tensor(shape: [1, 1, 2, 6], scalars: [nan, 5, 1, nan, -.infinity, -.infinity,
                                                       1, 2, nan, 2, -.infinity, -.infinity] as [Double])
        for dtype in [DType.float64, .float32] {
            let (values, indices) = x.to(dtype).maxPool2dWithIndices(kernelSize: (2, 2))
            #expect(indices.values == [0, 8, 4], "\(dtype)")
            let v = values.doubles
            #expect(v[0].isNaN && v[1].isNaN && v[2] == -.infinity, "\(dtype)")
        }
    }

    @Test func backwardScattersExactlyForEveryKernel() {
        for (k, c) in kernelConfigs.enumerated() {
            let x = sample(c.shape, seed: UInt64(70 + k))
            let indices = naiveMaxPool(x, c).indices
            for dtype in [DType.float64, .float32] {
                let v = Variable(x.to(dtype), requiresGrad: true)
                let y = v.maxPool2d(kernelSize: c.kernel, stride: c.stride, padding: c.padding)
                let g = sample(y.shape, seed: UInt64(80 + k)).to(dtype)
                let expected = naiveScatter(g, indices: indices, into: c.shape)
                // Twice: the second result reuses freed buffers, so every element must be written.
                for _ in 0..<2 {
                    let dx = Graph.gradients(of: y, withRespectTo: [v], seed: g, retainGraph: true)[0].value
                    let exact: Double = dtype == .float64 ? 0 : 1e-7   // Float sums of overlapping windows
                    #expect(dx.dtype == dtype && mismatch(dx, shape: c.shape, expected, atol: exact, rtol: exact) == nil, "\(c) \(dtype)")
                }
            }
        }
    }

    @Test func largeInputsSplitOverThreadsAgreeWithTheNaiveLoops() {
        // 8·8·32·33 elements: above Parallel.minimumWork, so the planes are split when there are threads.
        for (k, c) in [PoolConfig(shape: [8, 8, 32, 33], kernel: (2, 2), stride: (2, 2), padding: (0, 0)),
                       PoolConfig(shape: [8, 8, 32, 33], kernel: (3, 3), stride: (1, 1), padding: (1, 1)),
                       PoolConfig(shape: [8, 8, 32, 33], kernel: (3, 3), stride: (2, 2), padding: (1, 1))].enumerated() {
            let x = tiesAndNaNs(c.shape, seed: UInt64(90 + k)).to(.float32)
            let expected = naiveMaxPool(x, c)
            let v = Variable(x, requiresGrad: true)
            let y = v.maxPool2d(kernelSize: c.kernel, stride: c.stride, padding: c.padding)
            #expect(mismatch(y.value, shape: expected.shape, expected.values) == nil, "\(c)")
            let g = Tensor.ones(y.shape, dtype: .float32)
            let dx = Graph.gradients(of: y, withRespectTo: [v], seed: g)[0].value
            #expect(mismatch(dx, shape: c.shape, naiveScatter(g, indices: expected.indices, into: c.shape)) == nil, "\(c)")
        }
    }

    @Test func firstAndSecondDerivativesMatchFiniteDifferences() {
        for (k, c) in kernelConfigs.enumerated() {
            expectGradients("maxPool2d \(c)", [sample(c.shape, .distinct, seed: UInt64(100 + k))], secondOrder: true) {
                $0[0].maxPool2d(kernelSize: c.kernel, stride: c.stride, padding: c.padding)
            }
        }
    }
}

@Suite struct AvgPoolTests {
    @Test func forwardMatchesNaiveLoopsForEveryDivisorRule() {
        for (k, c) in configs.enumerated() {
            let x = sample(c.shape, seed: UInt64(20 + k))
            for (include, override) in [(true, nil), (false, nil), (true, 5), (false, -3)] as [(Bool, Int?)] {
                let expected = naiveAvgPool(x, c, countIncludePad: include, divisorOverride: override)
                let y = x.avgPool2d(kernelSize: c.kernel, stride: c.stride, padding: c.padding,
                                    countIncludePad: include, divisorOverride: override)
                #expect(mismatch(y, shape: expected.shape, expected.values, atol: 1e-15, rtol: 1e-14) == nil,
                        "\(c) countIncludePad \(include) divisor \(String(describing: override))")
                let v = Variable(x).avgPool2d(kernelSize: c.kernel, stride: c.stride, padding: c.padding,
                                              countIncludePad: include, divisorOverride: override)
                #expect(v.value == y)
                let f = x.to(.float32).avgPool2d(kernelSize: c.kernel, stride: c.stride, padding: c.padding,
                                                 countIncludePad: include, divisorOverride: override)
                #expect(mismatch(f, shape: expected.shape, expected.values, atol: 1e-6, rtol: 1e-5) == nil, "float32 \(c)")
            }
        }
    }

    @Test func handComputedPaddedCorners() {
        // [[1, 2], [3, 4]], 2×2 windows, stride 1, padding 1: corner windows hold one element.
        let x = Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4] as [Double])
        #expect(x.avgPool2d(kernelSize: 2, stride: 1, padding: 1).doubles
                == [0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1])
        #expect(x.avgPool2d(kernelSize: 2, stride: 1, padding: 1, countIncludePad: false).doubles
                == [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4])
        #expect(x.avgPool2d(kernelSize: 2, divisorOverride: 2).doubles == [5])
    }

    @Test func firstAndSecondDerivativesMatchFiniteDifferences() {
        for (k, c) in configs.enumerated() {
            for (include, override) in [(true, nil), (false, nil), (true, 3)] as [(Bool, Int?)] {
                expectGradients("avgPool2d \(c) include \(include) divisor \(String(describing: override))",
                                [sample(c.shape, seed: UInt64(30 + k))], secondOrder: true) {
                    $0[0].avgPool2d(kernelSize: c.kernel, stride: c.stride, padding: c.padding,
                                    countIncludePad: include, divisorOverride: override)
                }
            }
        }
    }

    @Test func backwardIsTheAdjointOp() {
        let x = Variable(sample([1, 1, 4, 4], seed: 7), requiresGrad: true)
        let y = x.avgPool2d(kernelSize: 3, stride: 1, padding: 1, countIncludePad: false)
        #expect(y.opName == "AvgPool2d")
        let dx = Graph.gradients(of: (y * y).sum() * 0.5, withRespectTo: [x], createGraph: true)[0]
        #expect(dx.opName == "AvgPool2dBackward")
        // ⟨A x, g⟩ = ⟨x, Aᵀ g⟩ for random x and g.
        let g = sample(y.shape, seed: 8)
        let lhs = (y.value * g).sum().item
        let rhs = (x.value * g.windowAverageAdjoint(.sliding("AvgPool2d", inputShape: [1, 1, 4, 4], kernel: (3, 3), stride: (1, 1),
                                                                padding: (1, 1), countIncludePad: false))).sum().item
        #expect(Swift.abs(lhs - rhs) < 1e-12)
    }
}

@Suite struct AdaptiveAvgPoolTests {
    private static let cases: [([Int], (Int, Int))] = [
        ([2, 3, 5, 7], (3, 2)),     // uneven windows that overlap
        ([1, 2, 6, 6], (3, 3)),     // even split
        ([3, 4, 5], (4, 7)),        // unbatched, output larger than the input
        ([2, 1, 4, 3], (1, 1)),     // global average
        ([1, 1, 3, 4], (3, 4)),     // identity
    ]

    @Test func forwardMatchesNaiveLoops() {
        for (k, (shape, out)) in Self.cases.enumerated() {
            let x = sample(shape, seed: UInt64(40 + k))
            let expected = naiveAdaptive(x, out)
            let y = x.adaptiveAvgPool2d(outputSize: out)
            #expect(mismatch(y, shape: expected.shape, expected.values, atol: 1e-15, rtol: 1e-14) == nil, "\(shape) → \(out)")
            #expect(Variable(x).adaptiveAvgPool2d(outputSize: out).value == y)
        }
        let x = sample([2, 3, 4, 5], seed: 9)
        #expect(mismatch(x.adaptiveAvgPool2d(outputSize: 1), x.mean(axes: [2, 3], keepDims: true), atol: 1e-15) == nil)
        #expect(x.adaptiveAvgPool2d(outputSize: (4, 5)) == x)
    }

    @Test func firstAndSecondDerivativesMatchFiniteDifferences() {
        for (k, (shape, out)) in Self.cases.enumerated() {
            expectGradients("adaptiveAvgPool2d \(shape) → \(out)", [sample(shape, seed: UInt64(50 + k))], secondOrder: true) {
                $0[0].adaptiveAvgPool2d(outputSize: out)
            }
        }
    }
}

@Suite struct PoolingTrapTests {
    @Test func paddingAboveHalfTheKernelTraps() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 1, 4, 4]).maxPool2d(kernelSize: 2, padding: 2)
        }
        let text = result.map { String(decoding: $0.standardErrorContent, as: UTF8.self) } ?? ""
        #expect(text.contains("MaxPool2d") && text.contains("padding (2, 2)"), "\(text)")
    }

    @Test func anIndexOutsideItsWindowTrapsInTheOnePassBackward() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let windows = PoolWindows.sliding("MaxPool2d", inputShape: [1, 1, 4, 4], kernel: (2, 2), stride: (2, 2), padding: (0, 0))
            // Index 2 lies in the plane but in the second window, not the first.
            _ = Tensor.ones([1, 1, 2, 2]).maxPoolAdjoint(windows, indices: TensorIndices(shape: [1, 1, 2, 2], values: [2, 2, 8, 10]))
        }
        let text = result.map { String(decoding: $0.standardErrorContent, as: UTF8.self) } ?? ""
        #expect(text.contains("MaxPool2dBackward") && text.contains("1 of the indices"), "\(text)")
    }

    @Test func wrongRankTraps() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Variable(Tensor.zeros([4, 4])).avgPool2d(kernelSize: 2)
        }
        let text = result.map { String(decoding: $0.standardErrorContent, as: UTF8.self) } ?? ""
        #expect(text.contains("AvgPool2d") && text.contains("[4, 4]"), "\(text)")
    }
}
