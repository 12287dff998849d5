import Testing
@testable import NN

// Gradients only where asked, through layers: BatchNorm's op skips the gradients not needed in both of its
// backward passes, and `Graph.gradients(of:withRespectTo:)` through Conv2d, BatchNorm2d and Linear gives the full
// backward's values for any subset of variables, at first and second order.

/// A network of every layer whose op has a masked backward, in Double: conv(2→3, 3×3, p1) → BatchNorm2d →
/// leakyReLU 0.2 → conv(3→4, 3×3, s2, p1) → leakyReLU 0.2 → flatten 36 → Linear 36→1. BatchNorm's weight and bias
/// are random, not 1 and 0, so that their gradients are not special.
private func network(seed: UInt64) -> Sequential {
    let generator = RandomGenerator(seed: seed)
    let norm = BatchNorm2d(3, dtype: .float64)
    norm.weight!.value = Tensor.uniform([3], low: 0.5, high: 1.5, dtype: .float64, generator: generator)
    norm.bias!.value = Tensor.uniform([3], low: -0.5, high: 0.5, dtype: .float64, generator: generator)
    return Sequential(Conv2d(2, 3, kernelSize: 3, padding: 1, dtype: .float64, generator: generator), norm,
                      LeakyReLU(negativeSlope: 0.2),
                      Conv2d(3, 4, kernelSize: 3, stride: 2, padding: 1, dtype: .float64, generator: generator),
                      LeakyReLU(negativeSlope: 0.2), Flatten(), Linear(36, 1, dtype: .float64, generator: generator))
}

private let images = Tensor.randn([4, 2, 6, 6], dtype: .float64, generator: RandomGenerator(seed: 40))

/// Expects `actual` to be `expected` within `tolerance`, relative to the larger magnitude of `expected` (at least 1).
private func expectSame(_ actual: Tensor?, _ expected: Tensor?, _ what: String, tolerance: Double = 1e-10,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    guard let actual, let expected else {
        Issue.record("\(what): gradient missing", sourceLocation: sourceLocation)
        return
    }
    let scale = Swift.max(1, expected.doubles.map(Swift.abs).max() ?? 0)
    #expect(actual.shape == expected.shape && isClose(actual, expected, tolerance: tolerance * scale),
            "\(what): \(actual) vs \(expected)", sourceLocation: sourceLocation)
}

/// Whether `t` exists and has an element of magnitude above 1e-8.
private func hasNonzero(_ t: Tensor?) -> Bool {
    guard let t else { return false }
    return t.doubles.contains { Swift.abs($0) > 1e-8 }
}

@Suite struct GradientSelectionLayerTests {
    @Test(arguments: [false, true])
    func batchNormSkipsTheGradientsNotNeeded(recorded: Bool) {
        let x = Variable(images, requiresGrad: true)
        let weight = Variable(Tensor(shape: [2], scalars: [0.7, 1.3] as [Double]), requiresGrad: true)
        let bias = Variable(Tensor(shape: [2], scalars: [0.2, -0.1] as [Double]), requiresGrad: true)
        let op = BatchNormTraining(eps: 1e-5)
        let y = op(x, weight, bias)
        let g = Variable(Tensor.randn(y.shape, dtype: .float64, generator: RandomGenerator(seed: 41)))
        // The engine runs a backward recorded (createGraph) or not; BatchNorm has a pass for each.
        func run(_ body: () -> Void) { recorded ? Graph.enableGrad(body) : Graph.noGrad(body) }
        run {
            let full = op.backward(g, inputs: [x, weight, bias], output: y, needed: [true, true, true])
            for bits in 1..<8 {
                let needed = (0..<3).map { bits & (1 << $0) != 0 }
                let got = op.backward(g, inputs: [x, weight, bias], output: y, needed: needed)
                for i in 0..<3 {
                    if needed[i] {
                        expectSame(got[i]?.value, full[i]?.value, "input \(i), mask \(needed)")
                    } else {
                        #expect(got[i] == nil, "input \(i)'s gradient computed for mask \(needed)")
                    }
                }
            }
        }
    }

    @Test func subsetsThroughConvolutionBatchNormAndLinearMatchTheFullBackward() {
        let reference = network(seed: 1)
        let x = Variable(images, requiresGrad: true)
        reference(x).squared().sum().backward()
        let expected = [x.grad] + reference.parameters().map(\.grad)

        // The input alone (as a gradient penalty asks), one layer's parameters, and everything.
        for chosen in [[0], [1], [2], [3, 4], [7], [0, 5], Array(0..<expected.count)] {
            let model = network(seed: 1)
            let input = Variable(images, requiresGrad: true)
            let variables = [input] + model.parameters()
            let gradients = Graph.gradients(of: model(input).squared().sum(), withRespectTo: chosen.map { variables[$0] })
            for (k, i) in chosen.enumerated() {
                expectSame(gradients[k].value, expected[i], "variable \(i) requested with \(chosen)")
            }
            #expect(variables.allSatisfy { $0.grad == nil })
        }
    }

    /// `mean (‖∂ΣD/∂x‖ − 1)²` with the input gradient taken alone, or with every parameter's (the full computation).
    private static func penalty(_ model: Sequential, alone: Bool) -> Variable {
        let x = Variable(images, requiresGrad: true)
        let score = model(x).sum()
        let gx = Graph.gradients(of: score, withRespectTo: alone ? [x] : [x] + model.parameters(), createGraph: true)[0]
        let norms = (gx.reshaped([images.shape[0], -1]).squared().sum(axes: [1]) + 1e-12).sqrt()
        return (norms - 1).squared().mean()
    }

    @Test func gradientPenaltyThroughBatchNormMatchesTheFullComputation() throws {
        let reference = network(seed: 2)
        let referencePenalty = Self.penalty(reference, alone: false)
        try #require(referencePenalty.requiresGrad)
        referencePenalty.backward()
        let model = network(seed: 2)
        let penalty = Self.penalty(model, alone: true)
        expectSame(penalty.value, referencePenalty.value, "penalty")
        try #require(penalty.requiresGrad)
        penalty.backward()
        // Parameters in pairs (weight, bias). The input gradient does not depend on the last two biases
        // (leakyReLU's slopes are piecewise constant, BatchNorm removes a shift): they get no gradient in either
        // computation. Every weight gets one, never a vacuous one.
        for (k, (p, r)) in zip(model.parameters(), reference.parameters()).enumerated() {
            if k % 2 == 0 { #expect(hasNonzero(r.grad), "weight \(k)") }
            if r.grad == nil && p.grad == nil { continue }
            expectSame(p.grad, r.grad, "parameter \(k)", tolerance: 1e-9)
        }
    }
}
