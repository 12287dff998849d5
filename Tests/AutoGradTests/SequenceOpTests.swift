import Foundation
import AutoGradTestSupport
import Testing
@testable import AutoGrad

// Ops that sequence models need: logSigmoid, hardtanh, maskedFill, cumsum, tril/triu. Each has finite-
// difference checks in Double (first and second order, ordinary, broadcast, scalar and empty shapes),
// exact values where finite differences cannot look (kinks, extremes), and a comparison with PyTorch.

/// Random 0/1 masks of `shape` (about half set).
private func randomMask(_ shape: [Int], seed: UInt64) -> Tensor {
    sample(shape, .any, seed: seed) .> 0
}

@Suite struct LogSigmoidTests {
    @Test func gradientsMatchFiniteDifferences() {
        for (i, shape) in [[4, 5], [], [1], [0, 3]].enumerated() {
            let x = sample(shape, .any, seed: 100 + UInt64(i)) * 4
            expectGradients("logSigmoid", [x], secondOrder: true) { $0[0].logSigmoid() }
        }
        expectGradients("logSigmoid of a broadcast product", [sample([4, 1], seed: 110) * 3, sample([1, 5], seed: 111) * 3],
                        secondOrder: true) { ($0[0] * $0[1]).logSigmoid() }
    }

    /// Far from 0 the stable form keeps full precision where `log(sigmoid(x))` and `1 − sigmoid(x)` lose it.
    @Test func extremesAreExact() {
        let x = Tensor([-800, -40, 0, 40, 800, -Double.infinity, .infinity])
        let y = Variable(x).logSigmoid().value
        // log σ(x) = x − log1p(eˣ) ≈ x + O(eˣ) below, −e⁻ˣ + O(e⁻²ˣ) above.
        #expect(mismatch(y, shape: [7], [-800, -40, -Foundation.log(2), -Foundation.exp(-40), 0, -.infinity, 0],
                         atol: 0, rtol: 1e-14) == nil)
        let g = gradients([x]) { $0[0].logSigmoid() }
        // σ(−x): 1 far below, e⁻ˣ (not 0) far above.
        #expect(mismatch(g[0], shape: [7], [1, 1, 0.5, Foundation.exp(-40), 0, 1, 0], atol: 0, rtol: 1e-14) == nil)
        let floats = Tensor(shape: [3], scalars: [-200, 0, 30], dtype: .float32).logSigmoid().floats
        #expect(floats[0] == -200 && floats[1] == Float(-Foundation.log(2.0)) && floats[2] < 0 && floats[2] > -1e-12)
    }

    @Test(.enabled(if: TorchReference.isAvailable, TorchReference.skipReason))
    func matchesTorch() throws {
        try compareWithTorch([
            TorchComparison("torch.nn.functional.logsigmoid(x[0])", [sample([4, 5], seed: 120) * 10], seed: 121) { $0[0].logSigmoid() },
            TorchComparison("torch.nn.functional.logsigmoid(x[0])", [Tensor([-800, -40, -1e-3, 0, 1e-3, 40, 800])], seed: 122) {
                $0[0].logSigmoid()
            },
            TorchComparison("torch.nn.functional.logsigmoid(x[0])", [Tensor(0.75)], seed: 123) { $0[0].logSigmoid() },
        ])
    }
}

@Suite struct HardtanhTests {
    @Test func gradientsMatchFiniteDifferences() {
        for (i, shape) in [[4, 5], [], [1], [0, 3]].enumerated() {
            let x = sample(shape, .any, seed: 200 + UInt64(i)) * 2
            expectGradients("hardtanh", [x], secondOrder: true) { $0[0].hardtanh() }
            expectGradients("hardtanh(-0.3, 0.4)", [x], secondOrder: true) { $0[0].hardtanh(min: -0.3, max: 0.4) }
        }
        expectGradients("hardtanh of a broadcast product", [sample([4, 1], seed: 210) * 2, sample([1, 5], seed: 211) * 2],
                        secondOrder: true) { ($0[0] * $0[1]).hardtanh(min: -0.5, max: 0.25) }
    }

