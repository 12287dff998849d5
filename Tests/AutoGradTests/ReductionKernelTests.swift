import Foundation
import AutoGradTestSupport
import Testing
@testable import AutoGrad

// The vectorised reduction and softmax kernels (ReductionKernels.swift, SoftmaxKernels.swift) against plain
// Double references, over every coalesced pattern: the innermost run reduced (whole tensor, rows, BatchNorm's
// [N, C, L] → [C]) or kept ([N, F] → [F], [K, R, K]); odd lengths around the 8/16/32 lanes, the 1024-element
// sum blocks and the 32768-element chunks of a whole-tensor reduction; size-1 and empty axes; NaN and ±∞.

/// `x` (any dtype) reduced over `axes` by `combine` from `initial`, in Double, in row-major order, as a
/// keepDims-shaped array; also the reduced `Σ |x|` (the scale of a sum's rounding error).
private func reference(_ x: Tensor, axes: [Int], _ initial: Double, _ combine: (Double, Double) -> Double)
    -> (values: [Double], magnitudes: [Double]) {
    let kept = Tensor.reducedShape(x.shape, axes: axes, keepDims: true)
    var values = [Double](repeating: initial, count: kept.reduce(1, *))
    var magnitudes = [Double](repeating: 0, count: values.count)
    for (flat, v) in x.doubles.enumerated() {
        var index = unravel(flat, x.shape)
        for a in axes { index[a] = 0 }
        let o = ravel(index, kept)
        values[o] = combine(values[o], v)
        magnitudes[o] += Swift.abs(v)
    }
    return (values, magnitudes)
}

/// NaN-propagating maximum and minimum, as the tensor reductions define them.
private func nanMax(_ a: Double, _ b: Double) -> Double { a.isNaN || b.isNaN ? .nan : Swift.max(a, b) }
private func nanMin(_ a: Double, _ b: Double) -> Double { a.isNaN || b.isNaN ? .nan : Swift.min(a, b) }

/// Why `actual` differs from the expected values (same element count), or nil: NaN matches NaN, infinities
/// must be equal, finite values within `tolerance(i)`.
private func difference(_ actual: Tensor, _ expected: [Double], _ tolerance: (Int) -> Double) -> String? {
    let values = actual.doubles
    if values.count != expected.count { return "\(values.count) elements, expected \(expected.count)" }
    for (i, (x, y)) in zip(values, expected).enumerated() {
        let same = x.isNaN || y.isNaN ? x.isNaN && y.isNaN : (x.isInfinite || y.isInfinite ? x == y : Swift.abs(x - y) <= tolerance(i))
        if !same { return "element \(i) is \(x), expected \(y)" }
    }
    return nil
}

/// The unit roundoff of `dtype`.
private func roundoff(_ dtype: DType) -> Double { dtype == .float32 ? Double(Float.ulpOfOne) : Double.ulpOfOne }

/// Every reduction the tests run: a shape and the axes (possibly negative, nil for all).
private let reductionCases: [(shape: [Int], axes: [Int]?)] = [
    ([1037], nil), ([70_001], nil), ([1], nil), ([], nil),
    ([3, 1037], [1]), ([3, 1037], [-1]), ([3, 1037], [0]), ([3, 1037], nil),
    ([5, 7, 33], [0, 2]), ([5, 7, 33], [1]), ([5, 7, 33], [0, 1]), ([5, 7, 33], [-2, -1]),
    ([4, 1, 9, 1], [1]), ([4, 1, 9, 1], [1, 3]), ([4, 1, 9, 1], [0, 2]), ([4, 1, 9, 1], [0]),
    ([6, 5, 4, 3], [0, 2]), ([6, 5, 4, 3], [1, 3]), ([2, 3, 2049], [0, 2]), ([700, 3], [0]), ([3, 4], []),
]

