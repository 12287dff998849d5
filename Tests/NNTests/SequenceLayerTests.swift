import Foundation
import Testing
@testable import NN

// Conv1d and Upsample against PyTorch's modules (state dicts loaded strictly both ways, outputs within 1e-5), their
// initialisation; klDiv / KLDivLoss and cosineSimilarity / CosineSimilarity by finite differences and against
// PyTorch's functions, with their edge cases pinned.

/// Whether every element of `a` is within `tolerance` of `b`, relative to `b`'s largest magnitude (at least 1).
private func agree(_ a: Tensor, _ b: Tensor, tolerance: Double = 1e-5) -> Bool {
    let scale = Swift.max(1, b.doubles.map(Swift.abs).max() ?? 0)
    return a.shape == b.shape && zip(a.doubles, b.doubles).allSatisfy { Swift.abs($0 - $1) <= tolerance * scale }
}

private let torchMissing: Comment = "torch is not importable: pip install torch==2.13.0+cpu"

@Suite struct Conv1dLayerTests {
    @Test func initIsUniformWithinOneOverRootFanInAndKeysArePyTorchs() {
        let conv = Conv1d(4, 6, kernelSize: 5, groups: 2, generator: RandomGenerator(seed: 3))
        let bound = 1 / Foundation.sqrt(2.0 * 5)
        #expect(conv.weight.shape == [6, 2, 5] && conv.bias?.shape == [6])
        #expect(conv.weight.value.doubles.allSatisfy { Swift.abs($0) <= bound } && conv.weight.value.doubles.contains { Swift.abs($0) > 0.8 * bound })
        #expect(conv.bias!.value.doubles.allSatisfy { Swift.abs($0) <= bound })
        #expect(Set(conv.stateDict().keys) == ["weight", "bias"])
        #expect(Conv1d(2, 3, kernelSize: 1, bias: false).stateDict().keys.sorted() == ["weight"])
        // Unbatched input: [C, L] → [O, Lo].
        let x = Tensor.randn([4, 9], generator: RandomGenerator(seed: 4))
        let single = conv(Variable(x)).value, batched = conv(Variable(x.unsqueezed(axis: 0))).value
        #expect(single.shape == [6, 5] && single == batched.squeezed(axis: 0))
        #expect(conv.summary == "4, 6, kernelSize: 5, stride: 1, padding: valid, groups: 2, bias: true")
    }

    @Test(.enabled(if: TorchLayerReference.isAvailable, torchMissing))
    func stateDictsMoveBothWaysAndOutputsMatchTorch() throws {
        let cases: [(torch: String, layer: () -> Conv1d, input: [Int])] = [
            ("torch.nn.Conv1d(3, 4, 3)", { Conv1d(3, 4, kernelSize: 3) }, [2, 3, 10]),
            ("torch.nn.Conv1d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2)",
             { Conv1d(4, 6, kernelSize: 3, stride: 2, padding: 1, dilation: 2, groups: 2) }, [2, 4, 11]),
            ("torch.nn.Conv1d(2, 5, 4, padding='same', bias=False)", { Conv1d(2, 5, kernelSize: 4, padding: .same, bias: false) }, [1, 2, 7]),
        ]
        for (i, c) in cases.enumerated() {
            let x = Tensor.randn(c.input, generator: RandomGenerator(seed: 10 + UInt64(i)))
            // PyTorch's initial state loads strictly here and gives the same output.
            let theirs = try #require(try TorchModuleReference.module(c.torch, x: x, seed: i))
            let layer = c.layer()
            try layer.loadStateDict(theirs.state, strict: true)
            #expect(agree(layer(Variable(x)).value, theirs.output), "\(c.torch): output with torch's state")
            // Our freshly initialised state loads strictly into PyTorch and gives our output.
            let ours = c.layer()
            let back = try #require(try TorchModuleReference.module(c.torch, x: x, state: ours.stateDict(), seed: i))
            #expect(agree(ours(Variable(x)).value, back.output), "\(c.torch): output with our state")
            #expect(Set(back.state.keys) == Set(ours.stateDict().keys))
        }
    }

