/// Which query–key pairs an attention may use, in one of the three forms PyTorch accepts.
///
/// The mask broadcasts to the scores `[*, Tq, Tk]`. Boolean masks are tensors of 0/1 (any non-zero counts as
/// set); the two boolean cases differ only in what a set element means, because PyTorch's two APIs disagree:
/// `F.scaled_dot_product_attention` takes `True` = may attend (``allowed(_:)``), while `nn.MultiheadAttention` and
/// the Transformer layers take `True` = may not attend (``blocked(_:)``). Naming the meaning in the case keeps a
/// mask ported from either API right.
public enum AttentionMask {
    /// Non-zero where the query may attend to the key (`F.scaled_dot_product_attention`'s boolean mask).
    case allowed(Tensor)
    /// Non-zero where the query may not attend to the key (`nn.MultiheadAttention`'s boolean `attn_mask` and
    /// `key_padding_mask`).
    case blocked(Tensor)
    /// Added to the scores before the softmax (0 to attend, −∞ to hide, anything else to bias).
    case additive(Tensor)

    /// The mask's tensor, whichever its form.
    public var tensor: Tensor {
        switch self {
        case .allowed(let t), .blocked(let t), .additive(let t): return t
        }
    }

    /// The mask as values added to the scores, in `dtype`: 0 where attending and −∞ where not for the boolean
    /// forms, the tensor itself for ``additive(_:)``. Same shape as ``tensor``.
    public func additive(dtype: DType) -> Tensor {
        let zero = Tensor(0, dtype: dtype), hidden = Tensor(-Double.infinity, dtype: dtype)
        switch self {
        case .allowed(let t): return Tensor.where(t, zero, hidden)
        case .blocked(let t): return Tensor.where(t, hidden, zero)
        case .additive(let t): return t.to(dtype)
        }
    }
}
