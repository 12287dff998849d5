import Testing
@testable import NN

// The fused group normalisation (`GroupNormalization`, behind `groupNorm` and `GroupNorm`): its forward against the
// formula composed from Variable operations in Double, its fused backward against finite differences and the composed
// gradients (Float and Double), the recorded backward that second-order gradients use, and the layer's defaults.
// PyTorch comparisons are in TorchLayerComparisonTests.

/// Group normalisation composed from differentiable operations.
private func composedGroupNorm(_ x: Variable, groups: Int, weight: Variable?, bias: Variable?, eps: Double) -> Variable {
    let shape = x.shape, grouped = x.reshaped([shape[0], groups, -1])
    let c = grouped - grouped.mean(axes: [2], keepDims: true)
    var y = (c * (c.squared().mean(axes: [2], keepDims: true) + eps).pow(-0.5)).reshaped(shape)
    let channelShape = [1, shape[1]] + Array(repeating: 1, count: shape.count - 2)
    if let weight { y = y * weight.reshaped(channelShape) }
    if let bias { y = y + bias.reshaped(channelShape) }
    return y
}

private struct Case: CustomStringConvertible {
    let shape: [Int]
    let groups: Int
    let weight: Bool
    let bias: Bool
    var description: String { "GroupNorm \(shape) groups \(groups) weight \(weight) bias \(bias)" }
}

/// Groups of one channel, of all channels and in between; no spatial dimension, one, two; segments shorter and
/// longer than eight (with tails); a batch of one.
private let cases: [Case] = [([2, 4, 3], 2), ([3, 6], 3), ([2, 6, 2, 3], 3), ([1, 4, 5], 1), ([2, 3, 11], 3), ([2, 2, 9], 1)]
    .flatMap { s in [(true, true), (true, false), (false, false)].map { Case(shape: s.0, groups: s.1, weight: $0.0, bias: $0.1) } }

private func values(_ c: Case, dtype: DType = .float64, seed: UInt64) -> [Tensor] {
    let x = Tensor.randn(c.shape, dtype: dtype, generator: RandomGenerator(seed: seed)) * 1.7 + 0.4
    var result = [x]
    if c.weight { result.append(Tensor.uniform([c.shape[1]], low: 0.5, high: 1.5, dtype: dtype, generator: RandomGenerator(seed: seed + 1))) }
    if c.bias { result.append(Tensor.uniform([c.shape[1]], low: -0.5, high: 0.5, dtype: dtype, generator: RandomGenerator(seed: seed + 2))) }
    return result
}

private func function(_ c: Case, fused: Bool) -> ([Variable]) -> Variable {
    { v in
        let w = c.weight ? v[1] : nil, b = c.bias ? v.last : nil
        return fused ? groupNorm(v[0], numGroups: c.groups, weight: w, bias: b) : composedGroupNorm(v[0], groups: c.groups, weight: w, bias: b, eps: 1e-5)
    }
}

private func agree(_ a: Tensor, _ b: Tensor, tolerance: Double) -> Bool {
    let scale = Swift.max(1, b.doubles.map(Swift.abs).max() ?? 0)
    return isClose(a, b, tolerance: tolerance * scale)
}

@Suite struct GroupNormTests {
    @Test(arguments: [DType.float64, .float32])
    func forwardMatchesTheComposedFormula(dtype: DType) {
        let tolerance = dtype == .float64 ? 1e-12 : 1e-6
        let large = Case(shape: [8, 32, 16, 16], groups: 4, weight: true, bias: true)   // splits over threads
        for (k, c) in (cases + [large]).enumerated() {
            let inputs = values(c, dtype: dtype, seed: UInt64(k))
            let y = function(c, fused: true)(inputs.map { Variable($0) })
            #expect(y.dtype == dtype && y.shape == c.shape, "\(c)")
            let expected = function(c, fused: false)(inputs.map { Variable($0.to(.float64)) }).value
            #expect(agree(y.value, expected, tolerance: tolerance), "\(c) \(dtype)")
        }
    }

    @Test func floatStatisticsStayAccurateFarFromZero() {
        let x = (Tensor.randn([4, 8, 16], dtype: .float64, generator: RandomGenerator(seed: 3)) * 0.01 + 1000).to(.float32)
        let y = groupNorm(Variable(x), numGroups: 2).value
        let expected = composedGroupNorm(Variable(x.to(.float64)), groups: 2, weight: nil, bias: nil, eps: 1e-5).value
        #expect(agree(y, expected, tolerance: 2e-4))
    }

    @Test func fusedGradientsMatchFiniteDifferences() throws {
        for (k, c) in cases.enumerated() {
            let inputs = values(c, seed: UInt64(10 + k))
            _ = try gradcheck(function(c, fused: true), inputs: inputs, name: "\(c)")
            for i in inputs.indices where inputs.count > 1 {
                let checking = inputs.indices.map { $0 == i }
                _ = try gradcheck(function(c, fused: true), inputs: inputs, checking: checking, name: "\(c) checking \(checking)")
            }
        }
    }

