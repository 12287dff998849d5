import Foundation
import AutoGradTestSupport
import Testing
@testable import AutoGrad

// topk, sort, and max/min along an axis with indices: values are gathered, so their gradient scatters to the
// chosen positions. Finite differences (first and second order) over ordinary, scalar, empty and broadcast
// shapes with distinct values; exact tests for ties and NaN; comparisons with PyTorch of values, indices and
// gradients. Multinomial sampling: frequencies against the weights (chi-squared, fixed seed) and the
// no-replacement rule.

/// The naive order of one line: NaN above every number, ties by index.
private func referenceOrder(_ line: [Double], descending: Bool) -> [Int] {
    func rank(_ v: Double) -> Double { v.isNaN ? .infinity : v }
    return line.indices.sorted { a, b in
        let (va, vb) = (line[a], line[b])
        if va.isNaN != vb.isNaN { return va.isNaN == descending }
        if va.isNaN || va == vb { return a < b }
        return descending ? rank(va) > rank(vb) : rank(va) < rank(vb)
    }
}

@Suite struct SortingGradientTests {
    @Test func gradientsMatchFiniteDifferences() {
        let cases: [(shape: [Int], axis: Int, k: Int)] = [([4, 5], 0, 2), ([4, 5], 1, 3), ([4, 5], -1, 5), ([2, 3, 4], 1, 1),
                                                          ([5], 0, 0), ([], 0, 1), ([], -1, 0), ([0, 3], 1, 2), ([3, 0], 1, 0),
                                                          ([1, 1], 0, 1)]
        for (i, c) in cases.enumerated() {
            let x = sample(c.shape, .distinct, seed: 700 + UInt64(i))
            for largest in [true, false] {
                expectGradients("topk(\(c.k), axis \(c.axis), largest \(largest))", [x], secondOrder: true) {
                    $0[0].topk(k: c.k, axis: c.axis, largest: largest).values.squared()
                }
                expectGradients("sort(axis \(c.axis), descending \(largest))", [x], secondOrder: true) {
                    $0[0].sorted(axis: c.axis, descending: largest).values.squared()
                }
            }
            guard c.shape.isEmpty || c.shape[(c.axis + c.shape.count) % c.shape.count] > 0 else { continue }
            for keep in [false, true] {
                expectGradients("max(axis \(c.axis), keepDims \(keep))", [x], secondOrder: true) {
                    $0[0].max(axis: c.axis, keepDims: keep).values.squared()
                }
                expectGradients("min(axis \(c.axis), keepDims \(keep))", [x], secondOrder: true) {
                    $0[0].min(axis: c.axis, keepDims: keep).values.squared()
                }
            }
        }
        let (a, b) = (sample([4, 1], .nonzero, seed: 720), sample([1, 5], .nonzero, seed: 721))   // no zero: its sign would flip the order
        expectGradients("topk of a broadcast product", [a, b], secondOrder: true) { ($0[0] * $0[1]).topk(k: 2).values.squared() }
        expectGradients("max of a broadcast product", [a, b], secondOrder: true) { ($0[0] * $0[1]).max(axis: 0).values.squared() }
    }

