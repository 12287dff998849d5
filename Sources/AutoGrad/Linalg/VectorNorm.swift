// Vector norms (PyTorch's `torch.linalg.vector_norm`). The orders 1, ∞, −∞ and 0 are compositions of abs,
// sum, max/min and sign, whose kink rules give PyTorch's gradients; 2 and general p are one op whose backward
// masks the kink at a zero norm, as PyTorch does, and is written with differentiable ops.

/// `‖x‖ₚ = (Σ|xᵢ|ᵖ)^(1/p)` over `axes`, for `p` finite and not 0 or 1 (those are compositions).
///
/// Adjoint (PyTorch's `linalg_vector_norm_backward`), with `n` the norm and the gradient 0 wherever `n = 0`:
/// `p ≥ 2`: `x̄ = ḡ·x·|x|^(p−2) / n^(p−1)`; `1 < p < 2`: `ḡ·sgn(x)·|x|^(p−1) / n^(p−1)`; `p < 1`:
/// `ḡ·sgn(x)·|x|^(p−1)·n^(1−p)`, 0 where `x = 0`.
struct VectorNorm: Op {
    let p: Double
    let axes: [Int]
    let keepDims: Bool
    var name: String { "vectorNorm" }

    func forward(_ x: [Tensor]) -> Tensor {
        let sum = p == 2 ? x[0].squared().sum(axes: axes, keepDims: keepDims) : x[0].abs().pow(p).sum(axes: axes, keepDims: keepDims)
        return p == 2 ? sum.sqrt() : sum.pow(1 / p)
    }

    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        let x = inputs[0]
        let kept = Tensor.reducedShape(x.shape, axes: axes, keepDims: true)
        let (norm, gradient) = (output.reshaped(kept), g.reshaped(kept))
        let zero = Variable(norm.value .== 0)
        if p == 2 { return [x * (gradient * (1 - zero) / (norm + zero))] }
        if p < 1 {
            let atZero = Variable(x.value .== 0)
            let scaled = x.sign() * (x.abs() + atZero).pow(p - 1) * (1 - atZero)
            return [scaled * gradient * norm.pow(1 - p)]
        }
        let scaled = p >= 2 ? x * x.abs().pow(p - 2) : x.sign() * x.abs().pow(p - 1)
        return [scaled * (gradient * (1 - zero) / (norm.pow(p - 1) + zero))]
    }
}

extension Variable {
    /// The vector `p`-norm over `axes` (all when nil; PyTorch's `torch.linalg.vector_norm`):
    /// `‖x‖ₚ = (Σ|xᵢ|ᵖ)^(1/p)`, with `‖x‖_∞ = max|xᵢ|`, `‖x‖_−∞ = min|xᵢ|` and `‖x‖₀` the count of non-zero elements.
    ///
    /// Shapes: the reduced axes are removed, or kept as size 1 with `keepDims`.
    ///
    /// Gradients, as PyTorch's, pinned at their kinks: `p = 2`: `x·ḡ/‖x‖`, **0 where the norm is 0**; `p = 1`:
    /// `ḡ·sgn(x)`, 0 at `xᵢ = 0`; `p = ±∞`: `ḡ·sgn(x)` split equally between the elements of largest (smallest)
    /// magnitude, so 0 for an all-zero input; `p = 0`: 0 everywhere; other `p`: `ḡ·sgn(x)·|x|^(p−1)/‖x‖^(p−1)`,
    /// 0 where the norm is 0 (and for `p < 1` also where `xᵢ = 0`). Differentiable again away from the kinks.
    /// - Precondition: `p` is not NaN; valid, distinct axes; `p = ±∞` needs non-empty reduced axes.
    public func norm(p: Double = 2, axes: [Int]? = nil, keepDims: Bool = false) -> Variable {
        precondition(!p.isNaN, "norm: order p is NaN")
        let normalized = normalizeAxes(axes, rank: rank, op: "norm")
        switch p {
        case 1: return abs().sum(axes: normalized, keepDims: keepDims)
        case .infinity: return abs().max(axes: normalized, keepDims: keepDims)
        case -.infinity: return abs().min(axes: normalized, keepDims: keepDims)
        case 0: return abs().sign().sum(axes: normalized, keepDims: keepDims)
        default: return VectorNorm(p: p, axes: normalized, keepDims: keepDims)(self)
        }
    }
}

extension Tensor {
    /// The vector `p`-norm over `axes`; see ``Variable/norm(p:axes:keepDims:)``.
    public func norm(p: Double = 2, axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        Variable(self).norm(p: p, axes: axes, keepDims: keepDims).value
    }
}