@Suite struct ReductionKernelTests {
    @Test(arguments: [DType.float32, .float64])
    func sumsMaximaAndMinimaMatchTheReference(dtype: DType) {
        for (index, (shape, axes)) in reductionCases.enumerated() {
            let x = sample(shape, seed: UInt64(index + 1)).to(dtype) * 3
            let normalized = (axes ?? Array(0..<shape.count)).map { $0 < 0 ? $0 + shape.count : $0 }.sorted()
            let sum = reference(x, axes: normalized, 0, +), eps = roundoff(dtype)
            let maximum = reference(x, axes: normalized, -.infinity, nanMax)
            let minimum = reference(x, axes: normalized, .infinity, nanMin)
            for keepDims in [false, true] {
                let label = "\(dtype) \(shape) axes \(String(describing: axes)) keepDims \(keepDims)"
                let expectedShape = Tensor.reducedShape(shape, axes: normalized, keepDims: keepDims)
                let s = x.sum(axes: axes, keepDims: keepDims), m = x.max(axes: axes, keepDims: keepDims)
                let n = x.min(axes: axes, keepDims: keepDims)
                #expect(s.shape == expectedShape && m.shape == expectedShape && n.shape == expectedShape, "\(label)")
                #expect(s.dtype == dtype && m.dtype == dtype, "\(label)")
                // Lane and block sums: each partial sum has at most 32 terms before Double takes over.
                #expect(difference(s, sum.values) { 40 * eps * sum.magnitudes[$0] } == nil, "sum \(label)")
                #expect(difference(m, maximum.values) { _ in 0 } == nil, "max \(label)")
                #expect(difference(n, minimum.values) { _ in 0 } == nil, "min \(label)")
            }
        }
    }

    /// Float sums of many same-signed terms stay accurate: one serial Float chain over 70 001 terms of ~1
    /// would drift by ~1e-3 relative; lanes and Double block sums stay near the roundoff.
    @Test func longFloatSumsStayAccurate() {
        let x = (sample([70_001], .positive, seed: 5)).to(.float32)
        let exact = x.doubles.reduce(0, +)
        #expect(Swift.abs(x.sum().item - exact) <= 4 * Double(Float.ulpOfOne) * exact)
        let rows = x.sliced(axis: 0, start: 0, end: 70_000).reshaped([7, 10_000])
        let rowSums = reference(rows, axes: [1], 0, +).values
        #expect(difference(rows.sum(axes: [1]), rowSums) { 4 * Double(Float.ulpOfOne) * rowSums[$0] } == nil)
        let columnSums = reference(rows.transposed(), axes: [0], 0, +).values
        #expect(difference(rows.transposed().sum(axes: [0]), columnSums) { 2 * Double(Float.ulpOfOne) * columnSums[$0] } == nil)
    }

    @Test(arguments: [DType.float32, .float64])
    func nanAndInfinityPropagate(dtype: DType) {
        // Positions in the 32-lane body, the 8-lane loop and the scalar tail of 45-element runs.
        for position in [0, 17, 40, 44] {
            for (poison, sumResult) in [(Double.nan, Double.nan), (.infinity, .infinity), (-.infinity, -.infinity)] {
                var x = sample([3, 45], seed: 9).to(dtype)
                x[flat: 45 + position] = poison
                let label = "\(dtype) \(poison) at \(position)"
                let maxResult = poison.isNaN ? Double.nan : Swift.max(poison, x.doubles[45..<90].filter { !$0.isInfinite }.max()!)
                let minResult = poison.isNaN ? Double.nan : Swift.min(poison, x.doubles[45..<90].filter { !$0.isInfinite }.min()!)
                // The run reduced (rows) and kept (columns of the transpose).
                for (y, axis) in [(x, 1), (x.transposed(), 0)] {
                    #expect(y.sum(axes: [axis]).doubles[1].isNaN == sumResult.isNaN, "sum \(label)")
                    if !sumResult.isNaN { #expect(y.sum(axes: [axis]).doubles[1] == sumResult, "sum \(label)") }
                    #expect(difference(y.max(axes: [axis]).sliced(axis: 0, start: 1, end: 2), [maxResult]) { _ in 0 } == nil, "max \(label)")
                    #expect(difference(y.min(axes: [axis]).sliced(axis: 0, start: 1, end: 2), [minResult]) { _ in 0 } == nil, "min \(label)")
                    // The other rows are untouched.
                    #expect(y.sum(axes: [axis]).doubles[0].isFinite && y.max(axes: [axis]).doubles[2].isFinite, "\(label)")
                }
                #expect(difference(x.sum(), [sumResult]) { _ in 0 } == nil, "sum all \(label)")
            }
        }
        #expect(Tensor(shape: [2], scalars: [Double.infinity, -.infinity]).to(dtype).sum().item.isNaN)
    }

    @Test func emptyTensorsReduceToTheIdentityOrToEmpty() {
        for dtype in [DType.float32, .float64] {
            let x = Tensor.zeros([0, 5], dtype: dtype)
            #expect(x.sum(axes: [0]) == Tensor.zeros([5], dtype: dtype))
            #expect(x.sum() == Tensor.zeros([], dtype: dtype))
            #expect(x.max(axes: [1]).shape == [0] && x.softmax(axis: 1).shape == [0, 5])
            #expect(x.logSumExp(axes: [1], keepDims: true).shape == [0, 1])
        }
    }
}

@Suite struct SoftmaxKernelTests {
    /// `[outer, n, inner]` layouts: contiguous rows (odd lengths, one longer than a sum block) and columns.
    private static let cases: [(shape: [Int], axis: Int)] = [
        ([4, 1], -1), ([4, 7], 1), ([3, 37], -1), ([2, 1027], 1), ([3, 37, 5], 1), ([2, 5, 300], 1), ([6, 3], 0), ([5], 0),
    ]

