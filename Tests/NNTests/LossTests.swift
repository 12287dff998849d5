import Foundation
import Testing
@testable import NN

private func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-9) -> Bool { Swift.abs(a - b) <= tolerance }

@Suite struct RegressionLossTests {
    let x = Variable(doubles([3], [1, 2, 3]))
    let y = Variable(doubles([3], [0, 2, 5]))

    @Test func valuesByHand() {
        // Differences 1, 0, −2.
        #expect(close(mseLoss(x, y).value.item, 5.0 / 3))
        #expect(mseLoss(x, y, reduction: .sum).value.item == 5)
        #expect(mseLoss(x, y, reduction: .none).value == doubles([3], [1, 0, 4]))
        #expect(l1Loss(x, y).value.item == 1)
        #expect(l1Loss(x, y, reduction: .none).value == doubles([3], [1, 0, 2]))
        // Huber δ = 1 on d = [0.5, −2, 1]: ½·0.25, 1·(2 − ½), 1·(1 − ½).
        let d = Variable(doubles([3], [0.5, -2, 1])), zero = Variable(Tensor.zeros([3], dtype: .float64))
        #expect(huberLoss(d, zero, reduction: .none).value == doubles([3], [0.125, 1.5, 0.5]))
        #expect(close(huberLoss(d, zero, delta: 3).value.item, (0.125 + 2 + 0.5) / 3))
        // Smooth L1 β = 2 on d = [0.5, −3, 2]: ½·0.25/2, 3 − 1, 2 − 1.
        let e = Variable(doubles([3], [0.5, -3, 2]))
        #expect(smoothL1Loss(e, zero, beta: 2, reduction: .sum).value.item == 3.0625)
        #expect(smoothL1Loss(e, zero, beta: 0).value.item == l1Loss(e, zero).value.item)
        // Smooth L1 is Huber / β.
        #expect(isClose(smoothL1Loss(e, zero, beta: 2, reduction: .none).value, huberLoss(e, zero, delta: 2, reduction: .none).value / 2))
        // Module wrappers.
        #expect(MSELoss(reduction: .sum)(x, y).value.item == 5)
        #expect(L1Loss()(x, y).value.item == 1)
        #expect(HuberLoss(delta: 3)(d, zero).value == huberLoss(d, zero, delta: 3).value)
        #expect(SmoothL1Loss(beta: 2)(e, zero).value == smoothL1Loss(e, zero, beta: 2).value)
    }

    @Test func gradcheckInputAndTarget() throws {
        let g = RandomGenerator(seed: 21)
        let a = Tensor.randn([3, 4], dtype: .float64, generator: g), b = Tensor.randn([3, 4], dtype: .float64, generator: g)
        for reduction in [Reduction.mean, .sum, .none] {
            try gradcheck({ mseLoss($0[0], $0[1], reduction: reduction) }, inputs: [a, b])
            try gradcheck({ l1Loss($0[0], $0[1], reduction: reduction) }, inputs: [a, b])
            try gradcheck({ huberLoss($0[0], $0[1], delta: 0.8, reduction: reduction) }, inputs: [a, b])
            try gradcheck({ smoothL1Loss($0[0], $0[1], beta: 0.8, reduction: reduction) }, inputs: [a, b])
        }
        try gradcheck({ mseLoss($0[0], $0[1]) }, inputs: [Tensor(0.3), Tensor(-1.2)])
    }

    @Test func gradientsAtTheKinks() {
        // L1 at d = 0: 0 (sign(0)).
        let zero = doubles([1], [0])
        #expect(gradient(at: zero) { l1Loss($0, Variable(Tensor.zeros([1], dtype: .float64))) }.item == 0)
        // Huber at |d| = δ: δ·sign(d), equal to d (both branches agree).
        let t = Variable(Tensor.zeros([2], dtype: .float64))
        #expect(gradient(at: doubles([2], [0.5, -0.5])) { huberLoss($0, t, delta: 0.5, reduction: .sum) } == doubles([2], [0.5, -0.5]))
        // Smooth L1 at |d| = β: sign(d).
        #expect(gradient(at: doubles([2], [0.5, -0.5])) { smoothL1Loss($0, t, beta: 0.5, reduction: .sum) } == doubles([2], [1, -1]))
    }
}

@Suite struct ClassificationLossTests {
    // Logits [[1, 2, 3], [1, 1, 1]], targets [2, 0]:
    // ℓ₀ = log(e¹ + e² + e³) − 3 = 0.40760596444438…, ℓ₁ = log 3 = 1.09861228866811…
    let logits = doubles([2, 3], [1, 2, 3, 1, 1, 1])
    let l0 = 0.4076059644443806, l1 = 1.0986122886681098

