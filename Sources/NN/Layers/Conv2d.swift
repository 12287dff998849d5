/// A 2-D convolution layer over NCHW batches (PyTorch's `nn.Conv2d`).
///
/// `y[n, o] = b[o] + Σ_c W[o, c] ⋆ x[n, g·C/G + c]`, with `⋆` the 2-D cross-correlation at the
/// layer's stride, padding and dilation and `g` the group of output channel `o`; see
/// `Variable.conv2d(_:weight:bias:stride:padding:dilation:groups:)` for the full formula.
///
/// Shapes: input `[N, inChannels, H, W]` (or unbatched `[inChannels, H, W]`), weight
/// `[outChannels, inChannels/groups, kH, kW]`, bias `[outChannels]`, output `[N, outChannels, Ho, Wo]`
/// with `Ho = ⌊(H + pTop + pBottom − d₀·(kH − 1) − 1) / s₀⌋ + 1` (likewise `Wo`).
///
/// Initialised as PyTorch does: the weight by Kaiming uniform with `a = √5`, which is
/// U(−1/√fanIn, 1/√fanIn) with `fanIn = inChannels/groups · kH · kW`, and the bias by the same
/// uniform distribution.
///
/// ```swift
/// let conv = Conv2d(1, 32, kernelSize: 3, padding: 1)
/// let features = conv(Variable(Tensor.randn([64, 1, 28, 28])))   // [64, 32, 28, 28]
/// ```
public final class Conv2d: Module {
    /// The filters, shape `[outChannels, inChannels/groups, kH, kW]`.
    @Parameter public var weight: Variable
    /// The bias, shape `[outChannels]`, or nil for a layer made with `bias: false`.
    @Parameter public var bias: Variable?

    /// Channels of the input.
    public let inChannels: Int
    /// Channels of the output.
    public let outChannels: Int
    /// `(kH, kW)`.
    public let kernelSize: (Int, Int)
    /// Vertical and horizontal stride.
    public let stride: (Int, Int)
    /// Zero padding of the input.
    public let padding: Conv2dPadding
    /// Vertical and horizontal spacing of the kernel taps.
    public let dilation: (Int, Int)
    /// Number of channel groups; divides both channel counts.
    public let groups: Int

    /// A convolution from `inChannels` to `outChannels` with a `kernelSize.0 × kernelSize.1` kernel.
    ///
    /// - Parameters:
    ///   - inChannels: channels of the input.
    ///   - outChannels: channels of the output (filters).
    ///   - kernelSize: the kernel's size.
    ///   - stride: the step between kernel positions.
    ///   - padding: `.explicit(p₀, p₁)` (an integer literal pads both), `.valid` or `.same` (stride 1 only).
    ///   - dilation: the spacing of the kernel taps.
    ///   - dtype: the parameters' element type.
    ///   - generator: where the initial weights come from (PyTorch's Kaiming-uniform initialisation).
    ///   - groups: splits the channels into independent groups; must divide both channel counts.
    ///   - bias: whether the layer adds a learned bias per output channel.
    /// - Precondition: positive sizes, stride and dilation; non-negative padding; `groups` divides both
    ///   channel counts.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: Conv2dPadding = .valid, dilation: (Int, Int) = (1, 1), groups: Int = 1, bias: Bool = true,
                dtype: DType = .float32, generator: RandomGenerator = .global) {
        ConvolutionLayerSupport.checkChannels(inChannels, outChannels, kernelSize: kernelSize, groups: groups, layer: "Conv2d")
        precondition(stride.0 >= 1 && stride.1 >= 1 && dilation.0 >= 1 && dilation.1 >= 1,
                     "Conv2d: stride \(stride) and dilation \(dilation) must be positive")
        if case .explicit(let ph, let pw) = padding {
            precondition(ph >= 0 && pw >= 0, "Conv2d: padding \(padding) must not be negative")
        }
        precondition(padding != .same || stride == (1, 1), "Conv2d: padding .same needs stride (1, 1), got \(stride)")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        let parameters = ConvolutionLayerSupport.parameters(
            weightShape: [outChannels, inChannels / groups, kernelSize.0, kernelSize.1], biasCount: outChannels,
            bias: bias, dtype: dtype, generator: generator)
        self.weight = parameters.weight
        self.bias = parameters.bias
        super.init()
    }

    /// A convolution with a square `kernelSize × kernelSize` kernel and the same stride and dilation
    /// in both directions.
    public convenience init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1,
                            padding: Conv2dPadding = .valid, dilation: Int = 1, groups: Int = 1, bias: Bool = true,
                            dtype: DType = .float32, generator: RandomGenerator = .global) {
        self.init(inChannels, outChannels, kernelSize: (kernelSize, kernelSize), stride: (stride, stride),
                  padding: padding, dilation: (dilation, dilation), groups: groups, bias: bias, dtype: dtype, generator: generator)
    }

    /// The convolution of `x` with the layer's filters, plus its bias.
    ///
    /// - Precondition: `x` is `[N, inChannels, H, W]` or `[inChannels, H, W]`, and its padded size is
    ///   at least the dilated kernel.
    public override func forward(_ x: Variable) -> Variable {
        ConvolutionLayerSupport.batched(x, channels: inChannels, layer: "Conv2d") {
            Variable.conv2d($0, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
        }
    }

    public override var summary: String {
        "\(inChannels), \(outChannels), kernelSize: \(kernelSize), stride: \(stride), padding: \(padding)"
            + (dilation == (1, 1) ? "" : ", dilation: \(dilation)") + (groups == 1 ? "" : ", groups: \(groups)")
            + ", bias: \(bias != nil)"
    }
}