    /// PyTorch's rule: the gradient is 0 at x == min and x == max (unlike clamp, which passes it there).
    @Test func gradientIsZeroAtTheBounds() {
        let x = Tensor([-2, -1, -0.5, 0, 1, 2])
        let weights = Tensor([2.0, 3, 5, 7, 11, 13])
        #expect(mismatch(Variable(x).hardtanh().value, shape: [6], [-1, -1, -0.5, 0, 1, 1]) == nil)
        let g = gradients([x], weights: weights) { $0[0].hardtanh() }
        #expect(mismatch(g[0], shape: [6], [0, 0, 5, 7, 0, 0], atol: 0, rtol: 0) == nil)
        let custom = gradients([Tensor([-0.25, 0.5, 0.1, -0.3, 0.6])]) { $0[0].hardtanh(min: -0.25, max: 0.5) }
        #expect(mismatch(custom[0], shape: [5], [0, 0, 1, 0, 0], atol: 0, rtol: 0) == nil)
        let point = gradients([Tensor([-1.0, 0, 1])]) { $0[0].hardtanh(min: 0, max: 0) }
        #expect(mismatch(point[0], shape: [3], [0, 0, 0], atol: 0, rtol: 0) == nil)
        // The primitive is a Clamp named Hardtanh; clamp itself still passes the gradient at its bounds.
        let clamp = gradients([Tensor([-1.0, 1])]) { $0[0].clamped(min: -1, max: 1) }
        #expect(clamp[0].doubles == [1, 1])
        #expect(Variable(x, requiresGrad: true).hardtanh().opName == "Hardtanh")
    }

    @Test(.enabled(if: TorchReference.isAvailable, TorchReference.skipReason))
    func matchesTorch() throws {
        try compareWithTorch([
            TorchComparison("torch.nn.functional.hardtanh(x[0])", [Tensor([-2, -1, -0.5, 0, 1, 2])], seed: 220) { $0[0].hardtanh() },
            TorchComparison("torch.nn.functional.hardtanh(x[0], -0.25, 0.5)", [Tensor([-0.25, 0.5, 0.1, -0.3, 0.6, 0])], seed: 221) {
                $0[0].hardtanh(min: -0.25, max: 0.5)
            },
            TorchComparison("torch.nn.functional.hardtanh(x[0])", [sample([3, 4], seed: 222) * 3], seed: 223) { $0[0].hardtanh() },
        ])
    }
}

@Suite struct MaskedFillTests {
    @Test func gradientsMatchFiniteDifferences() {
        let cases: [(x: [Int], mask: [Int])] = [([3, 4], [3, 4]), ([3, 4], [4]), ([3, 4], [3, 1]), ([3, 4], []), ([], []),
                                                ([0, 4], [4]), ([2, 3, 4], [3, 1])]
        for (i, c) in cases.enumerated() {
            let mask = randomMask(c.mask, seed: 300 + UInt64(i))
            expectGradients("maskedFill with mask \(c.mask)", [sample(c.x, seed: 310 + UInt64(i))], secondOrder: true) {
                $0[0].maskedFill(mask, value: -2.5).squared()
            }
        }
        // Both values of a scalar mask; and a broadcast product as the input.
        for set in [0.0, 1.0] {
            expectGradients("maskedFill with scalar mask \(set)", [sample([3], seed: 320)], secondOrder: true) {
                $0[0].maskedFill(Tensor(set), value: 4).squared()
            }
        }
        let mask = randomMask([4, 5], seed: 321)
        expectGradients("maskedFill of a broadcast product", [sample([4, 1], seed: 322), sample([1, 5], seed: 323)], secondOrder: true) {
            ($0[0] * $0[1]).maskedFill(mask, value: 1).squared()
        }
    }

