import Foundation
import AutoGradTestSupport
import Testing
@testable import AutoGrad

// Exact gradients where an op is not differentiable: each pins the choice documented on the op
// (PyTorch's choices). Finite differences cannot check these, so the expected values are written out.

@Suite struct KinkTests {
    @Test func reluHasZeroGradientAtZero() {
        let g = gradients([Tensor([-1.5, 0, 2, -0.0])]) { $0[0].relu() }
        #expect(mismatch(g[0], shape: [4], [0, 0, 1, 0]) == nil)
    }

    @Test func leakyReLUHasTheSlopeAsGradientAtZero() {
        // PyTorch's leaky_relu_backward: x > 0 ? g : slope·g, so x = 0 (either sign) takes the slope.
        let x = Tensor([-1.5, 0, 2, -0.0])
        #expect(mismatch(Variable(x).leakyReLU(negativeSlope: 0.25).value, shape: [4], [-0.375, 0, 2, 0]) == nil)
        let g = gradients([x], weights: Tensor([2.0, 3, 5, 7])) { $0[0].leakyReLU(negativeSlope: 0.25) }
        #expect(mismatch(g[0], shape: [4], [0.5, 0.75, 5, 1.75]) == nil)
    }

    @Test func leakyReLUInFloatMatchesTheElementRule() {
        // 37 elements: CKernels' vector loop and its remainder; zeros of both signs, infinities and NaN.
        let specials: [Float] = [0, -0.0, .nan, .infinity, -.infinity, 1e-30, -1e-30]
        let values = (0..<37).map { $0 < specials.count ? specials[$0] : Float($0 % 5) - 2.5 + Float($0) / 64 }
        let x = Tensor(shape: [37], scalars: values.map(Double.init), dtype: .float32)
        let y = Variable(x).leakyReLU(negativeSlope: 0.25).value.floats
        let expected = values.map { $0 * ($0 > 0 ? 1 : Float(0.25)) }
        #expect(zip(y, expected).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }, "\(y)")
        let weights = (0..<37).map { Float($0 % 3) + 1.5 }
        let g = gradients([x], weights: Tensor(shape: [37], scalars: weights.map(Double.init), dtype: .float32)) {
            $0[0].leakyReLU(negativeSlope: 0.25)
        }
        #expect(g[0].floats == zip(values, weights).map { $1 * ($0 > 0 ? 1 : Float(0.25)) })
    }

    @Test func reluGradientOfANaNInputIsTheGradientTimesZero() {
        // As before the one-pass kernel: g · 0 where x is not above 0 (a NaN input gives 0 for a finite g).
        let g = gradients([Tensor([Double.nan, 1])], weights: Tensor([2.0, 3])) { $0[0].relu() }
        #expect(g[0].doubles == [0, 3])
    }

    @Test func absHasZeroGradientAtZero() {
        let g = gradients([Tensor([-2.0, 0, 3, -0.0])], weights: Tensor([1.0, 5, 2, 7])) { $0[0].abs() }
        #expect(mismatch(g[0], shape: [4], [-1, 0, 2, 0]) == nil)
    }

    @Test func signPassesNoGradient() {
        // d(sign(x)·x)/dx = sign(x) exactly when sign contributes nothing (sign' = 0, also at 0).
        let x = Tensor([-2.0, 0, 0.5])
        let g = gradients([x]) { $0[0].sign() * $0[0] }
        #expect(mismatch(g[0], shape: [3], [-1, 0, 1]) == nil)
        let alone = gradients([x]) { $0[0].sign() }
        #expect(mismatch(alone[0], shape: [3], [0, 0, 0]) == nil)
    }

    @Test func clampPassesGradientAtItsBoundaries() {
        let x = Tensor([-1.0, -0.5, 0, 0.5, 1])
        let both = gradients([x], weights: Tensor([2.0, 3, 4, 5, 6])) { $0[0].clamped(min: -0.5, max: 0.5) }
        #expect(mismatch(both[0], shape: [5], [0, 3, 4, 5, 0]) == nil)
        let lower = gradients([x]) { $0[0].clamped(min: 0) }
        #expect(mismatch(lower[0], shape: [5], [0, 0, 1, 1, 1]) == nil)
        let upper = gradients([x]) { $0[0].clamped(max: -0.5) }
        #expect(mismatch(upper[0], shape: [5], [1, 1, 0, 0, 0]) == nil)
        let point = gradients([x]) { $0[0].clamped(min: 0, max: 0) }
        #expect(mismatch(point[0], shape: [5], [0, 0, 1, 0, 0]) == nil)
    }

