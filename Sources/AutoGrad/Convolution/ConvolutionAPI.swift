// The public convolution functions on Variable and Tensor. They check the arguments with messages
// in the user's terms, build the primitive op (ConvolutionOps.swift) and add the bias by broadcasting.

extension Conv2dOp {
    /// The op for `conv2d(input, weight, bias, …)`, after checking shapes in the caller's terms.
    init(input: [Int], weight: [Int], bias: [Int]?, stride: (Int, Int), padding: Conv2dPadding,
         dilation: (Int, Int), groups: Int) {
        precondition(input.count == 4, "conv2d: input must be [N, C, H, W], got shape \(input)")
        precondition(weight.count == 4, "conv2d: weight must be [outChannels, inChannels/groups, kH, kW], got shape \(weight)")
        precondition(groups >= 1 && input[1] % groups == 0 && weight[0] % groups == 0,
                     "conv2d: groups \(groups) must divide the input channels \(input[1]) (input \(input)) and output channels \(weight[0]) (weight \(weight))")
        precondition(weight[1] * groups == input[1],
                     "conv2d: input \(input) has \(input[1]) channels, weight \(weight) expects \(weight[1]) × groups \(groups) = \(weight[1] * groups)")
        if let bias {
            precondition(bias == [weight[0]], "conv2d: bias must be [\(weight[0])] for weight \(weight), got shape \(bias)")
        }
        self.init(options: Conv2dOptions(stride: stride, padding: padding, dilation: dilation, groups: groups,
                                         kernelSize: (weight[2], weight[3]), op: "conv2d"),
                  outputSize: nil)
    }
}

extension ConvTranspose2dOp {
    /// The op for `convTranspose2d(input, weight, bias, …)`, after checking shapes in the caller's
    /// terms and computing the output size `(Hᵢₙ − 1)·s − 2p + d·(k − 1) + outputPadding + 1`.
    init(input: [Int], weight: [Int], bias: [Int]?, stride: (Int, Int), padding: (Int, Int),
         outputPadding: (Int, Int), dilation: (Int, Int), groups: Int) {
        precondition(input.count == 4, "convTranspose2d: input must be [N, C, H, W], got shape \(input)")
        precondition(weight.count == 4, "convTranspose2d: weight must be [inChannels, outChannels/groups, kH, kW], got shape \(weight)")
        precondition(groups >= 1 && input[1] % groups == 0,
                     "convTranspose2d: groups \(groups) must divide the input channels \(input[1]) (input \(input))")
        precondition(weight[0] == input[1],
                     "convTranspose2d: input \(input) has \(input[1]) channels, weight \(weight) expects \(weight[0])")
        if let bias {
            precondition(bias == [weight[1] * groups],
                         "convTranspose2d: bias must be [\(weight[1] * groups)] for weight \(weight) and groups \(groups), got shape \(bias)")
        }
        let options = Conv2dOptions(stride: stride, padding: .explicit(padding.0, padding.1), dilation: dilation,
                                    groups: groups, kernelSize: (weight[2], weight[3]), op: "convTranspose2d")
        precondition(outputPadding.0 >= 0 && outputPadding.1 >= 0
                     && (outputPadding.0 < stride.0 || outputPadding.0 < dilation.0)
                     && (outputPadding.1 < stride.1 || outputPadding.1 < dilation.1),
                     "convTranspose2d: output padding \(outputPadding) must be non-negative and smaller than either stride \(stride) or dilation \(dilation)")
        let height = (input[2] - 1) * stride.0 - 2 * padding.0 + dilation.0 * (weight[2] - 1) + outputPadding.0 + 1
        let width = (input[3] - 1) * stride.1 - 2 * padding.1 + dilation.1 * (weight[3] - 1) + outputPadding.1 + 1
        precondition(input[2] >= 1 && input[3] >= 1 && height >= 1 && width >= 1,
                     "convTranspose2d: input \(input) with weight \(weight), stride \(stride), padding \(padding) gives output size \(height)×\(width)")
        self.init(options: options, inputSize: (height, width))
    }
}