    /// The filled positions take the value whatever x holds there (NaN and ∞ included), and their gradient is exactly 0.
    @Test func filledPositionsTakeTheValueAndNoGradient() {
        let x = Tensor(shape: [2, 3], scalars: [1, .nan, 3, 4, .infinity, 6])
        let mask = Tensor([0.0, 1, 0])
        let y = Variable(x).maskedFill(mask, value: -.infinity).value
        #expect(mismatch(y, shape: [2, 3], [1, -.infinity, 3, 4, -.infinity, 6]) == nil)
        let g = gradients([x], weights: Tensor(shape: [2, 3], scalars: [2, 3, 5, 7, 11, 13])) { $0[0].maskedFill(mask, value: 9) }
        #expect(mismatch(g[0], shape: [2, 3], [2, 0, 5, 7, 0, 13], atol: 0, rtol: 0) == nil)
        // Attention-style: −∞ where masked, then softmax puts exactly 0 there.
        let scores = Variable(Tensor(shape: [2, 2], scalars: [0.5, 2, -1, 3])).maskedFill(Tensor(shape: [2, 2], scalars: [0, 1, 0, 0]),
                                                                                          value: -.infinity)
        let p = scores.softmax(axis: -1).value.doubles
        #expect(p[0] == 1 && p[1] == 0)
    }

    @Test(.enabled(if: TorchReference.isAvailable, TorchReference.skipReason))
    func matchesTorch() throws {
        let full = randomMask([3, 4], seed: 330), row = randomMask([4], seed: 331)
        let x = Tensor(shape: [3, 4], scalars: sample([3, 4], seed: 332).doubles.enumerated().map { $0 == 5 ? .nan : $1 })
        try compareWithTorch([
            TorchComparison("x[0].masked_fill(c[0] != 0, -2.5)", [sample([3, 4], seed: 333)], constants: [full], seed: 334) {
                $0[0].maskedFill(full, value: -2.5)
            },
            TorchComparison("x[0].masked_fill(c[0] != 0, float('-inf')).softmax(-1)", [sample([3, 4], seed: 335)],
                            constants: [Tensor([0.0, 1, 1, 0])], seed: 336) {
                $0[0].maskedFill(Tensor([0.0, 1, 1, 0]), value: -.infinity).softmax(axis: -1)
            },
            TorchComparison("x[0].masked_fill(c[0] != 0, 0.0)", [x], constants: [Tensor(shape: [3, 4], scalars: (0..<12).map { $0 == 5 ? 1 : 0 })],
                            seed: 337) {
                $0[0].maskedFill(Tensor(shape: [3, 4], scalars: (0..<12).map { $0 == 5 ? 1 : 0 }), value: 0)
            },
            TorchComparison("x[0].masked_fill(c[0] != 0, 7.0)", [sample([2, 3, 4], seed: 338)], constants: [row], seed: 339) {
                $0[0].maskedFill(row, value: 7)
            },
        ])
    }
}

@Suite struct CumsumTests {
    @Test func gradientsMatchFiniteDifferences() {
        let cases: [(shape: [Int], axis: Int)] = [([4, 5], 0), ([4, 5], 1), ([4, 5], -1), ([4, 5], -2), ([2, 3, 4], 1), ([5], 0),
                                                   ([], 0), ([], -1), ([0, 3], 0), ([3, 0], 1), ([1, 1], 0)]
        for (i, c) in cases.enumerated() {
            expectGradients("cumsum(axis: \(c.axis)) of \(c.shape)", [sample(c.shape, seed: 400 + UInt64(i))], secondOrder: true) {
                $0[0].cumsum(axis: c.axis).squared()
            }
        }
        expectGradients("cumsum of a broadcast product", [sample([4, 1], seed: 420), sample([1, 5], seed: 421)], secondOrder: true) {
            ($0[0] * $0[1]).cumsum(axis: 1).squared()
        }
    }

