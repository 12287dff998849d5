import AutoGrad

/// Group normalisation (PyTorch's `F.group_norm`) as one fused op: the `C` channels of `x` (`[N, C, *]`) are split
/// into `numGroups` groups of `C/G` consecutive channels, and each sample's group is normalised over its channels and
/// spatial positions together, then scaled and shifted per channel:
///
/// `y = (x − μ_{n,g}) / √(σ²_{n,g} + ε) · w_c + b_c`, with `μ` the mean and `σ²` the biased variance of the
/// `d = (C/G)·∏*` elements of sample `n`, group `g`.
///
/// Gradients, with `x̂ = (x − μ)/√(σ² + ε)` and `gw = g·w_c`, means over each sample's group:
/// `∂/∂x = (gw − mean(gw) − x̂·mean(gw·x̂)) / √(σ² + ε)`, `∂/∂w_c = Σ g·x̂`, `∂/∂b_c = Σ g` (sums over samples and
/// positions). The statistics are taken in Double for Float inputs; the backward is fused, and differentiable again
/// when recorded (`createGraph: true`), so second-order gradients work.
///
/// Shapes: `x` `[N, C, *]` (rank ≥ 2), `weight` and `bias` `[C]` (either may be nil); the output has `x`'s shape and
/// the promoted dtype of the inputs.
///
/// - Precondition: `numGroups` divides `C`; `weight` and `bias` have shape `[C]`; `eps` ≥ 0.
public func groupNorm(_ x: Variable, numGroups: Int, weight: Variable? = nil, bias: Variable? = nil, eps: Double = 1e-5) -> Variable {
    precondition(x.rank >= 2, "groupNorm: expected an input of shape [N, C, *], got \(x.shape)")
    let channels = x.shape[1]
    precondition(numGroups > 0 && channels % numGroups == 0,
                 "groupNorm: numGroups \(numGroups) must divide the \(channels) channels of input \(x.shape)")
    for (label, p) in [("weight", weight), ("bias", bias)] {
        if let p { precondition(p.shape == [channels], "groupNorm: \(label) of shape \(p.shape) must be [\(channels)] for input \(x.shape)") }
    }
    precondition(eps >= 0, "groupNorm: eps \(eps) must be non-negative")
    let op = GroupNormalization(groups: numGroups, eps: eps, hasWeight: weight != nil, hasBias: bias != nil)
    return op.apply([x] + [weight, bias].compactMap { $0 })
}

/// The fused op of ``groupNorm(_:numGroups:weight:bias:eps:)``: inputs `x`, then the weight and the bias when present.
final class GroupNormalization: FusedBackwardOp {
    var name: String { "GroupNorm" }

    let groups: Int
    let eps: Double
    let hasWeight: Bool, hasBias: Bool
    /// The mean and `invstd` of every (sample, group) row, set by ``forward(_:)``.
    private(set) var mean: [Double] = []
    private(set) var inverseStd: [Double] = []

    init(groups: Int, eps: Double, hasWeight: Bool, hasBias: Bool) {
        self.groups = groups
        self.eps = eps
        self.hasWeight = hasWeight
        self.hasBias = hasBias
    }

    private func layout(_ shape: [Int]) -> GroupLayout {
        GroupLayout(samples: shape[0], groups: groups, channelsPerGroup: shape[1] / groups, spatial: shape.dropFirst(2).reduce(1, *))
    }

    func forward(_ inputs: [Tensor]) -> Tensor {
        let dtype = inputs.dropFirst().map(\.dtype).reduce(inputs[0].dtype, DType.promoted)
        let values = inputs.map { $0.to(dtype) }
        switch dtype {
        case .float32: return forward(values, Float.self)
        case .float64: return forward(values, Double.self)
        }
    }

    private func forward<S: BatchNormScalar>(_ inputs: [Tensor], _: S.Type) -> Tensor {
        let layout = layout(inputs[0].shape)
        let result = normalizationForward(inputs, S.self, hasWeight: hasWeight, hasBias: hasBias, rows: layout.rows) {
            GroupNormKernels.forward($0, into: $1, layout, eps: eps, weight: $2, bias: $3, mean: $4, inverseStd: $5)
        }
        (mean, inverseStd) = (result.mean, result.inverseStd)
        return result.output
    }

    func fusedBackward(_ g: Variable, inputs: [Variable], needed: [Bool], dtype: DType) -> [Variable?] {
        let values = ([g] + inputs).map { $0.value.to(dtype) }
        switch dtype {
        case .float32: return fusedBackward(values, Float.self, inputs: inputs, needed: needed)
        case .float64: return fusedBackward(values, Double.self, inputs: inputs, needed: needed)
        }
    }