extension Variable {
    /// 2-D convolution over an NCHW batch (PyTorch's `conv2d`; a cross-correlation, no kernel flip).
    ///
    /// `y[n, o, i, j] = b[o] + Σ_{c, a, b'} W[o, c, a, b'] · x[n, g·C/G + c, i·s₀ − p₀ + a·d₀, j·s₁ − p₁ + b'·d₁]`
    /// with `g = ⌊o / (O/G)⌋` the group of output channel `o`, and zero outside the input (padding).
    ///
    /// Shapes: input `[N, C, H, W]`, weight `[O, C/G, kH, kW]`, bias `[O]`, output `[N, O, Ho, Wo]` with
    /// `Ho = ⌊(H + pTop + pBottom − d₀·(kH − 1) − 1) / s₀⌋ + 1` (likewise `Wo`).
    ///
    /// Gradients: `∂/∂x` is the transposed convolution of `g` with `W`, `∂/∂W` correlates `x` with `g`,
    /// `∂/∂b = Σ_{n,i,j} g`; all are differentiable again (the three convolution primitives form a
    /// closed family), so gradients of gradients work.
    ///
    /// ```swift
    /// let x = Variable(Tensor.randn([8, 3, 32, 32]))
    /// let w = Variable(Tensor.randn([16, 3, 3, 3]), requiresGrad: true)
    /// let y = Variable.conv2d(x, weight: w, stride: (2, 2), padding: 1)   // [8, 16, 16, 16]
    /// ```
    ///
    /// - Parameters:
    ///   - input: `[N, C, H, W]`.
    ///   - weight: `[O, C/G, kH, kW]`.
    ///   - bias: `[O]`, added to every output position; nil for none.
    ///   - stride: `(s₀, s₁)`, positive.
    ///   - padding: zeros around the input: `.explicit(p₀, p₁)` (an integer literal pads both),
    ///     `.valid` (none) or `.same` (output size = input size; stride 1 only, odd totals put the
    ///     extra zero at the bottom/right, as PyTorch).
    ///   - dilation: `(d₀, d₁)`, the spacing of kernel taps, positive.
    ///   - groups: `G`, dividing both `C` and `O`; group `g` maps input channels `g·C/G ..< (g+1)·C/G`
    ///     to output channels `g·O/G ..< (g+1)·O/G`.
    /// - Precondition: the shapes agree as above and the padded input is at least the dilated
    ///   kernel `d·(k − 1) + 1`; otherwise the program stops with a message naming the shapes.
    public static func conv2d(_ input: Variable, weight: Variable, bias: Variable? = nil, stride: (Int, Int) = (1, 1),
                              padding: Conv2dPadding = .valid, dilation: (Int, Int) = (1, 1), groups: Int = 1) -> Variable {
        let op = Conv2dOp(input: input.shape, weight: weight.shape, bias: bias?.shape, stride: stride,
                          padding: padding, dilation: dilation, groups: groups)
        return op.apply([input, weight] + (bias.map { [$0] } ?? []))
    }