    @Test func valuesAndGradientAreRunningSums() {
        let x = Tensor([1.0, 2, 3, 4])
        #expect(mismatch(Variable(x).cumsum(axis: 0).value, shape: [4], [1, 3, 6, 10], atol: 0, rtol: 0) == nil)
        // ∂/∂xⱼ = Σ_{i ≥ j} gᵢ: the reversed running sum of the weights.
        let g = gradients([x], weights: Tensor([1.0, 10, 100, 1000])) { $0[0].cumsum(axis: -1) }
        #expect(mismatch(g[0], shape: [4], [1111, 1110, 1100, 1000], atol: 0, rtol: 0) == nil)
        let m = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(mismatch(Variable(m).cumsum(axis: 0).value, shape: [2, 3], [1, 2, 3, 5, 7, 9], atol: 0, rtol: 0) == nil)
        #expect(mismatch(Variable(m).cumsum(axis: 1).value, shape: [2, 3], [1, 3, 6, 4, 9, 15], atol: 0, rtol: 0) == nil)
        let gm = gradients([m], weights: Tensor(shape: [2, 3], scalars: [1, 2, 4, 8, 16, 32])) { $0[0].cumsum(axis: 1) }
        #expect(mismatch(gm[0], shape: [2, 3], [7, 6, 4, 56, 48, 32], atol: 0, rtol: 0) == nil)
        #expect(Tensor(shape: [3], scalars: [1, 2, 3], dtype: .float32).cumsum(axis: 0).floats == [1, 3, 6])
        #expect(Variable(Tensor(2.5)).cumsum(axis: -1).value.doubles == [2.5])
    }

    /// The backward is the same primitive scanning the other way, so a gradient of a gradient records CumSum again.
    @Test func backwardIsAReversedCumSum() {
        let x = Variable(sample([3, 4], seed: 430), requiresGrad: true)
        let grad = OpInventoryTests.gradientGraph([x]) { $0[0].cumsum(axis: 1).squared() }
        #expect(OpInventoryTests.recordedOps(grad[0]).contains { ($0 as? CumSum)?.reverse == true })
    }

    @Test(.enabled(if: TorchReference.isAvailable, TorchReference.skipReason))
    func matchesTorch() throws {
        let x = sample([3, 4, 5], seed: 440)
        var comparisons = [-3, -2, -1, 0, 1, 2].map { axis in
            TorchComparison("torch.cumsum(x[0], dim=\(axis))", [x], seed: 441 + UInt64(axis + 3)) { $0[0].cumsum(axis: axis) }
        }
        comparisons.append(TorchComparison("torch.cumsum(x[0], dim=0)", [Tensor(1.25)], seed: 450) { $0[0].cumsum(axis: 0) })
        comparisons.append(TorchComparison("torch.cumsum(x[0], dim=1)", [Tensor.zeros([0, 3], dtype: .float64)], seed: 451) {
            $0[0].cumsum(axis: 1)
        })
        try compareWithTorch(comparisons)
    }
}

@Suite struct TriangleTests {
    @Test func gradientsMatchFiniteDifferences() {
        let shapes: [[Int]] = [[4, 5], [5, 4], [2, 3, 4], [3, 3], [0, 3], [2, 0, 3], [1, 1]]
        for (i, shape) in shapes.enumerated() {
            for k in [0, 1, -1, 10, -10] {
                let x = sample(shape, seed: 500 + UInt64(i))
                expectGradients("tril(\(k)) of \(shape)", [x], secondOrder: true) { $0[0].tril(diagonal: k).squared() }
                expectGradients("triu(\(k)) of \(shape)", [x], secondOrder: true) { $0[0].triu(diagonal: k).squared() }
            }
        }
        expectGradients("tril of a broadcast product", [sample([4, 1], seed: 520), sample([1, 5], seed: 521)], secondOrder: true) {
            ($0[0] * $0[1]).tril(diagonal: 1).squared()
        }
    }

