import AutoGrad

/// A ``Linear`` layer with int8 weights and activations quantised per call (PyTorch's
/// `torch.ao.nn.quantized.dynamic.Linear`): `y ≈ x·Wᵀ + b` with `W` stored as ``Int8Weights`` (per-output-channel
/// symmetric scales), `x` mapped to 7-bit codes (0…127) by the range of the whole batch (``ActivationQuantization``,
/// PyTorch's `reduce_range` on x86), the product summed exactly in 32-bit integers, and `b` kept in Float. Seven bits
/// let AVX2 multiply the bytes as they are (CKernels' `ck_gemm_u7s8s32`), twice as fast as widening them, at every
/// level with the same result.
///
/// Inference only: the output carries no gradient (quantisation's rounding has none worth following; train the
/// Float layer, then quantise). Shapes are ``Linear``'s: input `[…, inFeatures]`, output `[…, outFeatures]`.
///
/// ```swift
/// let q = DynamicQuantizedLinear(Linear(784, 10))
/// let logits = q(Variable(Tensor.randn([32, 784])))   // [32, 10]
/// ```
public final class DynamicQuantizedLinear: Module, QuantizedLayer {
    /// The quantised weight.
    public private(set) var weights: Int8Weights
    /// The bias, or nil for a layer without one.
    public private(set) var bias: [Float]?

    /// The size of each input's last dimension.
    public var inFeatures: Int { weights.columns }
    /// The size of each output's last dimension.
    public var outFeatures: Int { weights.rows }

    /// The quantised counterpart of `linear` (its current weight and bias).
    public init(_ linear: Linear) {
        weights = Int8Weights(quantizing: linear.weight.value)
        bias = linear.bias?.value.floats
        super.init()
    }

    /// `x·Wᵀ + b` over the last dimension of `x`, in int8.
    ///
    /// - Precondition: `x` is `float32` and `x.shape.last == inFeatures`.
    public override func forward(_ x: Variable) -> Variable {
        precondition(x.rank >= 1 && x.shape.last == inFeatures,
                     "DynamicQuantizedLinear: input of shape \(x.shape) does not end in inFeatures \(inFeatures)")
        precondition(x.value.dtype == .float32, "DynamicQuantizedLinear: input must be float32, got \(x.value.dtype)")
        let rows = x.value.count / Swift.max(inFeatures, 1)
        var y = Tensor.zeros(Array(x.shape.dropLast()) + [outFeatures], dtype: .float32)
        x.value.withUnsafeBufferPointer(as: Float.self) { input in
            y.withUnsafeMutableBufferPointer(as: Float.self) { output in
                guard let xp = input.baseAddress, let yp = output.baseAddress else { return }
                quantizedProduct(xp, rows: rows, activation: ActivationQuantization(rangeOf: xp, count: input.count, largestCode: 127),
                                 weights: weights, bias: bias, into: yp)
            }
        }
        return Variable(y)
    }

    func quantizedState() -> [String: StoredTensor] {
        var state = weights.storedState(prefix: "weight")
        if let bias { state["bias"] = .float(Tensor(bias)) }
        return state
    }

    func loadQuantizedState(_ state: QuantizedStateReader) throws {
        weights = try state.weights("weight", rows: outFeatures, columns: inFeatures)
        if bias != nil { bias = try state.floats("bias", count: outFeatures) }
    }

    public override var summary: String { "in: \(inFeatures), out: \(outFeatures), bias: \(bias != nil), int8" }
}
