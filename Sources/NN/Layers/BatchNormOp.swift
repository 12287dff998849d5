import AutoGrad

/// Batch normalisation with the batch's own statistics, fused into one op: inputs `x` of shape `[N, C, *]`
/// and optionally `γ`, `β` of shape `[C]`.
///
/// Per channel `c`, over its `M = N·∏spatial` values: `μ = Σx / M`, `σ² = Σ(x − μ)² / M` (biased),
/// `x̂ = (x − μ)·invstd` with `invstd = 1/√(σ² + ε)`, and `y = x̂·γ + β` (`y = x̂` without `γ`, `β`).
/// The forward takes the statistics in one pass (sums of `x − K` and `(x − K)²` in Double, `K` the channel's
/// first value) and writes `y` in a second; they stay on the op as ``mean`` and ``variance`` for the running
/// statistics.
///
/// Backward (the statistics depend on `x`, so the input gradient has the closed form):
/// `∂β = Σg`, `∂γ = Σ g·x̂`, `∂x = (γ·invstd / M)·(M·g − ∂β − x̂·∂γ)`, per channel.
/// A plain backward computes these with two fused passes, for the inputs that need them. A backward that is
/// itself recorded (`createGraph: true`) builds the same formula from differentiable operations on `x`, `γ`
/// and `g`, so gradients of gradients (gradient penalties) work.
final class BatchNormTraining: FusedBackwardOp {
    var name: String { "BatchNorm" }

    /// `ε`, added to the variance.
    let eps: Double
    /// The batch mean per channel, set by ``forward(_:)``.
    private(set) var mean: [Double] = []
    /// The batch's biased variance per channel, set by ``forward(_:)``.
    private(set) var variance: [Double] = []
    private var inverseStd: [Double] = []

    init(eps: Double) {
        self.eps = eps
    }

    func forward(_ inputs: [Tensor]) -> Tensor {
        precondition(inputs.count == 1 || inputs.count == 3, "BatchNorm: expected x or (x, weight, bias), got \(inputs.count) inputs")
        let x = inputs[0]
        precondition(x.rank >= 2, "BatchNorm: expected an input of shape [N, C, *], got \(x.shape)")
        let channels = x.shape[1]
        for p in inputs.dropFirst() {
            precondition(p.shape == [channels], "BatchNorm: weight and bias must have shape [\(channels)] for input \(x.shape), got \(p.shape)")
        }
        let dtype = inputs.dropFirst().map(\.dtype).reduce(x.dtype, DType.promoted)
        let layout = ChannelLayout(shape: x.shape)
        switch dtype {
        case .float32: return forward(x.to(dtype), Float.self, layout, inputs)
        case .float64: return forward(x.to(dtype), Double.self, layout, inputs)
        }
    }

    private func forward<S: BatchNormScalar>(_ x: Tensor, _: S.Type, _ layout: ChannelLayout, _ inputs: [Tensor]) -> Tensor {
        guard x.count > 0 else {
            mean = Array(repeating: .nan, count: layout.channels)
            variance = mean
            inverseStd = mean
            return x
        }
        (mean, variance) = x.withUnsafeBufferPointer(as: S.self) { BatchNormKernels.statistics($0.baseAddress!, layout) }
        inverseStd = variance.map { 1 / ($0 + eps).squareRoot() }
        var scale = inverseStd, shift = [Double](repeating: 0, count: layout.channels)
        if inputs.count == 3 {
            scale = zip(inputs[1].doubles, inverseStd).map(*)
            shift = inputs[2].doubles
        }
        var y = Tensor.empty(x.shape, dtype: x.dtype)
        y.withUnsafeMutableBufferPointer(as: S.self) { y in
            x.withUnsafeBufferPointer(as: S.self) { x in
                BatchNormKernels.normalize(x.baseAddress!, into: y.baseAddress!, layout, mean: mean, scale: scale, shift: shift)
            }
        }
        return y
    }

