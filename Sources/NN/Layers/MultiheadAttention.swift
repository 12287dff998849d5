import AutoGrad

/// Multi-head attention (PyTorch's `nn.MultiheadAttention`): `output = concat(head₁ … head_H)·W_oᵀ + b_o`, with
/// `head_h = attention(q·W_q,hᵀ + b_q,h, k·W_k,hᵀ + b_k,h, v·W_v,hᵀ + b_v,h)` and `attention` the scaled dot-product
/// attention of `Variable.scaledDotProductAttention(query:key:value:attentionMask:isCausal:dropoutProbability:scale:generator:)`
/// over `embedDim / numHeads` features per head.
///
/// Shapes (`L` queries, `S` keys, `N` batch): query `[L, N, E]`, key `[S, N, kdim]`, value `[S, N, vdim]`
/// (`[N, L, E]` … with `batchFirst`); output like the query. Attention weights, when asked for, are `[N, L, S]`
/// averaged over heads or `[N, H, L, S]` per head, whatever `batchFirst`.
///
/// Parameters and state-dict keys are PyTorch's: `in_proj_weight` `[3E, E]` (Xavier uniform) when key and value
/// have the query's width, else `q_proj_weight` `[E, E]`, `k_proj_weight` `[E, kdim]`, `v_proj_weight` `[E, vdim]`;
/// `in_proj_bias` `[3E]` (zeros) with `bias`; `out_proj.weight` `[E, E]` and `out_proj.bias` (zeros).
///
/// Masks use PyTorch's conventions: `keyPaddingMask` `[N, S]` is non-zero at keys to ignore; `attnMask` is an
/// `AttentionMask` of shape `[L, S]` or `[N·H, L, S]` (PyTorch's boolean `attn_mask` is `AttentionMask.blocked(_:)`).
/// A query whose keys are all masked gets an output of zeros (PyTorch's SDPA path, `needWeights: false`;
/// with weights PyTorch gives NaN there).
///
/// ```swift
/// let attention = MultiheadAttention(embedDim: 64, numHeads: 4, batchFirst: true)
/// let x = Variable(Tensor.randn([8, 20, 64]))
/// let (y, weights) = attention.forward(query: x, key: x, value: x)   // [8, 20, 64], [8, 20, 20]
/// ```
public final class MultiheadAttention: Module {
    // Stored under PyTorch's names, which reflection turns into the state-dict keys.
    @Parameter private var in_proj_weight: Variable?
    @Parameter private var q_proj_weight: Variable?
    @Parameter private var k_proj_weight: Variable?
    @Parameter private var v_proj_weight: Variable?
    @Parameter private var in_proj_bias: Variable?
    private let out_proj: Linear

    /// The width `E` of queries and outputs.
    public let embedDim: Int
    /// The number of heads `H`; each sees `E / H` features.
    public let numHeads: Int
    /// The widths of keys and values.
    public let kdim: Int, vdim: Int
    /// The dropout probability on the attention weights, applied in training mode.
    public let dropout: Double
    /// Whether inputs and outputs are `[N, L, E]` rather than `[L, N, E]`.
    public let batchFirst: Bool
    /// Where dropout masks come from.
    public let generator: RandomGenerator

    /// The packed query, key and value projection `[3E, E]` (`in_proj_weight`), or nil when kdim or vdim differ from E.
    public var inProjWeight: Variable? { in_proj_weight }
    /// The separate projections (`q_proj_weight`, `k_proj_weight`, `v_proj_weight`), present when kdim or vdim differ from E.
    public var qProjWeight: Variable? { q_proj_weight }
    public var kProjWeight: Variable? { k_proj_weight }
    public var vProjWeight: Variable? { v_proj_weight }
    /// The projections' bias `[3E]` (`in_proj_bias`), or nil without `bias`.
    public var inProjBias: Variable? { in_proj_bias }
    /// The output projection (`out_proj`).
    public var outProj: Linear { out_proj }