    /// Every line against the naive order, for both dtypes, with ties, ±0, infinities and NaNs.
    @Test func orderFollowsTheNaNAndTieRule() {
        let line: [Double] = [3, .nan, -1, 3, .infinity, 0, -0.0, .nan, -.infinity, 3]
        let x = Tensor(shape: [2, 10], scalars: line + line.reversed())
        for dtype in [DType.float64, .float32] {
            for descending in [false, true] {
                let (values, indices) = x.to(dtype).sorted(axis: 1, descending: descending)
                for r in 0..<2 {
                    let row = Array(x.doubles[(r * 10)..<(r * 10 + 10)])
                    let order = referenceOrder(row, descending: descending)
                    #expect(Array(indices.values[(r * 10)..<(r * 10 + 10)]) == order, "row \(r) descending \(descending) \(dtype)")
                    #expect(mismatch(values.to(.float64).sliced(axis: 0, start: r, end: r + 1), shape: [1, 10], order.map { row[$0] },
                                     atol: 0, rtol: 0) == nil)
                }
                let top = x.to(dtype).topk(k: 4, axis: -1, largest: descending)
                #expect(top.indices.shape == [2, 4])
                #expect(Array(top.indices.values[0..<4]) == Array(referenceOrder(line, descending: descending).prefix(4)))
            }
            // max/min: first NaN when there is one, else the first extremum.
            let (maxValues, maxIndices) = x.to(dtype).max(axis: 1)
            #expect(maxIndices == TensorIndices([1, 2]) && maxValues.doubles.allSatisfy(\.isNaN))
            let ties = Tensor(shape: [2, 4], scalars: [1, 5, 5, 0, -2, -2, 7, -2]).to(dtype)
            #expect(ties.max(axis: 1).indices == TensorIndices([1, 2]))
            #expect(ties.min(axis: 1).indices == TensorIndices([3, 0]))
            #expect(ties.min(axis: 0, keepDims: true).indices == TensorIndices(shape: [1, 4], values: [1, 1, 0, 1]))
            #expect(ties.max(axis: 0, keepDims: true).values.doubles == [1, 5, 7, 0])
        }
    }

    /// Small k over long lines takes the heap selection; it must give the sort's prefix, ties and NaNs included.
    @Test func selectionOfFewMatchesTheSortsPrefix() {
        let g = RandomGenerator(seed: 760)
        // Few distinct values (many ties), some NaNs and infinities.
        let line = (0..<300).map { i -> Double in
            let r = Int(g.nextBelow(13))
            return r == 0 ? .nan : r == 1 ? .infinity : r == 2 ? -.infinity : Double(r % 5)
        }
        let x = Tensor(shape: [2, 150], scalars: line)
        for k in [1, 2, 5, 18, 37, 150] {
            for largest in [true, false] {
                let top = x.topk(k: k, axis: 1, largest: largest)
                for r in 0..<2 {
                    let expected = Array(referenceOrder(Array(line[(r * 150)..<(r * 150 + 150)]), descending: largest).prefix(k))
                    #expect(Array(top.indices.values[(r * k)..<(r * k + k)]) == expected, "k \(k) largest \(largest) row \(r)")
                }
            }
        }
        // Along a non-last axis too (strided lines), and the gradient through the selected positions.
        let column = x.transposed()
        #expect(column.topk(k: 4, axis: 0).indices.values == x.topk(k: 4, axis: 1).indices.values.enumerated()
            .sorted { ($0.offset % 4, $0.offset / 4) < ($1.offset % 4, $1.offset / 4) }.map(\.element))
        expectGradients("topk(3) of 60", [sample([2, 60], .distinct, seed: 761)], secondOrder: true) {
            $0[0].topk(k: 3, largest: false).values.squared()
        }
    }

    /// Tied maxima: `max(axis:)` gives the whole gradient to the first; `max(axes:)` (no indices) splits it.
    @Test func tiesSendTheGradientToOneIndex() {
        let x = Tensor(shape: [2, 3], scalars: [2, 5, 5, 4, 4, 1])
        let weights = Tensor([10.0, 100])
        let one = gradients([x], weights: weights) { $0[0].max(axis: 1).values }
        #expect(mismatch(one[0], shape: [2, 3], [0, 10, 0, 100, 0, 0], atol: 0, rtol: 0) == nil)
        let split = gradients([x], weights: weights) { $0[0].max(axes: [1]) }
        #expect(mismatch(split[0], shape: [2, 3], [0, 5, 5, 50, 50, 0], atol: 0, rtol: 0) == nil)
        let low = gradients([x], weights: Tensor([1.0, 2, 3])) { $0[0].min(axis: 0).values }
        #expect(mismatch(low[0], shape: [2, 3], [1, 0, 0, 0, 2, 3], atol: 0, rtol: 0) == nil)
        // sort/topk: each output gradient lands where its value came from, ties in original order.
        let sortGrad = gradients([Tensor([3.0, 1, 3, 2])], weights: Tensor([1.0, 10, 100, 1000])) { $0[0].sorted(descending: true).values }
        #expect(mismatch(sortGrad[0], shape: [4], [1, 1000, 10, 100], atol: 0, rtol: 0) == nil)
        let topGrad = gradients([Tensor([3.0, 1, 3, 2])], weights: Tensor([1.0, 10])) { $0[0].topk(k: 2, largest: false).values }
        #expect(mismatch(topGrad[0], shape: [4], [0, 1, 0, 10], atol: 0, rtol: 0) == nil)
    }

    @Test func scalarsAndEmptyShapes() {
        let s = Variable(Tensor(2.5))
        #expect(s.max(axis: 0).values.shape == [] && s.max(axis: 0).indices == TensorIndices(shape: [], values: [0]))
        #expect(s.sorted().values.value.doubles == [2.5] && s.sorted().indices.shape == [])
        #expect(s.topk(k: 0).values.value.doubles == [2.5] && s.topk(k: 1).indices == TensorIndices(shape: [], values: [0]))
        let empty = Tensor.zeros([0, 4], dtype: .float64)
        #expect(empty.max(axis: 1).values.shape == [0] && empty.topk(k: 2).indices.shape == [0, 2])
        #expect(Tensor.zeros([3, 0], dtype: .float64).topk(k: 0).values.shape == [3, 0])
    }

    @Test(.enabled(if: TorchReference.isAvailable, TorchReference.skipReason))
    func matchesTorch() throws {
        let x = sample([3, 4, 5], .distinct, seed: 740)
        // Swift: values + indices; torch: the same sum, so one comparison checks both and the gradient.
        func both(_ r: (values: Variable, indices: TensorIndices)) -> Variable { r.values + Variable(indexTensor(r.indices)) }
        var comparisons: [TorchComparison] = []
        for axis in [-3, -1, 1] {
            comparisons.append(TorchComparison("(lambda r: r.values + r.indices.double())(torch.topk(x[0], 2, dim=\(axis)))", [x],
                                               seed: 741) { both($0[0].topk(k: 2, axis: axis)) })
            comparisons.append(TorchComparison("(lambda r: r.values + r.indices.double())(torch.topk(x[0], 3, dim=\(axis), largest=False))",
                                               [x], seed: 742) { both($0[0].topk(k: 3, axis: axis, largest: false)) })
            comparisons.append(TorchComparison("(lambda r: r.values + r.indices.double())(x[0].max(dim=\(axis)))", [x], seed: 743) {
                both($0[0].max(axis: axis))
            })
            comparisons.append(TorchComparison("(lambda r: r.values + r.indices.double())(x[0].min(dim=\(axis), keepdim=True))", [x],
                                               seed: 744) { both($0[0].min(axis: axis, keepDims: true)) })
        }
        // Ties, infinities and NaN in a stable sort, both directions; ties in max/min.
        let special = Tensor(shape: [2, 6], scalars: [3, .nan, -1, 3, .infinity, -.infinity, 2, 2, .nan, 0, .nan, 2] as [Double])
        for descending in [false, true] {
            comparisons.append(TorchComparison("(lambda r: r.values + r.indices.double())(torch.sort(x[0], dim=1, descending=\(descending ? "True" : "False"), stable=True))",
                                               [special], seed: 745) { both($0[0].sorted(axis: 1, descending: descending)) })
        }
        let ties = Tensor(shape: [2, 4], scalars: [1, 5, 5, 0, -2, -2, 7, -2])
        comparisons.append(TorchComparison("(lambda r: r.values + r.indices.double())(x[0].max(dim=1))", [ties], seed: 746) {
            both($0[0].max(axis: 1))
        })
        comparisons.append(TorchComparison("(lambda r: r.values + r.indices.double())(x[0].min(dim=1))", [ties], seed: 747) {
            both($0[0].min(axis: 1))
        })
        comparisons.append(TorchComparison("(lambda r: r.values + r.indices.double())(x[0].max(dim=1))", [special], seed: 748) {
            both($0[0].max(axis: 1))
        })
        try compareWithTorch(comparisons)
    }
}

