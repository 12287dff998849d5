extension Variable {
    /// Scaled dot-product attention as one fused op (PyTorch's `F.scaled_dot_product_attention`).
    ///
    /// For each problem of the broadcast leading dimensions `*`:
    /// `S = s·q·kᵀ + M`, `P = softmax(S)` along the keys, `P' = dropout(P)`, `output = P'·v`, with `s` the
    /// scale (default `1/√E`) and `M` the additive form of the mask (0 to attend, −∞ to hide; see
    /// ``AttentionMask``) and, when `isCausal`, −∞ for every key `j > i` of query `i` (top-left aligned, as PyTorch:
    /// with `Tq ≠ Tk` query `i` still sees keys `0…i`).
    ///
    /// Rows whose keys are all hidden (by the mask, by causality, or because `Tk = 0`) give an output row of zeros
    /// and pass no gradient, which is what PyTorch 2.13 gives for them (its softmax of an all-−∞ row is taken as 0).
    ///
    /// Gradients, with `g` the output's gradient and `D_i = Σ_c g_ic·output_ic`:
    /// `∂v = P'ᵀ·g`, `∂P = (g·vᵀ) ∘ dropoutMask`, `∂S = P ∘ (∂P − D)`, `∂q = s·∂S·k`, `∂k = s·∂Sᵀ·q`. The mask is a
    /// constant (no gradient). Second-order gradients work: a recorded backward (`createGraph: true`) builds these
    /// formulas from differentiable operations.
    ///
    /// The forward never forms all the scores at once: it works a block of queries against a block of keys at a
    /// time with a running softmax, keeping per row the log-sum-exp of its scores; the backward makes the weights
    /// again from `q`, `k` and that log-sum-exp instead of storing them. Only the dropout mask (when `p > 0`) is
    /// kept whole, so that the backward drops exactly what the forward dropped.
    ///
    /// Shapes: `query [*, Tq, E]`, `key [*, Tk, E]`, `value [*, Tk, Ev]` (rank ≥ 2 each, leading dimensions
    /// broadcast together and with the mask's), mask broadcastable to `[*, Tq, Tk]`; the output is `[*, Tq, Ev]`.
    /// Operands of different dtypes compute in `float64`.
    ///
    /// ```swift
    /// let q = Variable(Tensor.randn([8, 4, 64, 32]), requiresGrad: true)          // [batch, heads, T, E]
    /// let y = Variable.scaledDotProductAttention(query: q, key: q, value: q, isCausal: true)   // [8, 4, 64, 32]
    /// ```
    ///
    /// - Parameters:
    ///   - query: `q`, `[*, Tq, E]`.
    ///   - key: `k`, `[*, Tk, E]`.
    ///   - value: `v`, `[*, Tk, Ev]`.
    ///   - attentionMask: which pairs may attend, or an additive bias; nil for none.
    ///   - isCausal: hide the keys after each query. PyTorch rejects it together with a mask, and so does this.
    ///   - dropoutProbability: `p`, the probability that a weight is zeroed (the others are scaled by `1/(1 − p)`);
    ///     pass 0 outside training.
    ///   - scale: the factor `s` of `q·kᵀ`; nil for `1/√E`.
    ///   - generator: where the dropout mask comes from.
    /// - Precondition: the shapes agree as above, `E > 0`, `0 ≤ p ≤ 1`, and not both `attentionMask` and `isCausal`.
    public static func scaledDotProductAttention(query: Variable, key: Variable, value: Variable,
                                                 attentionMask: AttentionMask? = nil, isCausal: Bool = false,
                                                 dropoutProbability: Double = 0, scale: Double? = nil,
                                                 generator: RandomGenerator = .global) -> Variable {
        let route = AttentionRoute.choose(queries: query.shape.dropLast().last ?? 0, keys: key.shape.dropLast().last ?? 0,
                                          isCausal: isCausal)
        return ScaledDotProductAttention(mask: attentionMask, isCausal: isCausal, dropoutProbability: dropoutProbability,
                                         scale: scale, generator: generator, route: route)(query, key, value)
    }
}

/// The fused attention op behind ``Variable/scaledDotProductAttention(query:key:value:attentionMask:isCausal:dropoutProbability:scale:generator:)``:
/// inputs `(q, k, v)`, state from its forward (the rows' log-sum-exp and the dropout multipliers) kept for its backward.
final class ScaledDotProductAttention: Op {
    var name: String { "scaledDotProductAttention" }

    let mask: AttentionMask?
    let isCausal: Bool
    let dropoutProbability: Double
    let scale: Double?
    let generator: RandomGenerator
    /// The blocking of the scores; forced by tests, else ``AttentionRoute/choose(queries:keys:isCausal:)``.
    let route: AttentionRoute

