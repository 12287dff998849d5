/// The cosine of the angle between `a` and `b` along `axis` (PyTorch 2.x's `F.cosine_similarity`):
///
///     cos = Σ (a / max(‖a‖, ε)) · (b / max(‖b‖, ε))
///
/// with `‖·‖` the 2-norm along `axis`. Each vector is normalised before the product (PyTorch 2's formula, which
/// keeps the result within [−1, 1]), and each norm is clamped at `eps` separately.
///
/// Gradient as PyTorch's: the clamp is not differentiated (PyTorch clamps in place without recording), so below
/// `eps` the norm's own gradient still flows, and at a zero vector that gradient is 0 (see
/// `Variable.norm(p:axes:keepDims:)`). Differentiable again.
///
/// Shapes: `a` and `b` broadcast to one shape; the result has it without `axis`.
/// - Precondition: broadcastable shapes; a valid axis of the broadcast shape.
public func cosineSimilarity(_ a: Variable, _ b: Variable, axis: Int = 1, eps: Double = 1e-8) -> Variable {
    let shape = Broadcasting.shape(a.shape, b.shape, op: "cosineSimilarity")
    let (x, y) = (a.broadcast(to: shape), b.broadcast(to: shape))
    func clampedNorm(_ v: Variable) -> Variable {
        let n = v.norm(axes: [axis], keepDims: true)
        return n + Variable(n.value.clamped(min: eps) - n.value)
    }
    return ((x / clampedNorm(x)) * (y / clampedNorm(y))).sum(axes: [axis])
}

/// ``cosineSimilarity(_:_:axis:eps:)`` with fixed options (PyTorch's `nn.CosineSimilarity`, defaults `dim=1`,
/// `eps=1e-8`); no parameters.
public struct CosineSimilarity: Sendable {
    public var axis: Int
    public var eps: Double
    public init(axis: Int = 1, eps: Double = 1e-8) {
        self.axis = axis
        self.eps = eps
    }
    /// The cosine similarity of `a` and `b` along ``axis``.
    public func callAsFunction(_ a: Variable, _ b: Variable) -> Variable { cosineSimilarity(a, b, axis: axis, eps: eps) }
}