    /// The closed-form gradients by two passes over `g` and `x` per channel; each computed only when needed.
    func fusedBackward(_ g: Variable, inputs: [Variable], needed: [Bool], dtype: DType) -> [Variable?] {
        let x = inputs[0]
        let affine = inputs.count == 3
        let wantsAffine = affine && (needed[1] || needed[2])
        guard needed[0] || wantsAffine else { return inputs.map { _ in nil } }
        let layout = ChannelLayout(shape: x.shape)
        let sums: (sumG: [Double], sumGCentered: [Double])
        var gx: Tensor?
        let (xValue, gValue) = (x.value.to(dtype), g.value.to(dtype))
        switch dtype {
        case .float32: (sums, gx) = inputGradient(gValue, xValue, Float.self, layout, inputs, wantsInput: needed[0])
        case .float64: (sums, gx) = inputGradient(gValue, xValue, Double.self, layout, inputs, wantsInput: needed[0])
        }
        var gradients: [Variable?] = [gx.map { Variable($0.to(x.dtype)) }]
        if affine {
            let gGamma = zip(sums.sumGCentered, inverseStd).map(*)
            gradients.append(needed[1] ? Variable(Tensor(shape: [layout.channels], scalars: gGamma, dtype: inputs[1].dtype)) : nil)
            gradients.append(needed[2] ? Variable(Tensor(shape: [layout.channels], scalars: sums.sumG, dtype: inputs[2].dtype)) : nil)
        }
        return gradients
    }

    /// The per-channel sums `Σg`, `Σg·(x − μ)`, and, when `wantsInput`, `∂x`.
    private func inputGradient<S: BatchNormScalar>(_ g: Tensor, _ x: Tensor, _: S.Type, _ layout: ChannelLayout, _ inputs: [Variable],
                                                   wantsInput: Bool) -> ((sumG: [Double], sumGCentered: [Double]), Tensor?) {
        guard x.count > 0 else { return ((mean, mean), wantsInput ? g : nil) }
        let sums = g.withUnsafeBufferPointer(as: S.self) { g in
            x.withUnsafeBufferPointer(as: S.self) { x in
                BatchNormKernels.gradientSums(g.baseAddress!, x.baseAddress!, layout, mean: mean)
            }
        }
        guard wantsInput else { return (sums, nil) }
        // ∂x = k·g − (k/M)·∂β − (x − μ)·(k·invstd/M)·∂γ, with k = γ·invstd and ∂γ = invstd·Σg·(x − μ).
        let m = Double(layout.perChannel)
        let k = inputs.count == 3 ? zip(inputs[1].value.doubles, inverseStd).map(*) : inverseStd
        let offset = zip(k, sums.sumG).map { -$0 * $1 / m }
        let xScale = (0..<layout.channels).map { c in -k[c] * inverseStd[c] * inverseStd[c] * sums.sumGCentered[c] / m }
        var gx = Tensor.empty(g.shape, dtype: g.dtype)
        gx.withUnsafeMutableBufferPointer(as: S.self) { gx in
            x.withUnsafeBufferPointer(as: S.self) { x in
                g.withUnsafeBufferPointer(as: S.self) { g in
                    BatchNormKernels.inputGradient(g.baseAddress!, x.baseAddress!, into: gx.baseAddress!, layout, mean: mean,
                                                   gScale: k, xScale: xScale, offset: offset)
                }
            }
        }
        return (sums, gx)
    }

    /// The same gradients built from differentiable operations (statistics recomputed from `x`), for a
    /// backward pass that is recorded and may be differentiated again.
    func differentiableBackward(_ g: Variable, inputs: [Variable], needed: [Bool]) -> [Variable?] {
        let x = inputs[0]
        let affine = inputs.count == 3
        let channels = x.shape[1]
        let axes = [0] + Array(2..<x.rank)
        let channelShape = [1, channels] + Array(repeating: 1, count: x.rank - 2)
        let m = Double(x.value.count / channels)
        let centered = x - x.mean(axes: axes, keepDims: true)
        let inverseStd = (centered.squared().mean(axes: axes, keepDims: true) + eps).pow(-0.5)
        let normalized = centered * inverseStd
        let gBeta = g.sum(axes: axes, keepDims: true)
        let gGamma = (g * normalized).sum(axes: axes, keepDims: true)
        var gradients: [Variable?] = [nil]
        if needed[0] {
            let k = affine ? inverseStd * inputs[1].reshaped(channelShape) : inverseStd
            gradients[0] = k * (g - (gBeta + normalized * gGamma) / m)
        }
        if affine {
            gradients.append(needed[1] ? gGamma.reshaped([channels]) : nil)
            gradients.append(needed[2] ? gBeta.reshaped([channels]) : nil)
        }
        return gradients
    }
}