    /// Set by ``forward(_:)``: the layout, each row's `log Σ exp(scores)` `[batch, tq]`, and the dropout
    /// multipliers (`[*, tq, tk]`, 0 or `1/(1 − p)`) when `p > 0`.
    private(set) var layout: AttentionLayout?
    private(set) var logSumExp: Tensor?
    private(set) var dropoutMultipliers: Tensor?

    init(mask: AttentionMask?, isCausal: Bool, dropoutProbability: Double, scale: Double?, generator: RandomGenerator,
         route: AttentionRoute) {
        precondition(dropoutProbability >= 0 && dropoutProbability <= 1,
                     "scaledDotProductAttention: dropout probability \(dropoutProbability) is not in [0, 1]")
        precondition(!(isCausal && mask != nil), "scaledDotProductAttention: pass either an attention mask or isCausal, not both (as PyTorch)")
        self.mask = mask
        self.isCausal = isCausal
        self.dropoutProbability = dropoutProbability
        self.scale = scale
        self.generator = generator
        self.route = route
    }

    func forward(_ inputs: [Tensor]) -> Tensor {
        precondition(inputs.count == 3, "scaledDotProductAttention: expected query, key and value, got \(inputs.count) inputs")
        let dtype = inputs.map(\.dtype).dropFirst().reduce(inputs[0].dtype, DType.promoted)
        let values = inputs.map { $0.to(dtype) }
        let additive = mask?.additive(dtype: dtype)
        let layout = AttentionLayout(query: values[0].shape, key: values[1].shape, value: values[2].shape, mask: additive?.shape,
                                     scale: scale, isCausal: isCausal)
        self.layout = layout
        if dropoutProbability > 0 {
            dropoutMultipliers = dropoutProbability == 1
                ? Tensor.zeros(layout.weightShape, dtype: dtype)
                : (Tensor.uniform(layout.weightShape, dtype: dtype, generator: generator) .>= dropoutProbability) * (1 / (1 - dropoutProbability))
        }
        let output = Tensor(uninitializedShape: layout.outputShape, dtype: dtype)
        let lse = Tensor(uninitializedShape: [layout.batch, layout.tq], dtype: dtype)
        logSumExp = lse
        guard layout.batch > 0 && layout.tq > 0 else { return output }
        _ = BLAS.prepared
        switch dtype {
        case .float32: run(Float.self, values, additive) { layout, x in
            AttentionKernels.forward(layout, x, route: route, output: output.storage.pointer(Float.self), logSumExp: lse.storage.pointer(Float.self))
        }
        case .float64: run(Double.self, values, additive) { layout, x in
            AttentionKernels.forward(layout, x, route: route, output: output.storage.pointer(Double.self), logSumExp: lse.storage.pointer(Double.self))
        }
        }
        return output
    }

    /// Calls `body` with the layout and pointers to the operands in `T`.
    private func run<T: TensorScalar>(_: T.Type, _ values: [Tensor], _ additive: Tensor?,
                                      _ body: (AttentionLayout, AttentionOperands<T>) -> Void) {
        let x = AttentionOperands(query: UnsafePointer(values[0].storage.pointer(T.self)),
                                  key: UnsafePointer(values[1].storage.pointer(T.self)),
                                  value: UnsafePointer(values[2].storage.pointer(T.self)),
                                  mask: additive.map { UnsafePointer($0.storage.pointer(T.self)) },
                                  dropout: dropoutMultipliers.map { UnsafePointer($0.storage.pointer(T.self)) })
        withExtendedLifetime((values, additive, dropoutMultipliers)) { body(layout!, x) }
    }

    func backward(_ gradient: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        backward(gradient, inputs: inputs, output: output, needed: inputs.map(\.requiresGrad))
    }

    /// The fused kernels for a plain backward; the same formulas as differentiable operations when the backward
    /// itself is recorded.
    func backward(_ gradient: Variable, inputs: [Variable], output: Variable, needed: [Bool]) -> [Variable?] {
        Graph.isRecording ? differentiableBackward(gradient, inputs: inputs, needed: needed)
                          : fusedBackward(gradient, inputs: inputs, output: output, needed: needed)
    }