    @Test func crossEntropyByHand() {
        let x = Variable(logits)
        #expect(close(crossEntropy(x, [2, 0]).value.item, (l0 + l1) / 2))
        #expect(close(crossEntropy(x, [2, 0], reduction: .sum).value.item, l0 + l1))
        #expect(isClose(crossEntropy(x, [2, 0], reduction: .none).value, doubles([2], [l0, l1])))
        // Class weights [1, 2, 3]: weighted mean (3ℓ₀ + 1ℓ₁) / (3 + 1).
        let w = doubles([3], [1, 2, 3])
        #expect(close(crossEntropy(x, [2, 0], weight: w).value.item, (3 * l0 + l1) / 4))
        #expect(close(crossEntropy(x, [2, 0], weight: w, reduction: .sum).value.item, 3 * l0 + l1))
        // ignoreIndex: the ignored row leaves the sum and the denominator.
        #expect(close(crossEntropy(x, [2, -100]).value.item, l0))
        #expect(close(crossEntropy(x, [7, 0], ignoreIndex: 7).value.item, l1))
        #expect(close(crossEntropy(x, [2, -100], weight: w).value.item, l0))
        // Label smoothing ε = 0.1 (PyTorch's formula): mean of 0.9ℓᵢ + 0.1/3·Σ_c(−log p_c).
        #expect(close(crossEntropy(x, [2, 0], labelSmoothing: 0.1).value.item, 0.8031091265562449))
        #expect(close(crossEntropy(x, [2, 0], weight: w, labelSmoothing: 0.1).value.item, 0.6309660369392391))
        #expect(close(CrossEntropyLoss(weight: w)(x, [2, 0]).value.item, (3 * l0 + l1) / 4))
    }

    @Test func nllOfLogSoftmaxIsCrossEntropy() {
        let x = Variable(logits)
        #expect(nllLoss(x.logSoftmax(axis: 1), [2, 0]).value == crossEntropy(x, [2, 0]).value)
        #expect(NLLLoss(reduction: .sum)(x.logSoftmax(axis: 1), [2, 0]).value == crossEntropy(x, [2, 0], reduction: .sum).value)
        // NLL on given log-probabilities picks −x[i, tᵢ].
        #expect(nllLoss(Variable(doubles([2, 2], [-0.5, -2, -3, -0.1])), [1, 0], reduction: .none).value == doubles([2], [2, 3]))
    }

    @Test func spatialInputsAndSingleSamples() {
        // [N, C, d] equals moving the class dimension last and flattening.
        let g = RandomGenerator(seed: 8)
        let x = Variable(Tensor.randn([2, 3, 4], dtype: .float64, generator: g))
        let targets = [0, 2, 1, 1, 2, 0, 0, 1]
        let flat = x.permuted([0, 2, 1]).reshaped([8, 3])
        #expect(isClose(crossEntropy(x, targets).value, crossEntropy(flat, targets).value, tolerance: 1e-12))
        #expect(crossEntropy(x, targets, reduction: .none).shape == [2, 4])
        // A single sample [C] with one target.
        let single = crossEntropy(Variable(doubles([3], [1, 2, 3])), [2], reduction: .none)
        #expect(single.shape == [] && close(single.value.item, l0))
    }

    @Test func softTargets() {
        let x = Variable(logits)
        // One-hot probabilities give the index form.
        let oneHot = Variable(doubles([2, 3], [0, 0, 1, 1, 0, 0]))
        #expect(close(crossEntropy(x, probabilities: oneHot).value.item, (l0 + l1) / 2))
        #expect(close(crossEntropy(x, probabilities: oneHot, labelSmoothing: 0.1).value.item, 0.8031091265562449))
    }

    @Test func gradcheckCrossEntropyAndNLL() throws {
        let g = RandomGenerator(seed: 3)
        let x = Tensor.randn([4, 5], dtype: .float64, generator: g)
        let t = [1, 4, -100, 0]
        let w = Tensor.rand([5], dtype: .float64, generator: g) + 0.5
        for reduction in [Reduction.mean, .sum, .none] {
            try gradcheck({ crossEntropy($0[0], t, reduction: reduction) }, inputs: [x])
            try gradcheck({ crossEntropy($0[0], t, weight: w, labelSmoothing: 0.2, reduction: reduction) }, inputs: [x])
            try gradcheck({ nllLoss($0[0], t, weight: w, reduction: reduction) }, inputs: [x])
        }
        try gradcheck({ crossEntropy($0[0], [0, 2, 1, 1, 2, 0], labelSmoothing: 0.1) }, inputs: [Tensor.randn([2, 3, 3], dtype: .float64, generator: g)])
        // Soft targets: differentiable in both.
        let q = Tensor.rand([4, 5], dtype: .float64, generator: g)
        try gradcheck({ crossEntropy($0[0], probabilities: $0[1], weight: w, labelSmoothing: 0.1) }, inputs: [x, q])
        // The gradient of mean cross-entropy is (softmax − onehot) / N.
        let grad = gradient(at: logits) { crossEntropy($0, [2, 0]) }
        let p = logits.softmax(axis: 1)
        #expect(isClose(grad, (p - doubles([2, 3], [0, 0, 1, 1, 0, 0])) / 2, tolerance: 1e-12))
    }
}

