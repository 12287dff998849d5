import Testing
@testable import NN

// The fused batch-statistics op behind BatchNorm1d/2d in training: its forward and statistics against the
// formula composed from Variable operations, its fused first-order backward (finite differences and the
// composed formula's gradients), and the recorded backward that second-order gradients go through.

/// Batch normalisation with batch statistics built from differentiable operations (the unfused formula).
private func composedBatchNorm(_ x: Variable, _ weight: Variable?, _ bias: Variable?, eps: Double = 1e-5) -> Variable {
    let axes = [0] + Array(2..<x.rank)
    let channelShape = [1, x.shape[1]] + Array(repeating: 1, count: x.rank - 2)
    let centered = x - x.mean(axes: axes, keepDims: true)
    let inverseStd = (centered.squared().mean(axes: axes, keepDims: true) + eps).pow(-0.5)
    guard let weight, let bias else { return centered * inverseStd }
    return centered * inverseStd * weight.reshaped(channelShape) + bias.reshaped(channelShape)
}

/// The fused op applied to `x`, with `weight` and `bias` when given.
private func fusedBatchNorm(_ x: Variable, _ weight: Variable?, _ bias: Variable?, eps: Double = 1e-5) -> Variable {
    let op = BatchNormTraining(eps: eps)
    if let weight, let bias { return op(x, weight, bias) }
    return op(x)
}

/// A `[N, C, …]` tensor whose channels have different means and spreads, plus a weight and bias of shape `[C]`.
private func batch(_ shape: [Int], dtype: DType = .float64, seed: UInt64) -> (x: Tensor, weight: Tensor, bias: Tensor) {
    let c = shape[1]
    let channelShape = [1, c] + Array(repeating: 1, count: shape.count - 2)
    let offset = Tensor(shape: channelShape, scalars: (0..<c).map { Double($0 % 8) * 1.5 - 1 }, dtype: dtype)
    let spread = Tensor(shape: channelShape, scalars: (0..<c).map { 0.5 + Double($0 % 4) }, dtype: dtype)
    let x = Tensor.randn(shape, dtype: dtype, generator: RandomGenerator(seed: seed)) * spread + offset
    let weight = Tensor(shape: [c], scalars: (0..<c).map { 0.6 + 0.3 * Double($0 % 5) }, dtype: dtype)
    let bias = Tensor(shape: [c], scalars: (0..<c).map { 0.1 * Double($0 % 7) - 0.2 }, dtype: dtype)
    return (x, weight, bias)
}

/// Whether `a` and `b` agree within `tolerance` relative to the larger magnitude of `b` (at least 1).
private func agree(_ a: Tensor, _ b: Tensor, tolerance: Double) -> Bool {
    let scale = Swift.max(1, b.doubles.map(Swift.abs).max() ?? 0)
    return isClose(a, b, tolerance: tolerance * scale)
}

@Suite struct BatchNormOpTests {
    /// `[N, C]` (with fewer and more than eight channels: the kernels take eight at a time), `[N, C, L]` and
    /// `[N, C, H, W]` (runs shorter than eight, of whole sixteens, and of 25 and 49: sixteens, then eight, then a
    /// tail of fewer than eight, the steps of CKernels' Float loop).
    static let shapes: [[Int]] = [[6, 3], [5, 19], [4, 3, 5], [3, 2, 4, 4], [2, 3, 5, 5], [3, 2, 7, 7]]
    /// Large enough that the kernels split the channels over threads, and channels past one of CKernels' tiles
    /// (256 channels for `[N, C]`, 128 for runs).
    static let largeShapes: [[Int]] = [[8, 16, 24, 24], [512, 200], [4, 300], [3, 130, 3]]