    private func fusedBackward(_ gradient: Variable, inputs: [Variable], output: Variable, needed: [Bool]) -> [Variable?] {
        guard let layout, let logSumExp else { preconditionFailure("scaledDotProductAttention: backward before forward") }
        let dtype = output.dtype
        let values = inputs.map { $0.value.to(dtype) }, g = gradient.value.to(dtype), additive = mask?.additive(dtype: dtype)
        let shapes = [layout.batchShape + [layout.tq, layout.e], layout.batchShape + [layout.tk, layout.e], layout.batchShape + [layout.tk, layout.ev]]
        // The kernels zero each problem's rows where they accumulate them (while they are in cache); with nothing to
        // compute, the gradients are zeros.
        let computes = layout.batch > 0 && layout.tq > 0 && layout.tk > 0
        let results = (0..<3).map { needed[$0] ? (computes ? Tensor(uninitializedShape: shapes[$0], dtype: dtype)
                                                          : Tensor.zeros(shapes[$0], dtype: dtype)) : nil }
        if computes {
            _ = BLAS.prepared
            switch dtype {
            case .float32: run(Float.self, values, additive) { layout, x in
                AttentionKernels.backward(layout, x, route: route, output: output.value.storage.pointer(Float.self),
                                          logSumExp: logSumExp.storage.pointer(Float.self), gradient: g.storage.pointer(Float.self),
                                          queryGradient: results[0]?.storage.pointer(Float.self),
                                          keyGradient: results[1]?.storage.pointer(Float.self),
                                          valueGradient: results[2]?.storage.pointer(Float.self))
            }
            case .float64: run(Double.self, values, additive) { layout, x in
                AttentionKernels.backward(layout, x, route: route, output: output.value.storage.pointer(Double.self),
                                          logSumExp: logSumExp.storage.pointer(Double.self), gradient: g.storage.pointer(Double.self),
                                          queryGradient: results[0]?.storage.pointer(Double.self),
                                          keyGradient: results[1]?.storage.pointer(Double.self),
                                          valueGradient: results[2]?.storage.pointer(Double.self))
            }
            }
        }
        return zip(results, inputs).map { result, input in result.map { Variable($0.to(input.dtype)) } }
    }

    /// The gradients composed from differentiable operations on `q`, `k`, `v` and `g`, the weights recomputed
    /// from scratch; a recorded backward uses these, so they can be differentiated again.
    private func differentiableBackward(_ g: Variable, inputs: [Variable], needed: [Bool]) -> [Variable?] {
        guard let layout else { preconditionFailure("scaledDotProductAttention: backward before forward") }
        let (q, k, v) = (inputs[0], inputs[1], inputs[2])
        let dtype = DType.promoted(DType.promoted(q.dtype, k.dtype), v.dtype)
        var scores = Variable.matmul(q, k, transposeB: true) * layout.scale
        var keptRows: Tensor?
        if var bias = hiddenScores(layout, dtype: dtype) {
            // Rows with every key hidden get weights 0 (not softmax's NaN): their scores are left unmasked, and the
            // weights multiplied by 0, so nothing undefined enters the graph.
            let hiddenRows = layout.tk == 0 ? Tensor.ones(Array(bias.shape.dropLast()) + [1], dtype: dtype)
                                            : bias.max(axes: [-1], keepDims: true) .== -Double.infinity
            if hiddenRows.max().item > 0 {
                bias = Tensor.where(hiddenRows, Tensor(0, dtype: dtype), bias)
                keptRows = 1 - hiddenRows
            }
            scores = scores + Variable(bias)
        }
        var weights = scores.softmax(axis: -1)
        if let keptRows { weights = weights * Variable(keptRows) }
        let dropped = dropoutMultipliers.map { weights * Variable($0) } ?? weights
        var gradients: [Variable?] = [nil, nil, nil]
        if needed[2] { gradients[2] = Variable.matmul(dropped, g, transposeA: true) }
        if needed[0] || needed[1] {
            var weightGradient = Variable.matmul(g, v, transposeB: true)
            if let dropoutMultipliers { weightGradient = weightGradient * Variable(dropoutMultipliers) }
            let scoreGradient = weights * (weightGradient - (weights * weightGradient).sum(axes: [-1], keepDims: true))
            if needed[0] { gradients[0] = Variable.matmul(scoreGradient, k) * layout.scale }
            if needed[1] { gradients[1] = Variable.matmul(scoreGradient, q, transposeA: true) * layout.scale }
        }
        return gradients
    }

    /// The mask in additive form with the causal rule merged in (`[…, tq, tk]`), or nil when nothing is hidden.
    private func hiddenScores(_ layout: AttentionLayout, dtype: DType) -> Tensor? {
        let additive = mask?.additive(dtype: dtype)
        guard isCausal else { return additive }
        let (tq, tk) = (layout.tq, layout.tk)
        var causal = [Double](repeating: 0, count: tq * tk)
        for i in 0..<tq { for j in 0..<tk where j > i { causal[i * tk + j] = -.infinity } }
        return Tensor(shape: [tq, tk], scalars: causal, dtype: dtype)
    }
}