@Suite struct BinaryLossTests {
    @Test func bceByHand() {
        let x = Variable(doubles([2], [0.2, 0.9])), y = Variable(doubles([2], [0, 1]))
        // −log 0.8 and −log 0.9.
        #expect(close(binaryCrossEntropy(x, y).value.item, (0.2231435513142097 + 0.10536051565782628) / 2))
        #expect(close(binaryCrossEntropy(x, y, weight: doubles([2], [2, 1]), reduction: .sum).value.item,
                      2 * 0.2231435513142097 + 0.10536051565782628))
        // Certain and wrong: the log is clamped at −100, so the loss is 100, not infinity.
        let certain = binaryCrossEntropy(Variable(doubles([2], [0, 1])), Variable(doubles([2], [1, 0])), reduction: .none)
        #expect(certain.value == doubles([2], [100, 100]))
        // And the gradient is finite, as PyTorch's (it divides by max(x(1 − x), 1e-12)).
        let g = gradient(at: doubles([2], [0, 1])) { binaryCrossEntropy($0, Variable(doubles([2], [1, 0])), reduction: .sum) }
        #expect(g.doubles.allSatisfy { $0.isFinite })
        #expect(g == doubles([2], [-1e12, 1e12]))
        #expect(BCELoss()(x, y).value == binaryCrossEntropy(x, y).value)
    }

    @Test func bceWithLogitsByHand() {
        let x = Variable(doubles([2], [-1, 2])), y = Variable(doubles([2], [1, 0]))
        // log(1 + e¹) and log(1 + e²).
        #expect(close(binaryCrossEntropyWithLogits(x, y).value.item, (1.3132616875182228 + 2.1269280110429722) / 2))
        // posWeight 3 scales the positive term: 3·log(1 + e¹) + log(1 + e²).
        #expect(close(binaryCrossEntropyWithLogits(x, y, posWeight: doubles([1], [3]), reduction: .sum).value.item,
                      3 * 1.3132616875182228 + 2.1269280110429722))
        // Stable for huge logits.
        let huge = binaryCrossEntropyWithLogits(Variable(doubles([2], [1000, -1000])), Variable(doubles([2], [0, 1])), reduction: .none)
        #expect(huge.value == doubles([2], [1000, 1000]))
        // Equals BCE of the sigmoid where both are accurate.
        let z = Variable(doubles([3], [-2, 0.3, 1.5])), t = Variable(doubles([3], [0.2, 1, 0]))
        #expect(close(binaryCrossEntropyWithLogits(z, t).value.item, binaryCrossEntropy(z.sigmoid(), t).value.item, 1e-12))
        #expect(BCEWithLogitsLoss(posWeight: doubles([1], [3]))(x, y).value
                == binaryCrossEntropyWithLogits(x, y, posWeight: doubles([1], [3])).value)
    }

    @Test func bceWithLogitsGradientAtZeroIsSigmoidMinusTarget() {
        let t = Variable(doubles([2], [1, 0.25]))
        #expect(gradient(at: doubles([2], [0, 0])) { binaryCrossEntropyWithLogits($0, t, reduction: .sum) } == doubles([2], [-0.5, 0.25]))
    }

    @Test func gradcheckInputsAndTargets() throws {
        let g = RandomGenerator(seed: 12)
        let p = Tensor.uniform([3, 4], low: 0.05, high: 0.95, dtype: .float64, generator: g)
        let y = Tensor.rand([3, 4], dtype: .float64, generator: g)
        let logits = Tensor.randn([3, 4], dtype: .float64, generator: g) * 3
        let w = Tensor.rand([4], dtype: .float64, generator: g) + 0.5
        for reduction in [Reduction.mean, .sum, .none] {
            try gradcheck({ binaryCrossEntropy($0[0], $0[1], weight: w, reduction: reduction) }, inputs: [p, y])
            try gradcheck({ binaryCrossEntropyWithLogits($0[0], $0[1], reduction: reduction) }, inputs: [logits, y])
            try gradcheck({ binaryCrossEntropyWithLogits($0[0], $0[1], weight: w, posWeight: w * 2, reduction: reduction) }, inputs: [logits, y])
        }
    }
}
