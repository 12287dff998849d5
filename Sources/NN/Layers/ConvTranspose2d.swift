/// A 2-D transposed convolution layer over NCHW batches (PyTorch's `nn.ConvTranspose2d`): the
/// adjoint of a ``Conv2d`` with the same hyper-parameters, plus a bias. Used to upsample (decoders,
/// GAN generators).
///
/// Each input pixel scatters a weighted copy of its filter into the output at stride `s`; `padding`
/// crops `p` from each side; `outputPadding` adds rows/columns at the bottom/right. See
/// `Variable.convTranspose2d(_:weight:bias:stride:padding:outputPadding:dilation:groups:)`.
///
/// Shapes: input `[N, inChannels, H, W]` (or unbatched `[inChannels, H, W]`), weight
/// `[inChannels, outChannels/groups, kH, kW]` (PyTorch's layout), bias `[outChannels]`, output
/// `[N, outChannels, Ho, Wo]` with `Ho = (H − 1)·s₀ − 2p₀ + d₀·(kH − 1) + outputPadding₀ + 1`
/// (likewise `Wo`).
///
/// Initialised as PyTorch does: Kaiming uniform with `a = √5`, U(−1/√fanIn, 1/√fanIn), for the
/// weight and the bias, where PyTorch takes `fanIn` from the weight's dimension 1:
/// `fanIn = outChannels/groups · kH · kW`.
///
/// ```swift
/// let up = ConvTranspose2d(128, 64, kernelSize: 4, stride: 2, padding: 1)
/// let image = up(Variable(Tensor.randn([64, 128, 7, 7])))   // [64, 64, 14, 14]
/// ```
public final class ConvTranspose2d: Module {
    /// The filters, shape `[inChannels, outChannels/groups, kH, kW]`.
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
    /// The padding of the adjoint convolution: rows/columns cropped from each side of the output.
    public let padding: (Int, Int)
    /// Rows and columns added at the bottom and right of the output.
    public let outputPadding: (Int, Int)
    /// Vertical and horizontal spacing of the kernel taps.
    public let dilation: (Int, Int)
    /// Number of channel groups; divides both channel counts.
    public let groups: Int

    /// A transposed convolution from `inChannels` to `outChannels` with a `kernelSize.0 × kernelSize.1` kernel.
    ///
    /// - Precondition: positive sizes, stride and dilation; non-negative padding; each output padding
    ///   smaller than the stride or the dilation (as PyTorch); `groups` divides both channel counts.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), outputPadding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1),
                groups: Int = 1, bias: Bool = true, dtype: DType = .float32, generator: RandomGenerator = .global) {
        ConvolutionLayerSupport.checkChannels(inChannels, outChannels, kernelSize: kernelSize, groups: groups, layer: "ConvTranspose2d")
        precondition(stride.0 >= 1 && stride.1 >= 1 && dilation.0 >= 1 && dilation.1 >= 1 && padding.0 >= 0 && padding.1 >= 0,
                     "ConvTranspose2d: stride \(stride) and dilation \(dilation) must be positive, padding \(padding) not negative")
        precondition(outputPadding.0 >= 0 && outputPadding.1 >= 0
                     && (outputPadding.0 < stride.0 || outputPadding.0 < dilation.0)
                     && (outputPadding.1 < stride.1 || outputPadding.1 < dilation.1),
                     "ConvTranspose2d: output padding \(outputPadding) must be smaller than either stride \(stride) or dilation \(dilation)")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.dilation = dilation
        self.groups = groups
        let parameters = ConvolutionLayerSupport.parameters(
            weightShape: [inChannels, outChannels / groups, kernelSize.0, kernelSize.1], biasCount: outChannels,
            bias: bias, dtype: dtype, generator: generator)
        self.weight = parameters.weight
        self.bias = parameters.bias
        super.init()
    }

    /// A transposed convolution with a square kernel and the same stride, padding, output padding and
    /// dilation in both directions.
    public convenience init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                            outputPadding: Int = 0, dilation: Int = 1, groups: Int = 1, bias: Bool = true,
                            dtype: DType = .float32, generator: RandomGenerator = .global) {
        self.init(inChannels, outChannels, kernelSize: (kernelSize, kernelSize), stride: (stride, stride),
                  padding: (padding, padding), outputPadding: (outputPadding, outputPadding), dilation: (dilation, dilation),
                  groups: groups, bias: bias, dtype: dtype, generator: generator)
    }

    /// The transposed convolution of `x` with the layer's filters, plus its bias.
    ///
    /// - Precondition: `x` is `[N, inChannels, H, W]` or `[inChannels, H, W]`, and the output size is positive.
    public override func forward(_ x: Variable) -> Variable {
        ConvolutionLayerSupport.batched(x, channels: inChannels, layer: "ConvTranspose2d") {
            Variable.convTranspose2d($0, weight: weight, bias: bias, stride: stride, padding: padding,
                                     outputPadding: outputPadding, dilation: dilation, groups: groups)
        }
    }

    public override var summary: String {
        "\(inChannels), \(outChannels), kernelSize: \(kernelSize), stride: \(stride), padding: \(padding)"
            + (outputPadding == (0, 0) ? "" : ", outputPadding: \(outputPadding)")
            + (dilation == (1, 1) ? "" : ", dilation: \(dilation)") + (groups == 1 ? "" : ", groups: \(groups)")
            + ", bias: \(bias != nil)"
    }
}
