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
    /// What the layer applies to its output beyond the convolution: the ReLU and 2 × 2 max pooling that followed it in
    /// the Float model, applied as each output is dequantised, which saves passes over the output (PyTorch fuses the
    /// ReLU as `ConvReLU2d`).
    public let fusion: Fusion

    /// The layers after a convolution that ``StaticQuantizedConv2d`` can apply itself.
    public struct Fusion: Sendable, Equatable {
        /// `max(y, 0)` (a ``ReLU``).
        public var relu: Bool
        /// The maximum of each 2 × 2 window at stride 2, no padding, the last odd row or column dropped (a
        /// ``MaxPool2d`` with kernel size 2 and the default stride): output `[N, C, ⌊Ho/2⌋, ⌊Wo/2⌋]`.
        public var maxPool2x2: Bool

        public init(relu: Bool = false, maxPool2x2: Bool = false) {
            self.relu = relu
            self.maxPool2x2 = maxPool2x2
        }

        /// The fusion of the leading `layers` the layer can apply: a ``ReLU``, a 2 × 2 ``MaxPool2d`` at stride 2
        /// without padding, or both in either order (the maximum and the clamp commute).
        init(following layers: ArraySlice<Module>) {
            self.init()
            for layer in layers {
                if type(of: layer) == ReLU.self && !relu {
                    relu = true
                } else if let pool = layer as? MaxPool2d, !maxPool2x2, pool.kernelSize == (2, 2), pool.stride == (2, 2),
                          pool.padding == (0, 0) {
                    maxPool2x2 = true
                } else {
                    break
                }
            }
        }

        /// How many layers this fusion applies.
        var layerCount: Int { (relu ? 1 : 0) + (maxPool2x2 ? 1 : 0) }

        /// The least output the dequantisation lets through: 0 with the ReLU, else −∞.
        var outputFloor: Float { relu ? 0 : -.infinity }
    }

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

    /// The quantised counterpart of `conv` (its current weight and bias) for inputs mapped by `input`, followed by
    /// the layers `fusing` names.
    ///
    /// - Precondition: one group's taps `inChannels/groups · kH · kW` are at most 65 793, where 32-bit sums of
    ///   255 · 128 products stop being exact.
    public init(_ conv: Conv2d, input: ActivationQuantization, fusing: Fusion = Fusion()) {
        let shape = conv.weight.shape
        precondition(shape[1] * shape[2] * shape[3] <= 65_793,
                     "StaticQuantizedConv2d: weight of shape \(shape) has more taps per output than 32-bit sums hold exactly")
        let weights = Int8Weights(quantizing: conv.weight.value.reshaped([shape[0], shape[1] * shape[2] * shape[3]]))
        convolution = Int8Convolution(conv, weights: weights)
        bias = conv.bias?.value.floats
        self.input = input
        fusion = fusing
        dequantization = ProductDequantization(activation: input, weights: weights, bias: bias, floor: fusing.outputFloor)
        super.init()
    }

    /// The convolution of `x` in int8, dequantised, plus the bias, then the ``fusion``'s ReLU and pooling.
    ///
    /// - Precondition: `x` is `float32`, `[N, inChannels, H, W]` or `[inChannels, H, W]`, and its padded size is at
    ///   least the dilated kernel; with pooling, the convolution's output is at least 2 × 2.
    public override func forward(_ x: Variable) -> Variable {
        precondition(x.value.dtype == .float32, "StaticQuantizedConv2d: input must be float32, got \(x.value.dtype) of shape \(x.shape)")
        return ConvolutionLayerSupport.batched(x, channels: inChannels, layer: "StaticQuantizedConv2d") { x in
            let (batch, height, width) = (x.shape[0], x.shape[2], x.shape[3])
            let g = convolution.geometry(height: height, width: width, layer: "StaticQuantizedConv2d")
            let pooled = fusion.maxPool2x2
            precondition(!pooled || (g.outputHeight >= 2 && g.outputWidth >= 2),
                         "StaticQuantizedConv2d: a fused 2×2 max pool needs an output of at least 2×2, got \(g.outputHeight)×\(g.outputWidth) for input \(x.shape)")
            let shape = pooled ? [batch, outChannels, g.outputHeight / 2, g.outputWidth / 2] : [batch, outChannels, g.outputHeight, g.outputWidth]
            var y = Tensor.empty(shape, dtype: .float32)
            x.value.withUnsafeBufferPointer(as: Float.self) { source in
                y.withUnsafeMutableBufferPointer(as: Float.self) { output in
                    convolution.convolve(source.baseAddress!, batch: batch, height: height, width: width, g,
                                         activation: self.input, dequantization: dequantization, maxPool2x2: pooled,
                                         into: output.baseAddress!)
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
                                           activation: self.input) { image, group, sums in
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
        dequantization = ProductDequantization(activation: input, weights: weights, bias: bias, floor: fusion.outputFloor)
    }

    public override var summary: String {
        "\(inChannels), \(outChannels), kernelSize: \(kernelSize), stride: \(stride), padding: \(padding)"
            + (dilation == (1, 1) ? "" : ", dilation: \(dilation)") + (groups == 1 ? "" : ", groups: \(groups)")
            + ", bias: \(bias != nil), int8, input scale: \(input.scale), zero point: \(input.zeroPoint)"
            + (fusion.relu ? ", fused ReLU" : "") + (fusion.maxPool2x2 ? ", fused 2×2 max pool" : "")
    }
}