    /// Each element against the rule `j − i ≤ k` (tril) or `j − i ≥ k` (triu); values outside become exact zeros,
    /// infinities and NaN included, and so do their gradients.
    @Test func masksFollowTheDiagonalRule() {
        let (rows, columns) = (3, 4)
        var values = (0..<(2 * rows * columns)).map { Double($0) + 1 }
        values[3] = .infinity
        values[12 + 8] = .nan
        let x = Tensor(shape: [2, rows, columns], scalars: values)
        let weights = Tensor(shape: [2, rows, columns], scalars: values.indices.map { Double($0 % 7) + 1 })
        for k in -3...4 {
            for upper in [false, true] {
                let keep = values.indices.map { flat -> Bool in
                    let (i, j) = ((flat / columns) % rows, flat % columns)
                    return upper ? j - i >= k : j - i <= k
                }
                let f: (Variable) -> Variable = { upper ? $0.triu(diagonal: k) : $0.tril(diagonal: k) }
                let expected = zip(values, keep).map { $1 ? $0 : 0 }
                #expect(mismatch(f(Variable(x)).value, shape: x.shape, expected, atol: 0, rtol: 0) == nil, "k \(k) upper \(upper)")
                #expect(mismatch(upper ? x.triu(diagonal: k) : x.tril(diagonal: k), shape: x.shape, expected, atol: 0, rtol: 0) == nil)
                let g = gradients([x], weights: weights) { f($0[0]) }
                let expectedGrad = zip(weights.doubles, keep).map { $1 ? $0 : 0 }
                #expect(mismatch(g[0], shape: x.shape, expectedGrad, atol: 0, rtol: 0) == nil, "k \(k) upper \(upper)")
            }
        }
    }

    @Test(.enabled(if: TorchReference.isAvailable, TorchReference.skipReason))
    func matchesTorch() throws {
        let x = sample([2, 3, 4], seed: 530)
        var comparisons: [TorchComparison] = []
        for k in [-2, -1, 0, 1, 3] {
            comparisons.append(TorchComparison("torch.tril(x[0], \(k))", [x], seed: 531 + UInt64(k + 2)) { $0[0].tril(diagonal: k) })
            comparisons.append(TorchComparison("torch.triu(x[0], \(k))", [x], seed: 541 + UInt64(k + 2)) { $0[0].triu(diagonal: k) })
        }
        comparisons.append(TorchComparison("torch.tril(x[0])", [sample([4, 3], seed: 550)], seed: 551) { $0[0].tril() })
        try compareWithTorch(comparisons)
    }
}

@Suite struct SequenceOpTrapTests {
    /// The child's standard error, which must name the op (and the shapes where shapes are at fault).
    private func expectTrap(_ result: ExitTest.Result?, mentions fragments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        let text = result.map { String(decoding: $0.standardErrorContent, as: UTF8.self) } ?? ""
        for fragment in fragments {
            #expect(text.contains(fragment), "stderr lacks \"\(fragment)\":\n\(text)", sourceLocation: sourceLocation)
        }
    }

    @Test func badArgumentsTrapNamingTheOp() async {
        expectTrap(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Variable(Tensor([1.0])).hardtanh(min: 1, max: -1)
        }, mentions: ["hardtanh", "min 1.0 is above max -1.0"])
        expectTrap(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Variable(Tensor.zeros([2, 3])).maskedFill(Tensor.zeros([2, 2, 3]), value: 0)
        }, mentions: ["maskedFill", "[2, 2, 3]", "[2, 3]"])
        expectTrap(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Variable(Tensor.zeros([2, 3])).maskedFill(Tensor.zeros([4]), value: 0)
        }, mentions: ["maskedFill", "[4]", "[2, 3]"])
        expectTrap(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Variable(Tensor.zeros([2, 3])).cumsum(axis: 2)
        }, mentions: ["cumsum", "axis 2"])
        expectTrap(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Variable(Tensor.zeros([3])).tril()
        }, mentions: ["tril", "[3]"])
    }
}