    /// Attention over `numHeads` heads of `embedDim / numHeads` features, with PyTorch's defaults and initialisation.
    ///
    /// - Precondition: `numHeads` divides `embedDim`; sizes positive; `0 ≤ dropout ≤ 1`.
    public init(embedDim: Int, numHeads: Int, dropout: Double = 0, bias: Bool = true, kdim: Int? = nil, vdim: Int? = nil,
                batchFirst: Bool = false, dtype: DType = .float32, generator: RandomGenerator = .global) {
        precondition(embedDim > 0 && numHeads > 0 && embedDim % numHeads == 0,
                     "MultiheadAttention: numHeads \(numHeads) must divide embedDim \(embedDim), both positive")
        precondition(dropout >= 0 && dropout <= 1, "MultiheadAttention: dropout \(dropout) is not in [0, 1]")
        let kdim = kdim ?? embedDim, vdim = vdim ?? embedDim
        precondition(kdim > 0 && vdim > 0, "MultiheadAttention: kdim \(kdim) and vdim \(vdim) must be positive")
        self.embedDim = embedDim
        self.numHeads = numHeads
        self.kdim = kdim
        self.vdim = vdim
        self.dropout = dropout
        self.batchFirst = batchFirst
        self.generator = generator
        func xavier(_ shape: [Int]) -> Variable {
            let w = Variable(Tensor.zeros(shape, dtype: dtype))
            Init.xavierUniform(w, generator: generator)
            return w
        }
        if kdim == embedDim && vdim == embedDim {
            in_proj_weight = xavier([3 * embedDim, embedDim])
        } else {
            q_proj_weight = xavier([embedDim, embedDim])
            k_proj_weight = xavier([embedDim, kdim])
            v_proj_weight = xavier([embedDim, vdim])
        }
        in_proj_bias = bias ? Variable(Tensor.zeros([3 * embedDim], dtype: dtype)) : nil
        out_proj = Linear(embedDim, embedDim, bias: bias, dtype: dtype, generator: generator)
        if let b = out_proj.bias { Init.zeros(b) }
        super.init()
    }

    /// Self-attention of `x` (query, key and value alike), without weights.
    public override func forward(_ x: Variable) -> Variable {
        forward(query: x, key: x, value: x, needWeights: false).output
    }

    /// Attends each query to the keys and returns the output and, with `needWeights`, the attention weights.
    ///
    /// - Parameters:
    ///   - query: `[N, L, E]` (batch first) or `[L, N, E]`.
    ///   - key: `[N, S, kdim]` (batch first) or `[S, N, kdim]`.
    ///   - value: `[N, S, vdim]` (batch first) or `[S, N, vdim]`.
    ///   - keyPaddingMask: `[N, S]`, non-zero at keys every query of that batch entry ignores.
    ///   - needWeights: also return the weights (after dropout, as PyTorch); computed from separate operations
    ///     instead of the fused attention, so pass false when they are not wanted.
    ///   - attnMask: `[L, S]` or `[N·H, L, S]`, in any of `AttentionMask`'s forms.
    ///   - averageAttnWeights: weights averaged over heads (`[N, L, S]`) rather than per head (`[N, H, L, S]`).
    ///   - isCausal: hide from query `i` the keys after `i`. Unlike PyTorch, where it is only a hint about
    ///     `attnMask`, this applies the rule itself (combined with any mask given).
    /// - Precondition: shapes as in the type's discussion.
    public func forward(query: Variable, key: Variable, value: Variable, keyPaddingMask: Tensor? = nil, needWeights: Bool = true,
                        attnMask: AttentionMask? = nil, averageAttnWeights: Bool = true,
                        isCausal: Bool = false) -> (output: Variable, weights: Variable?) {
        let (q, k, v) = projectedHeads(query: query, key: key, value: value)
        let (n, l, s) = (q.shape[0], q.shape[2], k.shape[2])
        var mask = combinedMask(attnMask, keyPaddingMask: keyPaddingMask, n: n, l: l, s: s, dtype: q.dtype)
        let p = isTraining ? dropout : 0
        let heads: Variable, weights: Variable?
        if needWeights {
            if isCausal { mask = (mask ?? Tensor.zeros([l, s], dtype: q.dtype)) + causalMask(l, s, offset: 0, dtype: q.dtype) }
            var scores = Variable.matmul(q, k, transposeB: true) * (1 / Double(q.shape[3]).squareRoot())
            if let mask { scores = scores + Variable(mask) }
            let w = NN.dropout(scores.softmax(axis: -1), p: p, generator: generator)
            heads = Variable.matmul(w, v)
            weights = averageAttnWeights ? w.mean(axes: [1]) : w
        } else {
            let causalOnly = isCausal && mask == nil
            if isCausal && !causalOnly { mask = mask! + causalMask(l, s, offset: 0, dtype: q.dtype) }
            heads = Variable.scaledDotProductAttention(query: q, key: k, value: v, attentionMask: mask.map { .additive($0) },
                                                       isCausal: causalOnly, dropoutProbability: p, generator: generator)
            weights = nil
        }
        return (merged(heads), weights)
    }

    // MARK: Pieces shared with the cached forward