    @Test func maximumAndMinimumSplitTiesEqually() {
        let a = Tensor([1.0, 2, 3, -1]), b = Tensor([1.0, 0, 3, 4])
        let w = Tensor([2.0, 3, 4, 5])
        let maxGrads = gradients([a, b], weights: w) { Variable.maximum($0[0], $0[1]) }
        #expect(mismatch(maxGrads[0], shape: [4], [1, 3, 2, 0]) == nil)
        #expect(mismatch(maxGrads[1], shape: [4], [1, 0, 2, 5]) == nil)
        let minGrads = gradients([a, b], weights: w) { Variable.minimum($0[0], $0[1]) }
        #expect(mismatch(minGrads[0], shape: [4], [1, 0, 2, 5]) == nil)
        #expect(mismatch(minGrads[1], shape: [4], [1, 3, 2, 0]) == nil)
    }

    @Test func broadcastTieSharesAreSummed() {
        // The scalar ties with two of three elements: it gets g/2 from each tie plus all of the one it wins.
        let a = Tensor([2.0, 2, 1]), s = Tensor(2.0)
        let g = gradients([a, s]) { Variable.maximum($0[0], $0[1]) }
        #expect(mismatch(g[0], shape: [3], [0.5, 0.5, 0]) == nil)
        #expect(mismatch(g[1], shape: [], [2]) == nil)
    }

    @Test func maxAndMinReductionsShareTiedGradients() {
        let x = Tensor(shape: [2, 3], scalars: [1.0, 3, 3, 2, 2, 2])
        let rows = gradients([x], weights: Tensor([6.0, 3])) { $0[0].max(axes: [1]) }
        #expect(mismatch(rows[0], shape: [2, 3], [0, 3, 3, 1, 1, 1]) == nil)
        let kept = gradients([x], weights: Tensor(shape: [2, 1], scalars: [6.0, 3])) { $0[0].max(axes: [1], keepDims: true) }
        #expect(mismatch(kept[0], shape: [2, 3], [0, 3, 3, 1, 1, 1]) == nil)
        let all = gradients([x]) { $0[0].max() }
        #expect(mismatch(all[0], shape: [2, 3], [0, 0.5, 0.5, 0, 0, 0]) == nil)
        let columns = gradients([x]) { $0[0].min(axes: [0]) }
        #expect(mismatch(columns[0], shape: [2, 3], [1, 0, 0, 0, 1, 1]) == nil)
        let allMin = gradients([x]) { $0[0].min() }
        #expect(mismatch(allMin[0], shape: [2, 3], [1, 0, 0, 0, 0, 0]) == nil)
        let constant = gradients([Tensor.full([2, 2], 4, dtype: .float64)]) { $0[0].min() }
        #expect(mismatch(constant[0], shape: [2, 2], [0.25, 0.25, 0.25, 0.25]) == nil)
    }

    @Test func whereSendsGradientOnlyToTheChosenBranch() {
        let condition = Tensor([1.0, 0, 1, 0])
        let a = Tensor([1.0, 2, 3, 4]), b = Tensor([5.0, 6, 7, 8])
        let w = Tensor([2.0, 3, 4, 5])
        let g = gradients([a, b], weights: w) { Variable.where(condition, $0[0], $0[1]) }
        #expect(mismatch(g[0], shape: [4], [2, 0, 4, 0]) == nil)
        #expect(mismatch(g[1], shape: [4], [0, 3, 0, 5]) == nil)
        // A broadcast scalar branch collects the gradient of every position that chose it.
        let s = gradients([a, Tensor(9.0)], weights: w) { Variable.where(condition, $0[0], $0[1]) }
        #expect(mismatch(s[1], shape: [], [8]) == nil)
    }

    @Test func powerGradientWithRespectToExponentIsZeroAtZeroBase() {
        let a = Tensor([0.0, 2, 0]), b = Tensor([2.0, 3, 1.5])
        let g = gradients([a, b]) { Variable.pow($0[0], $0[1]) }
        #expect(mismatch(g[0], shape: [3], [0, 12, 0]) == nil)
        #expect(mismatch(g[1], shape: [3], [0, 8 * log(2.0), 0], atol: 1e-12) == nil)
    }

    @Test func zeroToThePowerZeroHasZeroGradients() {
        // 0⁰ = 1; ∂/∂a = b·aᵇ⁻¹ would be 0·∞ and ∂/∂b = aᵇ·ln a would be 1·(−∞): both are taken as 0 (PyTorch).
        let a = Tensor([0.0, 0, 3]), b = Tensor([0.0, 0, 0])
        let xs = [Variable(a, requiresGrad: true), Variable(b, requiresGrad: true)]
        let y = Variable.pow(xs[0], xs[1])
        #expect(mismatch(y.value, shape: [3], [1, 1, 1]) == nil)
        let g = Graph.gradients(of: y, withRespectTo: xs, seed: Tensor.ones([3], dtype: .float64)).map(\.value)
        #expect(mismatch(g[0], shape: [3], [0, 0, 0]) == nil)
        #expect(mismatch(g[1], shape: [3], [0, 0, log(3.0)]) == nil)
    }

    @Test func constantExponentZeroHasZeroGradientEverywhere() {
        let g = gradients([Tensor([0.0, 2, -3])]) { $0[0].pow(0) }
        #expect(mismatch(g[0], shape: [3], [0, 0, 0]) == nil)
    }
}