    @Test(arguments: [DType.float64, .float32])
    func forwardMatchesTheComposedFormulaAndKeepsTheStatistics(dtype: DType) {
        let tolerance = dtype == .float64 ? 1e-12 : 1e-5
        for (k, shape) in (Self.shapes + Self.largeShapes).enumerated() {
            let (x, weight, bias) = batch(shape, dtype: dtype, seed: UInt64(k))
            for affine in [true, false] {
                let w = affine ? Variable(weight) : nil, b = affine ? Variable(bias) : nil
                let op = BatchNormTraining(eps: 1e-5)
                let y = affine ? op(Variable(x), w!, b!) : op(Variable(x))
                #expect(y.dtype == dtype && y.shape == shape)
                let expected = composedBatchNorm(Variable(x.to(.float64)), w.map { Variable($0.value.to(.float64)) },
                                                 b.map { Variable($0.value.to(.float64)) }).value
                #expect(agree(y.value, expected, tolerance: tolerance), "\(shape) \(dtype) affine \(affine)")
                // The statistics the layer's running averages use: the batch mean and biased variance.
                let axes = [0] + Array(2..<shape.count)
                let x64 = x.to(.float64)
                #expect(isClose(Tensor(shape: [shape[1]], scalars: op.mean), x64.mean(axes: axes), tolerance: 1e-12))
                #expect(isClose(Tensor(shape: [shape[1]], scalars: op.variance), x64.variance(axes: axes, correction: 0),
                                tolerance: 1e-11))
            }
        }
    }

    @Test func floatStatisticsStayAccurateFarFromZero() {
        // Values around 1000 with spread 0.01: a Float sum of squares would lose the variance entirely.
        let shape = [64, 4, 7, 7]
        let x = Tensor.randn(shape, dtype: .float64, generator: RandomGenerator(seed: 42)) * 0.01 + 1000
        let xFloat = x.to(.float32)
        let op = BatchNormTraining(eps: 1e-5)
        _ = op(Variable(xFloat))
        let exact = xFloat.to(.float64)
        let mean = exact.mean(axes: [0, 2, 3]).doubles, variance = exact.variance(axes: [0, 2, 3], correction: 0).doubles
        for c in 0..<4 {
            #expect(Swift.abs(op.mean[c] - mean[c]) <= 1e-9 * mean[c])
            #expect(Swift.abs(op.variance[c] - variance[c]) <= 1e-6 * variance[c])
        }
    }

    @Test func fusedGradientsMatchFiniteDifferences() throws {
        for (k, shape) in Self.shapes.enumerated() {
            let (x, weight, bias) = batch(shape, seed: UInt64(10 + k))
            _ = try gradcheck({ fusedBatchNorm($0[0], $0[1], $0[2]) }, inputs: [x, weight, bias], name: "BatchNorm \(shape)")
            _ = try gradcheck({ fusedBatchNorm($0[0], nil, nil) }, inputs: [x], name: "BatchNorm \(shape) without affine")
            // Only some inputs requiring gradients: each combination gets the right ones.
            for checking in [[false, true, true], [true, false, false], [false, true, false], [false, false, true]] {
                _ = try gradcheck({ fusedBatchNorm($0[0], $0[1], $0[2]) }, inputs: [x, weight, bias], checking: checking,
                                  name: "BatchNorm \(shape) checking \(checking)")
            }
        }
    }

    @Test func secondOrderGradientsGoThroughTheRecordedBackward() throws {
        for (k, shape) in Self.shapes.enumerated() {
            let (x, weight, bias) = batch(shape, seed: UInt64(20 + k))
            _ = try gradgradcheck({ fusedBatchNorm($0[0], $0[1], $0[2]) }, inputs: [x, weight, bias], name: "BatchNorm \(shape)")
            _ = try gradgradcheck({ fusedBatchNorm($0[0], nil, nil) }, inputs: [x], name: "BatchNorm \(shape) without affine")
        }
    }

    @Test(arguments: [DType.float64, .float32])
    func fusedBackwardMatchesTheComposedGradients(dtype: DType) {
        // The reference is the composed formula's gradients in Double at the same (possibly Float) values. The
        // fused backward sums in Double, so in Float it stays close; the recorded backward runs the composed
        // formula in the input's dtype, with Float's cancellation in M·g − Σg − x̂·Σg·x̂.
        let (fusedTolerance, recordedTolerance) = dtype == .float64 ? (1e-11, 1e-11) : (2e-5, 2e-3)
        for (k, shape) in (Self.shapes + Self.largeShapes).enumerated() {
            let (x, weight, bias) = batch(shape, dtype: dtype, seed: UInt64(30 + k))
            let seed = Tensor.randn(shape, dtype: dtype, generator: RandomGenerator(seed: UInt64(40 + k)))
            for affine in [true, false] {
                let values = affine ? [x, weight, bias] : [x]
                let inputs = values.map { Variable($0, requiresGrad: true) }
                let parameters = affine ? (inputs[1], inputs[2]) : nil
                let fused = Graph.gradients(of: fusedBatchNorm(inputs[0], parameters?.0, parameters?.1),
                                            withRespectTo: inputs, seed: seed)
                let recorded = Graph.gradients(of: fusedBatchNorm(inputs[0], parameters?.0, parameters?.1),
                                               withRespectTo: inputs, seed: seed, createGraph: true)
                let exact = values.map { Variable($0.to(.float64), requiresGrad: true) }
                let composed = Graph.gradients(of: composedBatchNorm(exact[0], affine ? exact[1] : nil, affine ? exact[2] : nil),
                                               withRespectTo: exact, seed: seed.to(.float64))
                #expect(fused.allSatisfy { !$0.requiresGrad } && recorded[0].requiresGrad)
                for i in inputs.indices {
                    #expect(fused[i].dtype == dtype && fused[i].shape == inputs[i].shape)
                    #expect(agree(fused[i].value, composed[i].value, tolerance: fusedTolerance), "\(shape) \(dtype) input \(i)")
                    #expect(agree(recorded[i].value, composed[i].value, tolerance: recordedTolerance), "\(shape) \(dtype) input \(i)")
                }
            }
        }
    }

    @Test func gradientPenaltyThroughTheLayerMatchesTheComposedFormula() {
        // ∂/∂θ ‖∂D/∂x‖² for D = sum(tanh(BatchNorm(x))·v): the WGAN-GP pattern, with the layer in training.
        let shape = [5, 3, 2, 2]
        let (x, weight, bias) = batch(shape, seed: 50)
        let v = Tensor.randn(shape, dtype: .float64, generator: RandomGenerator(seed: 51))
        func penaltyGradients(_ normalize: (Variable, Variable, Variable) -> Variable) -> [Tensor] {
            let xv = Variable(x, requiresGrad: true), w = Variable(weight, requiresGrad: true), b = Variable(bias, requiresGrad: true)
            let d = (normalize(xv, w, b).tanh() * Variable(v)).sum()
            let gx = Graph.gradients(of: d, withRespectTo: [xv], createGraph: true)[0]
            return Graph.gradients(of: gx.squared().sum(), withRespectTo: [xv, w, b]).map(\.value)
        }
        let layer = BatchNorm2d(3, dtype: .float64)
        let throughLayer = penaltyGradients { x, w, b in
            layer.weight = w
            layer.bias = b
            return layer(x)
        }
        let composed = penaltyGradients { composedBatchNorm($0, $1, $2) }
        for (a, e) in zip(throughLayer, composed) { #expect(agree(a, e, tolerance: 1e-11)) }
    }
}