@Suite struct MultinomialTests {
    /// Pearson's χ² of `counts` against `weights` (normalised) over `draws`, skipping zero-weight categories.
    private func chiSquared(_ counts: [Int], _ weights: [Double], draws: Int) -> Double {
        let total = weights.reduce(0, +)
        return zip(counts, weights).filter { $0.1 > 0 }.reduce(0) { sum, pair in
            let expected = Double(draws) * pair.1 / total
            return sum + (Double(pair.0) - expected) * (Double(pair.0) - expected) / expected
        }
    }

    @Test func frequenciesFollowTheWeights() {
        let weights = [1.0, 0, 2, 3, 4]
        let draws = 20_000
        let samples = Tensor.multinomial(Tensor(weights), sampleCount: draws, replacement: true, generator: RandomGenerator(seed: 7))
        #expect(samples.shape == [draws])
        var counts = [Int](repeating: 0, count: weights.count)
        for s in samples.values { counts[s] += 1 }
        #expect(counts[1] == 0, "a zero weight was drawn")
        // 3 degrees of freedom: P(χ² > 16.27) = 0.001.
        #expect(chiSquared(counts, weights, draws: draws) < 16.27, "counts \(counts)")
        // A deliberately wrong distribution must fail the same test (the test can fail).
        #expect(chiSquared(counts, [1, 0, 2, 4, 3], draws: draws) > 16.27)
        // float32 weights and several rows: each row follows its own weights.
        let rows = Tensor(shape: [2, 3], scalars: [1, 1, 2, 5, 0, 1], dtype: .float32)
        let both = Tensor.multinomial(rows, sampleCount: 6000, replacement: true, generator: RandomGenerator(seed: 8))
        #expect(both.shape == [2, 6000])
        for r in 0..<2 {
            var c = [0, 0, 0]
            for s in both.values[(r * 6000)..<((r + 1) * 6000)] { c[s] += 1 }
            #expect(chiSquared(c, rows.doubles.slice(r * 3, 3), draws: 6000) < 13.82, "row \(r): \(c)")   // 2 dof
        }
    }