    @Test func wrongInputsTrapNamingTheLayer() async {
        await #expect(processExitsWith: .failure) { _ = Conv1d(3, 4, kernelSize: 3)(Variable(Tensor.zeros([2, 2, 10]))) }
        await #expect(processExitsWith: .failure) { _ = Conv1d(3, 4, kernelSize: 3, stride: 2, padding: .same) }
    }
}

@Suite struct UpsampleLayerTests {
    @Test func optionsReachTheFunction() {
        let x = Variable(Tensor.randn([1, 2, 3, 4], dtype: .float64, generator: RandomGenerator(seed: 1)))
        #expect(Upsample(scaleFactor: 2)(x).value == x.upsample(scaleFactor: 2).value)
        #expect(Upsample(size: [5, 7], mode: .bilinear, alignCorners: true)(x).value == x.upsample(size: [5, 7], mode: .bilinear, alignCorners: true).value)
        #expect(Upsample(size: [6])(x).shape == [1, 2, 6, 6])
        #expect(Upsample(scaleFactor: 2).stateDict().isEmpty && Upsample(scaleFactor: 2).parameters().isEmpty)
        #expect(Upsample(scaleFactors: [2, 1.5], mode: .bilinear).summary == "scaleFactor: [2.0, 1.5], mode: bilinear")
    }

    @Test(.enabled(if: TorchLayerReference.isAvailable, torchMissing))
    func outputsMatchTorch() throws {
        let cases: [(torch: String, layer: Upsample, input: [Int])] = [
            ("torch.nn.Upsample(scale_factor=2)", Upsample(scaleFactor: 2), [2, 3, 4, 5]),
            ("torch.nn.Upsample(size=(7, 5), mode='bilinear')", Upsample(size: [7, 5], mode: .bilinear), [1, 2, 3, 4]),
            ("torch.nn.Upsample(scale_factor=1.5, mode='bilinear', align_corners=True)",
             Upsample(scaleFactor: 1.5, mode: .bilinear, alignCorners: true), [1, 2, 4, 4]),
            ("torch.nn.Upsample(size=9, mode='linear')", Upsample(size: [9], mode: .linear), [2, 2, 4]),
            ("torch.nn.Upsample(scale_factor=3, mode='nearest')", Upsample(scaleFactor: 3), [1, 2, 5]),
        ]
        for (i, c) in cases.enumerated() {
            let x = Tensor.randn(c.input, generator: RandomGenerator(seed: 20 + UInt64(i)))
            let theirs = try #require(try TorchModuleReference.module(c.torch, x: x, state: [:]))
            #expect(theirs.state.isEmpty)
            try c.layer.loadStateDict(theirs.state, strict: true)
            #expect(agree(c.layer(Variable(x)).value, theirs.output), "\(c.torch)")
        }
    }
}

@Suite struct KLDivTests {
    private let reductions: [(KLDivReduction, String)] = [(.mean, "mean"), (.sum, "sum"), (.batchMean, "batchmean"), (.none, "none")]

    @Test func gradientsMatchFiniteDifferences() throws {
        let g = RandomGenerator(seed: 30)
        let input = Tensor.randn([3, 4], dtype: .float64, generator: g).logSoftmax(axis: 1)
        let target = Tensor.uniform([3, 4], low: 0.1, high: 1, dtype: .float64, generator: g)
        for (reduction, name) in reductions {
            try gradcheck({ klDiv($0[0], $0[1], reduction: reduction) }, inputs: [input, target])
            try gradgradcheck({ klDiv($0[0], $0[1], reduction: reduction) }, inputs: [input, target])
            try gradcheck({ klDiv($0[0], $0[1], reduction: reduction, logTarget: true) }, inputs: [input, target.log()])
            try gradgradcheck({ klDiv($0[0], $0[1], reduction: reduction, logTarget: true) }, inputs: [input, target.log()])
            _ = name
        }
    }

