/// A fully connected layer: `y = x·Wᵀ + b` (PyTorch's `nn.Linear`).
///
/// Shapes: input `[…, inFeatures]`, weight `[outFeatures, inFeatures]`, bias `[outFeatures]`,
/// output `[…, outFeatures]`. Initialised as PyTorch does: the weight by Kaiming uniform with
/// `a = √5`, which is U(−1/√in, 1/√in), and the bias by U(−1/√in, 1/√in).
///
/// ```swift
/// let fc = Linear(784, 10)
/// let logits = fc(Variable(Tensor.randn([32, 784])))   // [32, 10]
/// ```
public final class Linear: Module {
    /// The weight, shape `[outFeatures, inFeatures]`.
    @Parameter public var weight: Variable
    /// The bias, shape `[outFeatures]`, or nil for a layer made with `bias: false`.
    @Parameter public var bias: Variable?

    /// The size of each input's last dimension.
    public let inFeatures: Int
    /// The size of each output's last dimension.
    public let outFeatures: Int

    /// A layer mapping `inFeatures` to `outFeatures`, with a bias unless `bias` is false.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, dtype: DType = .float32,
                generator: RandomGenerator = .global) {
        precondition(inFeatures >= 0 && outFeatures >= 0, "Linear: negative size \(inFeatures) → \(outFeatures)")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let w = Variable(Tensor.zeros([outFeatures, inFeatures], dtype: dtype))
        if inFeatures > 0 { Init.kaimingUniform(w, nonlinearity: .leakyReLU(negativeSlope: 5.0.squareRoot()), generator: generator) }
        self.weight = w
        if bias {
            let bound = inFeatures > 0 ? 1 / Double(inFeatures).squareRoot() : 0
            self.bias = Variable(Tensor.uniform([outFeatures], low: -bound, high: bound, dtype: dtype, generator: generator))
        } else {
            self.bias = nil
        }
        super.init()
    }

    /// `x·Wᵀ + b` over the last dimension of `x`.
    ///
    /// - Precondition: `x.shape.last == inFeatures`.
    public override func forward(_ x: Variable) -> Variable {
        precondition(x.rank >= 1 && x.shape.last == inFeatures,
                     "Linear: input of shape \(x.shape) does not end in inFeatures \(inFeatures)")
        return Variable.linear(x, weight: weight, bias: bias)
    }

    public override var summary: String { "in: \(inFeatures), out: \(outFeatures), bias: \(bias != nil)" }
}