    /// 2-D transposed convolution over an NCHW batch (PyTorch's `conv_transpose2d`): the adjoint of
    /// ``conv2d(_:weight:bias:stride:padding:dilation:groups:)`` with respect to its input, plus a bias.
    ///
    /// `⟨convTranspose2d(y, W), x⟩ = ⟨y, conv2d(x, W)⟩` for every `x` of the output's shape, with the
    /// same stride, padding, dilation and groups. Each input pixel scatters `W`-weighted copies into the
    /// output at stride `s`; `padding` crops `p` from each side of that result.
    ///
    /// Shapes: input `[N, Cᵢₙ, H, W]`, weight `[Cᵢₙ, Cₒᵤₜ/G, kH, kW]` (PyTorch's layout, the conv2d
    /// weight of the adjoint convolution), bias `[Cₒᵤₜ]`, output `[N, Cₒᵤₜ, Ho, Wo]` with
    /// `Ho = (H − 1)·s₀ − 2p₀ + d₀·(kH − 1) + outputPadding₀ + 1` (likewise `Wo`).
    ///
    /// Gradients: `∂/∂input = conv2d(g, W)`, `∂/∂W` correlates `g` with the input, `∂/∂b = Σ_{n,i,j} g`;
    /// all differentiable again.
    ///
    /// ```swift
    /// let z = Variable(Tensor.randn([8, 128, 7, 7]))
    /// let w = Variable(Tensor.randn([128, 64, 4, 4]), requiresGrad: true)
    /// let up = Variable.convTranspose2d(z, weight: w, stride: (2, 2), padding: (1, 1))   // [8, 64, 14, 14]
    /// ```
    ///
    /// - Parameters:
    ///   - input: `[N, Cᵢₙ, H, W]`.
    ///   - weight: `[Cᵢₙ, Cₒᵤₜ/G, kH, kW]`.
    ///   - bias: `[Cₒᵤₜ]`, added to every output position; nil for none.
    ///   - stride: `(s₀, s₁)`, positive: the stride of the adjoint convolution.
    ///   - padding: `(p₀, p₁)`, non-negative: the padding of the adjoint convolution.
    ///   - outputPadding: extra rows/columns at the bottom/right, each smaller than the stride or the
    ///     dilation; picks one of the input sizes that a strided convolution maps to the same output size.
    ///   - dilation: `(d₀, d₁)`, the spacing of kernel taps, positive.
    ///   - groups: `G`, dividing `Cᵢₙ`; group `g` maps input channels `g·Cᵢₙ/G ..< (g+1)·Cᵢₙ/G` to output
    ///     channels `g·Cₒᵤₜ/G ..< (g+1)·Cₒᵤₜ/G`.
    /// - Precondition: shapes as above and a positive output size; otherwise the program stops with a
    ///   message naming the shapes.
    public static func convTranspose2d(_ input: Variable, weight: Variable, bias: Variable? = nil, stride: (Int, Int) = (1, 1),
                                       padding: (Int, Int) = (0, 0), outputPadding: (Int, Int) = (0, 0),
                                       dilation: (Int, Int) = (1, 1), groups: Int = 1) -> Variable {
        let op = ConvTranspose2dOp(input: input.shape, weight: weight.shape, bias: bias?.shape, stride: stride, padding: padding,
                                   outputPadding: outputPadding, dilation: dilation, groups: groups)
        return op.apply([input, weight] + (bias.map { [$0] } ?? []))
    }
}

extension Tensor {
    /// 2-D convolution over an NCHW batch, without autograd; arguments, math and shapes as
    /// ``Variable/conv2d(_:weight:bias:stride:padding:dilation:groups:)``.
    public static func conv2d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                              padding: Conv2dPadding = .valid, dilation: (Int, Int) = (1, 1), groups: Int = 1) -> Tensor {
        let op = Conv2dOp(input: input.shape, weight: weight.shape, bias: bias?.shape, stride: stride,
                          padding: padding, dilation: dilation, groups: groups)
        return op.forward([input, weight] + (bias.map { [$0] } ?? []))
    }

    /// 2-D transposed convolution over an NCHW batch, without autograd; arguments, math and shapes as
    /// ``Variable/convTranspose2d(_:weight:bias:stride:padding:outputPadding:dilation:groups:)``.
    public static func convTranspose2d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                                       padding: (Int, Int) = (0, 0), outputPadding: (Int, Int) = (0, 0),
                                       dilation: (Int, Int) = (1, 1), groups: Int = 1) -> Tensor {
        let op = ConvTranspose2dOp(input: input.shape, weight: weight.shape, bias: bias?.shape, stride: stride, padding: padding,
                                   outputPadding: outputPadding, dilation: dilation, groups: groups)
        return op.forward([input, weight] + (bias.map { [$0] } ?? []))
    }
}