    /// Zero targets contribute exactly 0 (no NaN from 0·log 0); their gradient is −x (PyTorch's is NaN).
    @Test func zeroTargetsContributeNothing() {
        let input = Variable(doubles([1, 3], [-1, -2, -0.5]), requiresGrad: true)
        let target = Variable(doubles([1, 3], [0, 0.25, 0.75]), requiresGrad: true)
        let loss = klDiv(input, target, reduction: .none)
        #expect(isClose(loss.value, doubles([1, 3], [0, 0.25 * (Foundation.log(0.25) + 2), 0.75 * (Foundation.log(0.75) + 0.5)]), tolerance: 1e-15))
        loss.sum().backward()
        #expect(input.grad!.doubles == [0, -0.25, -0.75])
        #expect(target.grad!.doubles[0] == 1 && target.grad!.doubles.allSatisfy { $0.isFinite })
        #expect(KLDivLoss(reduction: .batchMean)(input, target).value.item == loss.value.sum().item)
    }

    @Test(.enabled(if: TorchLayerReference.isAvailable, torchMissing))
    func matchesTorch() throws {
        let g = RandomGenerator(seed: 31)
        let input = Tensor.randn([3, 4], dtype: .float64, generator: g).logSoftmax(axis: 1)
        var target = Tensor.randn([3, 4], dtype: .float64, generator: g).softmax(axis: 1).doubles
        target[5] = 0
        let t = Tensor(shape: [3, 4], scalars: target)
        for (reduction, name) in reductions {
            for logTarget in [false, true] {
                let target = logTarget ? Tensor.randn([3, 4], dtype: .float64, generator: g) : t
                let xs = [input, target].map { Variable($0, requiresGrad: true) }
                let y = klDiv(xs[0], xs[1], reduction: reduction, logTarget: logTarget)
                let seed = Tensor.randn(y.shape, dtype: .float64, generator: g)
                let grads = Graph.gradients(of: y, withRespectTo: xs, seed: seed)
                let expression = "torch.nn.functional.kl_div(x[0], x[1], reduction='\(name)', log_target=\(logTarget ? "True" : "False"))"
                let theirs = try #require(try TorchModuleReference.function(expression, [input, target], seed: seed))
                #expect(agree(y.value, theirs.output, tolerance: 1e-12), "\(expression)")
                // The input's gradient everywhere; the target's where it is positive, and at t = 0 PyTorch's NaN
                // against our finite −x (the documented choice, checked exactly in zeroTargetsContributeNothing).
                #expect(agree(grads[0].value, theirs.gradients[0], tolerance: 1e-12), "\(expression): input gradient")
                let positive = logTarget ? Tensor.ones([3, 4], dtype: .float64) : (target .> 0)
                let (ours, reference) = (grads[1].value.doubles, theirs.gradients[1].doubles)
                let kept = positive.doubles.indices.filter { positive.doubles[$0] != 0 }
                #expect(agree(Tensor(kept.map { ours[$0] }), Tensor(kept.map { reference[$0] }), tolerance: 1e-12), "\(expression): target gradient")
                if !logTarget { #expect(reference[5].isNaN && ours[5].isFinite, "\(expression): target gradient at t = 0") }
            }
        }
    }
}

@Suite struct DivergenceTrapTests {
    @Test func badShapesTrapNamingTheFunction() async {
        await #expect(processExitsWith: .failure) { _ = klDiv(Variable(Tensor.zeros([2, 3])), Variable(Tensor.zeros([3, 2]))) }
        await #expect(processExitsWith: .failure) { _ = klDiv(Variable(Tensor(0.5)), Variable(Tensor(0.5)), reduction: .batchMean) }
        await #expect(processExitsWith: .failure) { _ = cosineSimilarity(Variable(Tensor.zeros([2, 3])), Variable(Tensor.zeros([2, 4]))) }
    }
}

@Suite struct CosineSimilarityTests {
    @Test func gradientsMatchFiniteDifferences() throws {
        let g = RandomGenerator(seed: 40)
        let cases: [([Int], [Int], Int)] = [([3, 4], [3, 4], 1), ([3, 4], [3, 4], 0), ([2, 3, 4], [3, 4], -1), ([4, 1], [1, 5], 0), ([5], [5], 0)]
        for (a, b, axis) in cases {
            let inputs = [Tensor.randn(a, dtype: .float64, generator: g), Tensor.randn(b, dtype: .float64, generator: g)]
            try gradcheck({ cosineSimilarity($0[0], $0[1], axis: axis) }, inputs: inputs)
            try gradgradcheck({ cosineSimilarity($0[0], $0[1], axis: axis) }, inputs: inputs)
        }
    }

