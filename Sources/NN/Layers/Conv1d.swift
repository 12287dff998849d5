/// A 1-D convolution layer over NCL batches (PyTorch's `nn.Conv1d`).
///
/// `y[n, o] = b[o] + Σ_c W[o, c] ⋆ x[n, g·C/G + c]`, with `⋆` the 1-D cross-correlation at the layer's stride,
/// padding and dilation and `g` the group of output channel `o`; see
/// `Variable.conv1d(_:weight:bias:stride:padding:dilation:groups:)`, which computes it on the 2-D
/// convolution's kernels.
///
/// Shapes: input `[N, inChannels, L]` (or unbatched `[inChannels, L]`), weight `[outChannels, inChannels/groups, K]`,
/// bias `[outChannels]`, output `[N, outChannels, Lo]` with `Lo = ⌊(L + pBefore + pAfter − d·(K − 1) − 1) / s⌋ + 1`.
/// State-dict keys `weight` and `bias`, as PyTorch's.
///
/// Initialised as PyTorch does: the weight by Kaiming uniform with `a = √5`, which is U(−1/√fanIn, 1/√fanIn) with
/// `fanIn = inChannels/groups · K`, and the bias from the same uniform distribution.
///
/// ```swift
/// let conv = Conv1d(16, 32, kernelSize: 3, padding: .same)
/// let features = conv(Variable(Tensor.randn([8, 16, 100])))   // [8, 32, 100]
/// ```
public final class Conv1d: Module {
    /// The filters, shape `[outChannels, inChannels/groups, K]`.
    @Parameter public var weight: Variable
    /// The bias, shape `[outChannels]`, or nil for a layer made with `bias: false`.
    @Parameter public var bias: Variable?

    /// Channels of the input.
    public let inChannels: Int
    /// Channels of the output.
    public let outChannels: Int
    /// Taps of the kernel, `K`.
    public let kernelSize: Int
    /// Step between output positions.
    public let stride: Int
    /// Zero padding of the input.
    public let padding: Conv1dPadding
    /// Spacing of the kernel taps.
    public let dilation: Int
    /// Number of channel groups; divides both channel counts.
    public let groups: Int

    /// A convolution from `inChannels` to `outChannels` with a kernel of `kernelSize` taps.
    ///
    /// - Parameters:
    ///   - inChannels: channels of the input.
    ///   - outChannels: channels of the output (filters).
    ///   - kernelSize: the kernel's size.
    ///   - stride: the step between kernel positions.
    ///   - padding: `.explicit(p)` (an integer literal), `.valid` or `.same` (stride 1 only).
    ///   - dilation: the spacing of the kernel taps.
    ///   - dtype: the parameters' element type.
    ///   - generator: where the initial weights come from (PyTorch's Kaiming-uniform initialisation).
    ///   - groups: splits the channels into independent groups; must divide both channel counts.
    ///   - bias: whether the layer adds a learned bias per output channel.
    /// - Precondition: positive sizes, stride and dilation; non-negative padding; `groups` divides both
    ///   channel counts.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Conv1dPadding = .valid,
                dilation: Int = 1, groups: Int = 1, bias: Bool = true, dtype: DType = .float32,
                generator: RandomGenerator = .global) {
        ConvolutionLayerSupport.checkChannels(inChannels, outChannels, kernelSize: (1, kernelSize), groups: groups, layer: "Conv1d")
        precondition(stride >= 1 && dilation >= 1, "Conv1d: stride \(stride) and dilation \(dilation) must be positive")
        if case .explicit(let p) = padding { precondition(p >= 0, "Conv1d: padding \(padding) must not be negative") }
        precondition(padding != .same || stride == 1, "Conv1d: padding .same needs stride 1, got \(stride)")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        let parameters = ConvolutionLayerSupport.parameters(
            weightShape: [outChannels, inChannels / groups, kernelSize], biasCount: outChannels, bias: bias, dtype: dtype,
            generator: generator)
        self.weight = parameters.weight
        self.bias = parameters.bias
        super.init()
    }

    /// The convolution of `x` with the layer's filters, plus its bias.
    ///
    /// - Precondition: `x` is `[N, inChannels, L]` or `[inChannels, L]`, and its padded length is at least the
    ///   dilated kernel.
    public override func forward(_ x: Variable) -> Variable {
        ConvolutionLayerSupport.batched(x, channels: inChannels, spatialDimensions: 1, layer: "Conv1d") {
            Variable.conv1d($0, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
        }
    }

    public override var summary: String {
        "\(inChannels), \(outChannels), kernelSize: \(kernelSize), stride: \(stride), padding: \(padding)"
            + (dilation == 1 ? "" : ", dilation: \(dilation)") + (groups == 1 ? "" : ", groups: \(groups)")
            + ", bias: \(bias != nil)"
    }
}