    /// Softmax, log-softmax and logSumExp of `x` along `axis`, in Double from the definition.
    private static func references(_ x: Tensor, axis: Int) -> (softmax: [Double], logSoftmax: [Double], logSumExp: [Double]) {
        let values = x.doubles
        let maximum = reference(x, axes: [axis], -.infinity, nanMax).values
        let kept = Tensor.reducedShape(x.shape, axes: [axis], keepDims: true)
        func keptIndex(_ flat: Int) -> Int {
            var index = unravel(flat, x.shape)
            index[axis] = 0
            return ravel(index, kept)
        }
        var sums = [Double](repeating: 0, count: maximum.count)
        for (flat, v) in values.enumerated() { sums[keptIndex(flat)] += exp(v - maximum[keptIndex(flat)]) }
        let softmax = values.enumerated().map { exp($0.element - maximum[keptIndex($0.offset)]) / sums[keptIndex($0.offset)] }
        let logSoftmax = values.enumerated().map { $0.element - maximum[keptIndex($0.offset)] - log(sums[keptIndex($0.offset)]) }
        return (softmax, logSoftmax, zip(maximum, sums).map { $0 + log($1) })
    }

    @Test(arguments: [DType.float32, .float64])
    func softmaxFamilyMatchesTheDefinition(dtype: DType) {
        for (index, (shape, axis)) in Self.cases.enumerated() {
            let x = sample(shape, seed: UInt64(20 + index)).to(dtype) * 6
            let a = axis < 0 ? axis + shape.count : axis
            let expected = Self.references(x, axis: a), eps = roundoff(dtype)
            let label = "\(dtype) \(shape) axis \(axis)"
            let softmax = x.softmax(axis: axis), logSoftmax = x.logSoftmax(axis: axis)
            #expect(softmax.shape == shape && softmax.dtype == dtype && logSoftmax.shape == shape, "\(label)")
            #expect(difference(softmax, expected.softmax) { 8 * eps * expected.softmax[$0] } == nil, "softmax \(label)")
            #expect(difference(logSoftmax, expected.logSoftmax) { 8 * eps * (Swift.abs(expected.logSoftmax[$0]) + 6) } == nil,
                    "logSoftmax \(label)")
            let lse = x.logSumExp(axes: [axis])
            #expect(lse.shape == Tensor.reducedShape(shape, axes: [a], keepDims: false), "\(label)")
            #expect(difference(lse, expected.logSumExp) { 8 * eps * (Swift.abs(expected.logSumExp[$0]) + 1) } == nil,
                    "logSumExp \(label)")
            #expect(x.logSumExp(axes: [axis], keepDims: true).shape == Tensor.reducedShape(shape, axes: [a], keepDims: true))
        }
    }

    @Test func logSumExpOverSeveralAxesMatchesTheDefinition() {
        let x = sample([3, 4, 5, 6], seed: 31) * 5
        for axes in [[1, 2], [0, 1, 2, 3], [2, 3], [0, 2], [1, 3]] {
            var expected = x.doubles.map(exp)
            var expectedTensor = Tensor(shape: x.shape, scalars: expected)
            expectedTensor = expectedTensor.sum(axes: axes)
            expected = expectedTensor.doubles.map { log($0) }
            #expect(difference(x.logSumExp(axes: axes), expected) { 1e-13 * (Swift.abs(expected[$0]) + 1) } == nil, "\(axes)")
            #expect(x.logSumExp(axes: axes).shape == expectedTensor.shape, "\(axes)")
        }
    }

    @Test(arguments: [DType.float32, .float64])
    func rowsWithNaNOrInfinities(dtype: DType) {
        let inf = Double.infinity
        // Rows of 20 (lanes and tail): a NaN, only −∞, a +∞ among finite values, and an ordinary row.
        var rows = [[Double]](repeating: (0..<20).map { Double($0) / 7 }, count: 4)
        rows[0][13] = .nan
        rows[1] = [Double](repeating: -inf, count: 20)
        rows[2][18] = inf
        for x in [Tensor(shape: [4, 20], scalars: rows.flatMap { $0 }).to(dtype)] {
            for (t, axis) in [(x, 1), (x.transposed(), 0)] {
                let label = "\(dtype) axis \(axis)"
                let s = t.softmax(axis: axis), l = t.logSoftmax(axis: axis), lse = t.logSumExp(axes: [axis])
                func row(_ y: Tensor, _ r: Int) -> [Double] {
                    (axis == 1 ? y : y.transposed()).sliced(axis: 0, start: r, end: r + 1).doubles
                }
                #expect(row(s, 0).allSatisfy(\.isNaN) && row(l, 0).allSatisfy(\.isNaN) && lse.doubles[0].isNaN, "NaN \(label)")
                #expect(row(s, 1).allSatisfy(\.isNaN) && lse.doubles[1] == -inf, "−∞ \(label)")
                let infinite = row(s, 2)
                #expect(infinite[18].isNaN && infinite.enumerated().allSatisfy { $0.offset == 18 || $0.element == 0 }, "+∞ \(label)")
                #expect(lse.doubles[2] == inf, "+∞ \(label)")
                #expect(row(s, 3).allSatisfy(\.isFinite) && Swift.abs(row(s, 3).reduce(0, +) - 1) < 1e-6, "finite \(label)")
            }
        }
    }
}

