// The convolution primitives: a closed family of three bilinear ops. Each one's gradients are
// again ops of the family, so every order of derivative works (gradient penalties through a conv
// discriminator differentiate the input gradient once more).
//
// With ⟨·,·⟩ the elementwise inner product, all three are views of one trilinear form
//     T(x, W, y) = ⟨conv(x, W), y⟩ = ⟨x, convᵀ(y, W)⟩ = ⟨W, weightGrad(x, y)⟩,
// and each op's gradient in one argument is the op that pairs the other two:
//     Conv2dOp            (x, W) → conv(x, W)         ∂x = convᵀ(g, W)      ∂W = weightGrad(x, g)
//     ConvTranspose2dOp   (y, W) → convᵀ(y, W)        ∂y = conv(g, W)       ∂W = weightGrad(g, y)
//     Conv2dWeightGradOp  (x, y) → weightGrad(x, y)   ∂x = convᵀ(y, g)      ∂y = conv(x, g)
// Groups and dilation are part of the shared options, so the identities hold for them too.
// Conv2dOp and ConvTranspose2dOp also take an optional bias `b` (one value per output channel), added as the
// kernels write each chunk of output; its gradient is g summed over the batch and the positions.

/// `y = conv(x, W) + b` (cross-correlation, as PyTorch's `conv2d`).
///
/// Inputs: `x` `[N, C, H, W]`, `W` `[O, C/G, kH, kW]`, optionally `b` `[O]`. Output `[N, O, Ho, Wo]`, `Ho`
/// the natural size unless `outputSize` crops it.
struct Conv2dOp: Op {
    let options: Conv2dOptions
    let outputSize: (Int, Int)?
    var name: String { "Conv2d" }

    func geometry(_ x: [Int], _ w: [Int]) -> Conv2dGeometry {
        precondition(x.count == 4 && w.count == 4, "conv2d: input \(x) and weight \(w) must both have rank 4")
        precondition(w[1] * options.groups == x[1],
                     "conv2d: weight \(w) expects \(w[1]) × groups \(options.groups) = \(w[1] * options.groups) input channels, input \(x) has \(x[1])")
        return options.geometry(batch: x[0], inChannels: x[1], outChannels: w[0], inputSize: (x[2], x[3]),
                                kernelSize: (w[2], w[3]), outputSize: outputSize, op: "conv2d")
    }

    func forward(_ inputs: [Tensor]) -> Tensor {
        ConvolutionKernels.forward(inputs[0], inputs[1], bias: inputs.count > 2 ? inputs[2] : nil,
                                   geometry(inputs[0].shape, inputs[1].shape))
    }

    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        backward(g, inputs: inputs, output: output, needed: inputs.map(\.requiresGrad))
    }

    /// Runs the input-gradient convolution only when `x`'s gradient is needed, the weight-gradient one only when `W`'s is.
    func backward(_ g: Variable, inputs: [Variable], output: Variable, needed: [Bool]) -> [Variable?] {
        let (x, w) = (inputs[0], inputs[1])
        let gx = needed[0]
            ? ConvTranspose2dOp(options: options, inputSize: (x.shape[2], x.shape[3]))(g, w) : nil
        let gw = needed[1]
            ? Conv2dWeightGradOp(options: options, kernelSize: (w.shape[2], w.shape[3]))(x, g) : nil
        return [gx, gw] + channelBiasGradient(g, inputs, needed)
    }
}

/// `x = convᵀ(y, W) + b`, the adjoint of ``Conv2dOp`` in its input, plus a bias (PyTorch's
/// `conv_transpose2d` with the output size fixed).
///
/// Inputs: `y` `[N, O, Ho, Wo]`, `W` `[O, C/G, kH, kW]`, optionally `b` `[C]`. Output `[N, C, H, W]` with
/// `(H, W)` = `inputSize`, the size of the convolution input this is the adjoint for.
struct ConvTranspose2dOp: Op {
    let options: Conv2dOptions
    let inputSize: (Int, Int)
    var name: String { "ConvTranspose2d" }