    @Test func withoutReplacementDrawsEachCategoryOnce() {
        let weights = Tensor(shape: [3, 5], scalars: [1, 0, 2, 3, 4, 0, 0, 5, 1, 0, 1, 1, 1, 1, 1])
        let generator = RandomGenerator(seed: 11)
        for _ in 0..<200 {
            let s = Tensor.multinomial(weights, sampleCount: 2, generator: generator)
            #expect(s.shape == [3, 2])
            for r in 0..<3 {
                let (a, b) = (s.values[2 * r], s.values[2 * r + 1])
                #expect(a != b && weights[r, a] > 0 && weights[r, b] > 0)
            }
        }
        // Drawing every non-zero category gives a permutation of them.
        let all = Tensor.multinomial(weights, sampleCount: 2, generator: generator)
        #expect(Set(all.values[2...3]) == [2, 3])
        // The first draw without replacement follows the weights; the second follows the renormalised rest:
        // with weights [1, 3], P(second = 0) = P(first = 1) = 3/4.
        var firstZero = 0, secondZero = 0
        let pair = Tensor([1.0, 3])
        for _ in 0..<8000 {
            let s = Tensor.multinomial(pair, sampleCount: 2, generator: generator).values
            if s[0] == 0 { firstZero += 1 }
            if s[1] == 0 { secondZero += 1 }
        }
        #expect(chiSquared([firstZero, 8000 - firstZero], [1, 3], draws: 8000) < 10.83)   // 1 dof, p = 0.001
        #expect(chiSquared([secondZero, 8000 - secondZero], [3, 1], draws: 8000) < 10.83)
    }

    @Test func fixedSeedsRepeat() {
        let w = Tensor([0.1, 0.2, 0.3, 0.4])
        let a = Tensor.multinomial(w, sampleCount: 50, replacement: true, generator: RandomGenerator(seed: 3))
        let b = Tensor.multinomial(w, sampleCount: 50, replacement: true, generator: RandomGenerator(seed: 3))
        let c = Tensor.multinomial(w, sampleCount: 50, replacement: true, generator: RandomGenerator(seed: 4))
        #expect(a == b && a != c)
    }
}

private extension Array {
    func slice(_ start: Int, _ count: Int) -> [Element] { Array(self[start..<(start + count)]) }
}

@Suite struct SortingTrapTests {
    @Test func badArgumentsTrapNamingTheOp() async {
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).topk(k: 4)
        }, mentions: ["topk", "k 4", "[2, 3]"])
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Variable(Tensor.zeros([2, 0])).max(axis: 1)
        }, mentions: ["max", "empty axis", "[2, 0]"])
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).sorted(axis: 2)
        }, mentions: ["sort", "axis 2"])
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.multinomial(Tensor(shape: [2, 2], scalars: [1, 1, -0.5, 1]), sampleCount: 1)
        }, mentions: ["multinomial", "row 1", "-0.5", "[2, 2]"])
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.multinomial(Tensor([1.0, .nan]), sampleCount: 1)
        }, mentions: ["multinomial", "nan"])
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.multinomial(Tensor([0.0, 0]), sampleCount: 1)
        }, mentions: ["multinomial", "sums to 0"])
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.multinomial(Tensor([1.0, 0, 2]), sampleCount: 3)
        }, mentions: ["multinomial", "3 samples without replacement", "2 non-zero"])
    }
}