    /// The inputs projected and split into heads, each `[N, H, T, E/H]`.
    func projectedHeads(query: Variable, key: Variable, value: Variable) -> (Variable, Variable, Variable) {
        let shapes = "query \(query.shape), key \(key.shape), value \(value.shape)"
        precondition(query.rank == 3 && key.rank == 3 && value.rank == 3,
                     "MultiheadAttention: query, key and value must have rank 3 (\(batchFirst ? "[N, T, E]" : "[T, N, E]")), got \(shapes)")
        precondition(query.shape[2] == embedDim && key.shape[2] == kdim && value.shape[2] == vdim,
                     "MultiheadAttention: widths must be embedDim \(embedDim), kdim \(kdim), vdim \(vdim), got \(shapes)")
        let batchAxis = batchFirst ? 0 : 1
        precondition(key.shape[batchAxis] == query.shape[batchAxis] && value.shape[batchAxis] == query.shape[batchAxis]
                     && key.shape[1 - batchAxis] == value.shape[1 - batchAxis],
                     "MultiheadAttention: batch sizes or key/value lengths differ, got \(shapes)")
        func batchMajor(_ x: Variable) -> Variable { batchFirst ? x : x.transposed(0, 1) }
        let e = embedDim
        func bias(_ part: Int) -> Variable? { in_proj_bias?.sliced(axis: 0, start: part * e, end: (part + 1) * e) }
        func project(_ x: Variable, _ weight: Variable, _ bias: Variable?) -> Variable {
            Variable.linear(batchMajor(x), weight: weight, bias: bias)
        }
        let q: Variable, k: Variable, v: Variable
        if let packed = in_proj_weight, query === key && key === value {
            // Self-attention: one product for all three projections.
            let qkv = project(query, packed, in_proj_bias)
            (q, k, v) = (qkv.sliced(axis: 2, start: 0, end: e), qkv.sliced(axis: 2, start: e, end: 2 * e),
                         qkv.sliced(axis: 2, start: 2 * e, end: 3 * e))
        } else if let packed = in_proj_weight {
            q = project(query, packed.sliced(axis: 0, start: 0, end: e), bias(0))
            k = project(key, packed.sliced(axis: 0, start: e, end: 2 * e), bias(1))
            v = project(value, packed.sliced(axis: 0, start: 2 * e, end: 3 * e), bias(2))
        } else {
            q = project(query, q_proj_weight!, bias(0))
            k = project(key, k_proj_weight!, bias(1))
            v = project(value, v_proj_weight!, bias(2))
        }
        return (splitHeads(q), splitHeads(k), splitHeads(v))
    }

    /// `[N, T, E]` → `[N, H, T, E/H]`.
    private func splitHeads(_ x: Variable) -> Variable {
        x.reshaped([x.shape[0], x.shape[1], numHeads, embedDim / numHeads]).permuted([0, 2, 1, 3])
    }

    /// `[N, H, L, E/H]` → the output projection of `[N, L, E]`, in the caller's layout.
    func merged(_ heads: Variable) -> Variable {
        let (n, l) = (heads.shape[0], heads.shape[2])
        let y = out_proj(heads.permuted([0, 2, 1, 3]).reshaped([n, l, embedDim]))
        return batchFirst ? y : y.transposed(0, 1)
    }

    /// The attention mask and the key padding mask as one additive mask broadcastable to `[N, H, L, S]`, or nil.
    private func combinedMask(_ attnMask: AttentionMask?, keyPaddingMask: Tensor?, n: Int, l: Int, s: Int, dtype: DType) -> Tensor? {
        var mask: Tensor?
        if let attnMask {
            let t = attnMask.additive(dtype: dtype)
            if t.shape == [l, s] { mask = t }
            else {
                precondition(t.shape == [n * numHeads, l, s],
                             "MultiheadAttention: attnMask must be [\(l), \(s)] or [\(n * numHeads), \(l), \(s)], got \(t.shape)")
                mask = t.reshaped([n, numHeads, l, s])
            }
        }
        if let keyPaddingMask {
            precondition(keyPaddingMask.shape == [n, s], "MultiheadAttention: keyPaddingMask must be [\(n), \(s)], got \(keyPaddingMask.shape)")
            let padding = AttentionMask.blocked(keyPaddingMask).additive(dtype: dtype).reshaped([n, 1, 1, s])
            mask = mask.map { $0 + padding } ?? padding
        }
        return mask
    }
}

/// `[l, s]` additive mask hiding from query `i` the keys after `offset + i` (−∞ there, 0 elsewhere).
func causalMask(_ l: Int, _ s: Int, offset: Int, dtype: DType) -> Tensor {
    var values = [Double](repeating: 0, count: l * s)
    for i in 0..<l { for j in 0..<s where j > offset + i { values[i * s + j] = -.infinity } }
    return Tensor(shape: [l, s], scalars: values, dtype: dtype)
}