    private func fusedBackward<S: BatchNormScalar>(_ values: [Tensor], _: S.Type, inputs: [Variable], needed: [Bool]) -> [Variable?] {
        let layout = layout(values[1].shape)
        return normalizationBackward(
            values, S.self, inputs: inputs, needed: needed, hasWeight: hasWeight, hasBias: hasBias, parameterShape: [layout.channels],
            inputGradient: { g, x, w, gx, _, _ in
                GroupNormKernels.inputGradient(g, x, weight: w, into: gx, layout, mean: mean, inverseStd: inverseStd)
                return false
            },
            parameterGradients: {
                GroupNormKernels.parameterGradients($0, $1, layout, mean: mean, inverseStd: inverseStd, weightGradient: $2, biasGradient: $3)
            })
    }

    /// The same gradients from differentiable operations (statistics recomputed from `x`), for a recorded backward.
    func differentiableBackward(_ g: Variable, inputs: [Variable], needed: [Bool]) -> [Variable?] {
        let x = inputs[0], shape = x.shape
        let channelShape = [1, shape[1]] + Array(repeating: 1, count: x.rank - 2)
        let rows = [shape[0], groups, -1]
        let grouped = x.reshaped(rows)
        let centered = grouped - grouped.mean(axes: [2], keepDims: true)
        let inverseStd = (centered.squared().mean(axes: [2], keepDims: true) + eps).pow(-0.5)
        let normalized = centered * inverseStd
        let perChannelAxes = [0] + Array(2..<x.rank)
        var gradients: [Variable?] = Array(repeating: nil, count: inputs.count)
        if needed[0] {
            let gw = (hasWeight ? g * inputs[1].reshaped(channelShape) : g).reshaped(rows)
            let inner = gw - gw.mean(axes: [2], keepDims: true) - normalized * (gw * normalized).mean(axes: [2], keepDims: true)
            gradients[0] = (inverseStd * inner).reshaped(shape)
        }
        if hasWeight && needed[1] { gradients[1] = (g * normalized.reshaped(shape)).sum(axes: perChannelAxes) }
        if hasBias && needed[inputs.count - 1] { gradients[inputs.count - 1] = g.sum(axes: perChannelAxes) }
        return gradients
    }
}

/// Group normalisation (PyTorch's `nn.GroupNorm`): the channels of each sample are split into `numGroups` groups,
/// each normalised over its channels and positions, then scaled and shifted per channel; see
/// ``groupNorm(_:numGroups:weight:bias:eps:)`` for the math and gradients. It has no running statistics and
/// behaves the same in training and evaluation.
///
/// Shapes: input `[N, C, *]`, output the same. Parameters (PyTorch's names and initialisation): `weight` (ones)
/// and `bias` (zeros), both `[numChannels]`, when `affine`.
///
/// ```swift
/// let norm = GroupNorm(numGroups: 4, numChannels: 32)
/// let y = norm(Variable(Tensor.randn([8, 32, 16, 16])))   // each sample's 4 groups: mean 0, variance ≈ 1
/// ```
public final class GroupNorm: Module {
    /// The per-channel scale, `[numChannels]` (ones at first), or nil without `affine`.
    @Parameter public var weight: Variable?
    /// The per-channel shift, `[numChannels]` (zeros at first), or nil without `affine`.
    @Parameter public var bias: Variable?

    /// The number of groups the channels are split into.
    public let numGroups: Int
    /// The number of channels `C`.
    public let numChannels: Int
    /// `ε`, added to the variance.
    public let eps: Double

    /// Group normalisation of `numChannels` channels in `numGroups` groups, with PyTorch's defaults.
    ///
    /// - Precondition: `numGroups` > 0 divides `numChannels`; `eps` ≥ 0.
    public init(numGroups: Int, numChannels: Int, eps: Double = 1e-5, affine: Bool = true, dtype: DType = .float32) {
        precondition(numGroups > 0 && numChannels > 0 && numChannels % numGroups == 0,
                     "GroupNorm: numGroups \(numGroups) must be positive and divide numChannels \(numChannels)")
        precondition(eps >= 0, "GroupNorm: eps \(eps) must be non-negative")
        self.numGroups = numGroups
        self.numChannels = numChannels
        self.eps = eps
        weight = affine ? Variable(Tensor.ones([numChannels], dtype: dtype)) : nil
        bias = affine ? Variable(Tensor.zeros([numChannels], dtype: dtype)) : nil
        super.init()
    }

    /// Normalises `x` group by group; the output has `x`'s shape.
    ///
    /// - Precondition: `x` is `[N, numChannels, *]`.
    public override func forward(_ x: Variable) -> Variable {
        precondition(x.rank >= 2 && x.shape[1] == numChannels,
                     "GroupNorm: expected an input of shape [N, \(numChannels), *], got \(x.shape)")
        return groupNorm(x, numGroups: numGroups, weight: weight, bias: bias, eps: eps)
    }

    public override var summary: String { "\(numGroups), \(numChannels), eps: \(eps), affine: \(weight != nil)" }
}