    func geometry(_ y: [Int], _ w: [Int]) -> Conv2dGeometry {
        precondition(y.count == 4 && w.count == 4, "convTranspose2d: input \(y) and weight \(w) must both have rank 4")
        precondition(w[0] == y[1], "convTranspose2d: weight \(w) expects \(w[0]) input channels, input \(y) has \(y[1])")
        return options.geometry(batch: y[0], inChannels: w[1] * options.groups, outChannels: y[1], inputSize: inputSize,
                                kernelSize: (w[2], w[3]), outputSize: (y[2], y[3]), op: "convTranspose2d")
    }

    func forward(_ inputs: [Tensor]) -> Tensor {
        ConvolutionKernels.inputGradient(inputs[0], inputs[1], bias: inputs.count > 2 ? inputs[2] : nil,
                                         geometry(inputs[0].shape, inputs[1].shape))
    }

    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        backward(g, inputs: inputs, output: output, needed: inputs.map(\.requiresGrad))
    }

    /// Runs the convolution for `y`'s gradient and the weight-gradient one only for the inputs that need them.
    func backward(_ g: Variable, inputs: [Variable], output: Variable, needed: [Bool]) -> [Variable?] {
        let (y, w) = (inputs[0], inputs[1])
        let gy = needed[0] ? Conv2dOp(options: options, outputSize: (y.shape[2], y.shape[3]))(g, w) : nil
        let gw = needed[1] ? Conv2dWeightGradOp(options: options, kernelSize: (w.shape[2], w.shape[3]))(g, y) : nil
        return [gy, gw] + channelBiasGradient(g, inputs, needed)
    }
}

/// `∂⟨conv(x, W), y⟩/∂W` as a function of `x` and `y`: the adjoint of ``Conv2dOp`` in its weight.
///
/// Inputs: `x` `[N, C, H, W]`, `y` `[N, O, Ho, Wo]`. Output `[O, C/G, kH, kW]` with `(kH, kW)` =
/// `kernelSize`.
struct Conv2dWeightGradOp: Op {
    let options: Conv2dOptions
    let kernelSize: (Int, Int)
    var name: String { "Conv2dWeightGrad" }

    func geometry(_ x: [Int], _ y: [Int]) -> Conv2dGeometry {
        precondition(x.count == 4 && y.count == 4 && x[0] == y[0],
                     "conv2d weight gradient: input \(x) and output gradient \(y) must have rank 4 and one batch size")
        return options.geometry(batch: x[0], inChannels: x[1], outChannels: y[1], inputSize: (x[2], x[3]),
                                kernelSize: kernelSize, outputSize: (y[2], y[3]), op: "conv2d weight gradient")
    }

    func forward(_ inputs: [Tensor]) -> Tensor {
        ConvolutionKernels.weightGradient(inputs[0], inputs[1], geometry(inputs[0].shape, inputs[1].shape))
    }

    func backward(_ h: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        backward(h, inputs: inputs, output: output, needed: inputs.map(\.requiresGrad))
    }

    /// Runs each of the two convolutions only when its input's gradient is needed.
    func backward(_ h: Variable, inputs: [Variable], output: Variable, needed: [Bool]) -> [Variable?] {
        let (x, y) = (inputs[0], inputs[1])
        let gx = needed[0] ? ConvTranspose2dOp(options: options, inputSize: (x.shape[2], x.shape[3]))(y, h) : nil
        let gy = needed[1] ? Conv2dOp(options: options, outputSize: (y.shape[2], y.shape[3]))(x, h) : nil
        return [gx, gy]
    }
}

/// The gradient of a per-channel bias (the third input, when there is one): `g` summed over the batch and the
/// positions, `[N, C, H, W] → [C]`, when `needed`; empty without a bias.
private func channelBiasGradient(_ g: Variable, _ inputs: [Variable], _ needed: [Bool]) -> [Variable?] {
    guard inputs.count > 2 else { return [] }
    return [needed[2] ? g.sum(axes: [0, 2, 3]) : nil]
}
