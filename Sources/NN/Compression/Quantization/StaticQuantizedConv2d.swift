import AutoGrad

/// A ``Conv2d`` layer in int8 with a fixed activation map (PyTorch's static post-training quantisation of
/// `nn.Conv2d`, eager mode): the input is mapped to unsigned bytes by a per-tensor scale and zero point chosen once
/// from calibration batches (``input``, see ``quantizeStatic(_:calibration:)``), the filters are ``Int8Weights``
/// with one symmetric scale per output channel, the convolution sums exactly in 32-bit integers (an im2row of the
/// quantised input through CKernels' `ck_gemm_u8s8s32`), and the bias is added in Float to the dequantised output.
///
/// Unlike PyTorch's quantised convolution, the output is Float (not requantised), so the layers that follow run
/// unchanged. Inputs outside the calibrated range saturate to its ends.
///
/// Inference only: the output carries no gradient (train the Float layer, then quantise). Shapes are ``Conv2d``'s:
/// input `[N, inChannels, H, W]` or `[inChannels, H, W]`, output `[N, outChannels, Ho, Wo]`; stride, padding,
/// dilation and groups are the Float layer's.
///
/// ```swift
/// let conv = Conv2d(1, 32, kernelSize: 3)
/// var observer = MinMaxObserver()
/// observer.observe(images)                                    // calibration
/// let q = StaticQuantizedConv2d(conv, input: observer.quantization)
/// let features = q(Variable(images))                          // [N, 32, 26, 26]
/// ```
public final class StaticQuantizedConv2d: Module, QuantizedLayer {
    private var convolution: Int8Convolution
    /// The bias, or nil for a layer without one.
    public private(set) var bias: [Float]?
    /// The fixed map of the input to unsigned bytes.
    public private(set) var input: ActivationQuantization
    /// The output's scale, zero-point share and bias per channel, fixed with ``input``.
    private var dequantization: ProductDequantization

    /// The quantised filters: `outChannels` rows of `inChannels/groups · kH · kW`.
    public var weights: Int8Weights { convolution.weights }
    /// Channels of the input.
    public var inChannels: Int { convolution.inChannels }
    /// Channels of the output.
    public var outChannels: Int { convolution.outChannels }
    /// `(kH, kW)`.
    public var kernelSize: (Int, Int) { convolution.kernelSize }
    /// Vertical and horizontal stride.
    public var stride: (Int, Int) { convolution.stride }
    /// Zero padding of the input (padding reads the code of 0, so it is exactly 0).
    public var padding: Conv2dPadding { convolution.padding }
    /// Vertical and horizontal spacing of the kernel taps.
    public var dilation: (Int, Int) { convolution.dilation }
    /// Number of channel groups.
    public var groups: Int { convolution.groups }

    /// The quantised counterpart of `conv` (its current weight and bias) for inputs mapped by `input`.
    ///
    /// - Precondition: one group's taps `inChannels/groups · kH · kW` are at most 65 793, where 32-bit sums of
    ///   255 · 128 products stop being exact.
    public init(_ conv: Conv2d, input: ActivationQuantization) {
        let shape = conv.weight.shape
        precondition(shape[1] * shape[2] * shape[3] <= 65_793,
                     "StaticQuantizedConv2d: weight of shape \(shape) has more taps per output than 32-bit sums hold exactly")
        let weights = Int8Weights(quantizing: conv.weight.value.reshaped([shape[0], shape[1] * shape[2] * shape[3]]))
        convolution = Int8Convolution(conv, weights: weights)
        bias = conv.bias?.value.floats
        self.input = input
        dequantization = ProductDequantization(activation: input, weights: weights, bias: bias)
        super.init()
    }

    /// The convolution of `x` in int8, dequantised, plus the bias.
    ///
    /// - Precondition: `x` is `float32`, `[N, inChannels, H, W]` or `[inChannels, H, W]`, and its padded size is at
    ///   least the dilated kernel.
    public override func forward(_ x: Variable) -> Variable {
        precondition(x.value.dtype == .float32, "StaticQuantizedConv2d: input must be float32, got \(x.value.dtype) of shape \(x.shape)")
        return ConvolutionLayerSupport.batched(x, channels: inChannels, layer: "StaticQuantizedConv2d") { x in
            let (batch, height, width) = (x.shape[0], x.shape[2], x.shape[3])
            let g = convolution.geometry(height: height, width: width, layer: "StaticQuantizedConv2d")
            var y = Tensor.empty([batch, outChannels, g.outputHeight, g.outputWidth], dtype: .float32)
            x.value.withUnsafeBufferPointer(as: Float.self) { source in
                y.withUnsafeMutableBufferPointer(as: Float.self) { output in
                    convolution.convolve(source.baseAddress!, batch: batch, height: height, width: width, g,
                                         activation: self.input, dequantization: dequantization, into: output.baseAddress!)
                }
            }
            return Variable(y)
        }
    }

    /// The exact sums `Σ q·w` of the integer convolution of `x` (`[N, inChannels, H, W]`), before the zero point's
    /// share is subtracted: `[N, outChannels, Ho, Wo]`, for tests against a plain integer loop.
    func integerSums(_ x: Tensor) -> (sums: [Int32], shape: [Int]) {
        let (batch, height, width) = (x.shape[0], x.shape[2], x.shape[3])
        let g = convolution.geometry(height: height, width: width, layer: "StaticQuantizedConv2d")
        let groupOutputs = outChannels / groups
        var result = [Int32](repeating: 0, count: batch * outChannels * g.positions)
        x.withUnsafeBufferPointer(as: Float.self) { source in
            result.withUnsafeMutableBufferPointer { result in
                convolution.forEachProduct(source.baseAddress!, batch: batch, height: height, width: width, g,
                                           activation: self.input) { image, group, sums, _ in
                    for o in 0..<groupOutputs {
                        for p in 0..<g.positions {
                            result[((image * outChannels) + group * groupOutputs + o) * g.positions + p] = sums[p * groupOutputs + o]
                        }
                    }
                }
            }
        }
        return (result, [batch, outChannels, g.outputHeight, g.outputWidth])
    }

    /// The shape of the Float layer's weight, which the stored `I8` weight keeps.
    private var weightShape: [Int] { [outChannels, inChannels / groups, kernelSize.0, kernelSize.1] }

    func quantizedState() -> [String: StoredTensor] {
        var state = weights.storedState(prefix: "weight", shape: weightShape)
        if let bias { state["bias"] = .float(Tensor(bias)) }
        state["input_scale"] = .float(Tensor(input.scale))
        state["input_zero_point"] = .integer(IntTensor(scalar: Int(input.zeroPoint)))
        return state
    }

    func loadQuantizedState(_ state: QuantizedStateReader) throws {
        let weights = try state.weights("weight", shape: weightShape)
        if bias != nil { bias = try state.floats("bias", count: outChannels) }
        input = try state.activation("input")
        convolution.replaceWeights(weights)
        dequantization = ProductDequantization(activation: input, weights: weights, bias: bias)
    }

    public override var summary: String {
        "\(inChannels), \(outChannels), kernelSize: \(kernelSize), stride: \(stride), padding: \(padding)"
            + (dilation == (1, 1) ? "" : ", dilation: \(dilation)") + (groups == 1 ? "" : ", groups: \(groups)")
            + ", bias: \(bias != nil), int8, input scale: \(input.scale), zero point: \(input.zeroPoint)"
    }
}
