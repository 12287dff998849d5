import AutoGrad

/// Root-mean-square normalisation over the trailing dimensions `normalizedShape` (PyTorch's `F.rms_norm`), as one
/// fused op.
///
/// For every leading position, over its `d = ∏ normalizedShape` trailing elements:
/// `y = x / √(mean(x²) + ε) · w`. When `eps` is nil it is the machine epsilon of the input's dtype
/// (`Float.ulpOfOne` ≈ 1.19e-7 or `Double.ulpOfOne` ≈ 2.2e-16), PyTorch's `torch.finfo(x.dtype).eps`.
///
/// Gradients, with `r = 1/√(mean(x²) + ε)`, `x̂ = x·r` and `gw = g·w` per row:
/// `∂/∂x = r·(gw − x̂·mean(gw·x̂))`, `∂/∂w = Σ g·x̂` (summed over the leading positions). The mean square is taken in
/// Double for Float inputs; the backward is fused, and differentiable again when recorded (`createGraph: true`).
///
/// Shapes: `x` `[*, normalizedShape]`, `weight` `normalizedShape` (or nil); the output has `x`'s shape.
///
/// - Precondition: `normalizedShape` is non-empty and ends `x.shape`; `weight` has shape `normalizedShape`.
public func rmsNorm(_ x: Variable, normalizedShape: [Int], weight: Variable? = nil, eps: Double? = nil) -> Variable {
    let dtype = weight.map { DType.promoted(x.dtype, $0.dtype) } ?? x.dtype
    return rowNormalization("rmsNorm", x, normalizedShape: normalizedShape, weight: weight, bias: nil,
                            eps: eps ?? machineEpsilon(dtype), centered: false)
}

/// `torch.finfo(dtype).eps`: the distance from 1 to the next larger value.
func machineEpsilon(_ dtype: DType) -> Double {
    dtype == .float32 ? Double(Float.ulpOfOne) : Double.ulpOfOne
}

/// Root-mean-square normalisation over the last dimensions of its input (PyTorch's `nn.RMSNorm`).
///
/// `y = x / √(mean(x²) + ε) · weight`, the mean over the trailing `normalizedShape` dimensions of each input
/// position; with `eps` nil, `ε` is the machine epsilon of the input's dtype. See
/// ``rmsNorm(_:normalizedShape:weight:eps:)`` for the gradients.
///
/// Shapes: input `[*, normalizedShape]`, output the same. Parameter (PyTorch's name and initialisation): `weight`
/// (ones), shape `normalizedShape`, when `elementwiseAffine`.
///
/// ```swift
/// let norm = RMSNorm(normalizedShape: [512])
/// let y = norm(Variable(Tensor.randn([8, 100, 512])))   // each row: root mean square ≈ 1
/// ```
public final class RMSNorm: Module {
    /// The scale, shape `normalizedShape` (ones at first), or nil without `elementwiseAffine`.
    @Parameter public var weight: Variable?

    /// The trailing dimensions each row is normalised over.
    public let normalizedShape: [Int]
    /// `ε`, added to the mean square; nil for the machine epsilon of the input's dtype.
    public let eps: Double?

    /// RMS normalisation over the trailing dimensions `normalizedShape`, with PyTorch's defaults.
    ///
    /// - Precondition: `normalizedShape` is non-empty with positive sizes; `eps`, when given, is ≥ 0.
    public init(normalizedShape: [Int], eps: Double? = nil, elementwiseAffine: Bool = true, dtype: DType = .float32) {
        precondition(!normalizedShape.isEmpty && normalizedShape.allSatisfy { $0 > 0 },
                     "RMSNorm: normalizedShape \(normalizedShape) must be non-empty with positive sizes")
        if let eps { precondition(eps >= 0, "RMSNorm: eps \(eps) must be non-negative") }
        self.normalizedShape = normalizedShape
        self.eps = eps
        weight = elementwiseAffine ? Variable(Tensor.ones(normalizedShape, dtype: dtype)) : nil
        super.init()
    }

    /// RMS normalisation over the last dimension, of size `normalizedShape`.
    public convenience init(normalizedShape: Int, eps: Double? = nil, elementwiseAffine: Bool = true, dtype: DType = .float32) {
        self.init(normalizedShape: [normalizedShape], eps: eps, elementwiseAffine: elementwiseAffine, dtype: dtype)
    }

    /// Normalises each row of `x` over its trailing `normalizedShape` dimensions; the output has `x`'s shape.
    ///
    /// - Precondition: `x.shape` ends in `normalizedShape`.
    public override func forward(_ x: Variable) -> Variable {
        let dtype = weight.map { DType.promoted(x.dtype, $0.dtype) } ?? x.dtype
        return rowNormalization("RMSNorm", x, normalizedShape: normalizedShape, weight: weight, bias: nil,
                                eps: eps ?? machineEpsilon(dtype), centered: false)
    }

    public override var summary: String {
        "\(normalizedShape), eps: \(eps.map { "\($0)" } ?? "nil"), elementwiseAffine: \(weight != nil)"
    }
}
