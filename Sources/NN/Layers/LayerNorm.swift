import AutoGrad

/// Layer normalisation over the trailing dimensions `normalizedShape` (PyTorch's `F.layer_norm`), as one fused op.
///
/// For every leading position, over its `d = ∏ normalizedShape` trailing elements:
/// `y = (x − μ) / √(σ² + ε) · w + b`, with `μ` the mean and `σ²` the biased variance (divided by `d`) of those elements.
///
/// Gradients, with `x̂ = (x − μ)/√(σ² + ε)` and `gw = g·w` per row:
/// `∂/∂x = (gw − mean(gw) − x̂·mean(gw·x̂)) / √(σ² + ε)`, `∂/∂w = Σ g·x̂`, `∂/∂b = Σ g` (sums over the leading positions).
/// Float inputs take their statistics in Float by the corrected two-pass algorithm, accurate for rows far from
/// zero; the backward is fused, and differentiable again when
/// recorded (`createGraph: true`), so second-order gradients work.
///
/// Shapes: `x` `[*, normalizedShape]`, `weight` and `bias` `normalizedShape` (either may be nil); the output has `x`'s
/// shape and the promoted dtype of the inputs.
///
/// - Precondition: `normalizedShape` is non-empty and ends `x.shape`; `weight` and `bias` have shape `normalizedShape`.
public func layerNorm(_ x: Variable, normalizedShape: [Int], weight: Variable? = nil, bias: Variable? = nil,
                      eps: Double = 1e-5) -> Variable {
    rowNormalization("layerNorm", x, normalizedShape: normalizedShape, weight: weight, bias: bias, eps: eps, centered: true)
}

/// Checks the shapes and applies ``RowNormalization``.
func rowNormalization(_ op: String, _ x: Variable, normalizedShape: [Int], weight: Variable?, bias: Variable?,
                      eps: Double, centered: Bool) -> Variable {
    precondition(!normalizedShape.isEmpty, "\(op): normalizedShape must have at least one dimension")
    precondition(x.rank >= normalizedShape.count && Array(x.shape.suffix(normalizedShape.count)) == normalizedShape,
                 "\(op): input of shape \(x.shape) does not end in normalizedShape \(normalizedShape)")
    for (label, p) in [("weight", weight), ("bias", bias)] {
        if let p { precondition(p.shape == normalizedShape, "\(op): \(label) of shape \(p.shape) differs from normalizedShape \(normalizedShape)") }
    }
    precondition(eps >= 0, "\(op): eps \(eps) must be non-negative")
    let rowOp = RowNormalization(normalizedRank: normalizedShape.count, eps: eps, centered: centered,
                                 hasWeight: weight != nil, hasBias: bias != nil)
    return rowOp.apply([x] + [weight, bias].compactMap { $0 })
}

/// Layer normalisation over the last dimensions of its input (PyTorch's `nn.LayerNorm`).
///
/// `y = (x − μ) / √(σ² + ε) · weight + bias`, with `μ` and the biased variance `σ²` taken over the trailing
/// `normalizedShape` dimensions of each input position; see ``layerNorm(_:normalizedShape:weight:bias:eps:)`` for
/// the gradients. Unlike batch normalisation it has no running statistics and behaves the same in training and
/// evaluation.
///
/// Shapes: input `[*, normalizedShape]`, output the same. Parameters (PyTorch's names and initialisation):
/// `weight` (ones) and `bias` (zeros), both of shape `normalizedShape`, when `elementwiseAffine`; `bias` only
/// when `bias` is also true.
///
/// ```swift
/// let norm = LayerNorm(normalizedShape: [512])
/// let y = norm(Variable(Tensor.randn([8, 100, 512])))   // each of the 800 rows: mean 0, variance ≈ 1
/// ```
public final class LayerNorm: Module {
    /// The scale, shape `normalizedShape` (ones at first), or nil without `elementwiseAffine`.
    @Parameter public var weight: Variable?
    /// The shift, shape `normalizedShape` (zeros at first), or nil without `elementwiseAffine` or with `bias: false`.
    @Parameter public var bias: Variable?

    /// The trailing dimensions each row is normalised over.
    public let normalizedShape: [Int]
    /// `ε`, added to the variance.
    public let eps: Double

    /// Layer normalisation over the trailing dimensions `normalizedShape`, with PyTorch's defaults.
    ///
    /// - Precondition: `normalizedShape` is non-empty with positive sizes; `eps` ≥ 0.
    public init(normalizedShape: [Int], eps: Double = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true,
                dtype: DType = .float32) {
        precondition(!normalizedShape.isEmpty && normalizedShape.allSatisfy { $0 > 0 },
                     "LayerNorm: normalizedShape \(normalizedShape) must be non-empty with positive sizes")
        precondition(eps >= 0, "LayerNorm: eps \(eps) must be non-negative")
        self.normalizedShape = normalizedShape
        self.eps = eps
        weight = elementwiseAffine ? Variable(Tensor.ones(normalizedShape, dtype: dtype)) : nil
        self.bias = elementwiseAffine && bias ? Variable(Tensor.zeros(normalizedShape, dtype: dtype)) : nil
        super.init()
    }

    /// Layer normalisation over the last dimension, of size `normalizedShape`.
    public convenience init(normalizedShape: Int, eps: Double = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true,
                            dtype: DType = .float32) {
        self.init(normalizedShape: [normalizedShape], eps: eps, elementwiseAffine: elementwiseAffine, bias: bias, dtype: dtype)
    }

    /// Normalises each row of `x` over its trailing `normalizedShape` dimensions; the output has `x`'s shape.
    ///
    /// - Precondition: `x.shape` ends in `normalizedShape`.
    public override func forward(_ x: Variable) -> Variable {
        rowNormalization("LayerNorm", x, normalizedShape: normalizedShape, weight: weight, bias: bias, eps: eps, centered: true)
    }

    public override var summary: String {
        "\(normalizedShape), eps: \(eps), elementwiseAffine: \(weight != nil), bias: \(bias != nil)"
    }
}