    /// PyTorch 2's formula: each vector normalised with its norm clamped at eps; a zero vector gives 0 and
    /// gradient 0 for its partner, and the result stays within [−1, 1] for parallel vectors.
    @Test func edgeCasesFollowPyTorch2() {
        let a = Variable(doubles([2, 3], [0, 0, 0, 1e30, 2e30, -1e30]), requiresGrad: true)
        let b = Variable(doubles([2, 3], [1, 2, 3, 1e30, 2e30, -1e30]), requiresGrad: true)
        let y = CosineSimilarity()(a, b)
        #expect(y.value.doubles[0] == 0 && Swift.abs(y.value.doubles[1] - 1) < 1e-15 && y.value.doubles[1] <= 1)
        y.sum().backward()
        #expect(b.grad!.doubles[0..<3].allSatisfy { $0 == 0 })
        #expect(a.grad!.doubles.allSatisfy { $0.isFinite })
    }

    @Test(.enabled(if: TorchLayerReference.isAvailable, torchMissing))
    func matchesTorch() throws {
        let g = RandomGenerator(seed: 41)
        var small = Tensor.randn([3, 4], dtype: .float64, generator: g).doubles
        for j in 0..<4 { small[j] = 0; small[4 + j] *= 1e-9 }   // a zero vector and one with its norm below eps
        let cases: [(Tensor, Tensor, Int, Double)] = [
            (Tensor.randn([3, 4], dtype: .float64, generator: g), Tensor.randn([3, 4], dtype: .float64, generator: g), 1, 1e-8),
            (Tensor(shape: [3, 4], scalars: small), Tensor.randn([3, 4], dtype: .float64, generator: g), 1, 1e-8),
            (Tensor.randn([2, 3, 4], dtype: .float64, generator: g), Tensor.randn([3, 4], dtype: .float64, generator: g), -1, 1e-8),
            (Tensor.randn([4, 1], dtype: .float64, generator: g), Tensor.randn([1, 5], dtype: .float64, generator: g), 0, 0.5),
        ]
        for (a, b, axis, eps) in cases {
            let xs = [a, b].map { Variable($0, requiresGrad: true) }
            let y = cosineSimilarity(xs[0], xs[1], axis: axis, eps: eps)
            let seed = Tensor.randn(y.shape, dtype: .float64, generator: g)
            let grads = Graph.gradients(of: y, withRespectTo: xs, seed: seed)
            let expression = "torch.nn.functional.cosine_similarity(x[0], x[1], dim=\(axis), eps=\(eps))"
            let theirs = try #require(try TorchModuleReference.function(expression, [a, b], seed: seed))
            #expect(agree(y.value, theirs.output, tolerance: 1e-12), "\(expression) on \(a.shape), \(b.shape)")
            #expect(agree(grads[0].value, theirs.gradients[0], tolerance: 1e-9), "\(expression): gradient of a")
            #expect(agree(grads[1].value, theirs.gradients[1], tolerance: 1e-9), "\(expression): gradient of b")
        }
    }
}