@Suite struct ArgExtremumKernelTests {
    @Test(arguments: [DType.float32, .float64])
    func argmaxAndArgminMatchTheReference(dtype: DType) {
        var x = sample([4, 9, 3], seed: 41).to(dtype)
        x[flat: 5 * 3 + 1] = .nan            // block 0, column 1: row 5 is the first NaN
        x[flat: 7 * 3 + 1] = .nan
        x[flat: 27 + 2 * 3] = 5; x[flat: 27 + 6 * 3] = 5  // block 1, column 0: a tie, the first wins
        let values = x.doubles
        for axis in [0, 1, 2, -1] {
            let a = (axis + 3) % 3
            let outer = x.shape[..<a].reduce(1, *), n = x.shape[a], inner = x.shape[(a + 1)...].reduce(1, *)
            for largest in [true, false] {
                var expected: [Int] = []
                for o in 0..<outer {
                    for i in 0..<inner {
                        let line = (0..<n).map { values[(o * n + $0) * inner + i] }
                        if let firstNaN = line.firstIndex(where: \.isNaN) { expected.append(firstNaN); continue }
                        let best = largest ? line.max()! : line.min()!
                        expected.append(line.firstIndex(of: best)!)
                    }
                }
                let actual = largest ? x.argmax(axis: axis) : x.argmin(axis: axis)
                #expect(actual == expected, "\(dtype) axis \(axis) largest \(largest)")
            }
        }
        #expect(Tensor(3.0).argmax(axis: 0) == [0] && Tensor(3.0).argmin(axis: -1) == [0])
    }
}

/// Reductions large enough to split over threads give exactly what one thread gives.
@Suite(.serialized) struct ReductionThreadingTests {
    @Test func splitReductionsMatchOneThread() {
        let saved = BLAS.threadCount
        defer { BLAS.threadCount = saved }
        let g = RandomGenerator(seed: 12)
        let image = Tensor.randn([16, 24, 13, 15], generator: g).to(.float32)
        let rows = Tensor.randn([3001, 67], generator: g)
        let long = Tensor.randn([250_001], generator: g).to(.float32)
        func run() -> [Tensor] {
            [long.sum(), long.max(), image.sum(), image.sum(axes: [0, 2, 3]), image.sum(toShape: [1, 24, 1, 1]),
             image.max(axes: [1]), image.mean(axes: [3]), rows.sum(axes: [0]), rows.min(axes: [0]), rows.sum(axes: [1]),
             rows.transposed().sum(axes: [0]), rows.softmax(axis: 1), rows.logSoftmax(axis: 0), rows.logSumExp(axes: [1]),
             rows.logSumExp(axes: [0]), image.softmax(axis: 1)]
        }
        BLAS.threadCount = 1
        let single = run()
        BLAS.threadCount = 2
        let split = run()
        for (i, (a, b)) in zip(single, split).enumerated() { #expect(a == b, "result \(i)") }
    }
}