    @Test func secondOrderGradientsGoThroughTheRecordedBackward() throws {
        for (k, c) in cases.enumerated() {
            _ = try gradgradcheck(function(c, fused: true), inputs: values(c, seed: UInt64(20 + k)), name: "\(c)")
        }
    }

    @Test(arguments: [DType.float64, .float32])
    func fusedBackwardMatchesTheComposedGradients(dtype: DType) {
        let (fusedTolerance, recordedTolerance) = dtype == .float64 ? (1e-11, 1e-11) : (1e-5, 1e-4)
        let large = Case(shape: [8, 32, 16, 16], groups: 4, weight: true, bias: true)
        for (k, c) in (cases + [large]).enumerated() {
            let inputs = values(c, dtype: dtype, seed: UInt64(30 + k)).map { Variable($0, requiresGrad: true) }
            let seed = Tensor.randn(c.shape, dtype: dtype, generator: RandomGenerator(seed: UInt64(40 + k)))
            let f = function(c, fused: true)
            let fused = Graph.gradients(of: f(inputs), withRespectTo: inputs, seed: seed)
            let recorded = Graph.gradients(of: f(inputs), withRespectTo: inputs, seed: seed, createGraph: true)
            let exact = inputs.map { Variable($0.value.to(.float64), requiresGrad: true) }
            let composed = Graph.gradients(of: function(c, fused: false)(exact), withRespectTo: exact, seed: seed.to(.float64))
            #expect(fused.allSatisfy { !$0.requiresGrad } && recorded[0].requiresGrad)
            for i in inputs.indices {
                #expect(fused[i].dtype == dtype && fused[i].shape == inputs[i].shape)
                #expect(agree(fused[i].value, composed[i].value, tolerance: fusedTolerance), "\(c) \(dtype) input \(i)")
                #expect(agree(recorded[i].value, composed[i].value, tolerance: recordedTolerance), "\(c) \(dtype) input \(i)")
            }
        }
    }

    @Test func aKnownGroup() {
        // One sample, two groups of one channel each: [1, 2, 3, 4] and [10, 10, 10, 10] with ε = 0 … a constant
        // group has σ² = 0, so ε = 1 there keeps it finite: (x − μ)/√1 = 0.
        let x = Variable(Tensor(shape: [1, 2, 4], scalars: [1, 2, 3, 4, 10, 10, 10, 10] as [Double]))
        let y = groupNorm(x, numGroups: 2, eps: 0).value.doubles
        let s = 1.25.squareRoot()
        #expect(zip(y.prefix(4), [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s]).allSatisfy { Swift.abs($0 - $1) <= 1e-15 })
        #expect(groupNorm(x, numGroups: 2, eps: 1).value.doubles.suffix(4) == [0, 0, 0, 0])
        // Empty batches and empty positions give empty outputs and zero parameter gradients.
        let empty = Variable(Tensor.zeros([0, 4, 3], dtype: .float64), requiresGrad: true)
        let w = Variable(Tensor.ones([4], dtype: .float64), requiresGrad: true)
        let out = groupNorm(empty, numGroups: 2, weight: w)
        #expect(out.shape == [0, 4, 3])
        out.sum().backward()
        #expect(w.grad == Tensor.zeros([4], dtype: .float64) && empty.grad?.shape == [0, 4, 3])
    }

    @Test func badShapesTrap() async {
        await #expect(processExitsWith: .failure) { _ = groupNorm(Variable(Tensor.zeros([2, 6, 3])), numGroups: 4) }
        await #expect(processExitsWith: .failure) { _ = GroupNorm(numGroups: 2, numChannels: 4)(Variable(Tensor.zeros([2, 6]))) }
        await #expect(processExitsWith: .failure) { _ = GroupNorm(numGroups: 3, numChannels: 4) }
        await #expect(processExitsWith: .failure) {
            _ = groupNorm(Variable(Tensor.zeros([2, 4])), numGroups: 2, weight: Variable(Tensor.ones([2])))
        }
    }

    @Test func layerHasPyTorchsDefaultsAndKeys() throws {
        let norm = GroupNorm(numGroups: 2, numChannels: 4)
        #expect(norm.stateDict().keys.sorted() == ["bias", "weight"] && norm.eps == 1e-5)
        #expect(norm.weight!.value == Tensor.ones([4]) && norm.bias!.value == Tensor.zeros([4]))
        #expect(GroupNorm(numGroups: 1, numChannels: 3, affine: false).stateDict().isEmpty)
        #expect(norm.description == "GroupNorm(2, 4, eps: 1e-05, affine: true)")
        // Strict state-dict round trip.
        for p in norm.parameters() { p.value = Tensor.randn(p.shape, generator: RandomGenerator(seed: 5)) }
        let copy = GroupNorm(numGroups: 2, numChannels: 4)
        try copy.loadStateDict(norm.stateDict())
        #expect(copy.weight!.value == norm.weight!.value && copy.bias!.value == norm.bias!.value)
    }
}
