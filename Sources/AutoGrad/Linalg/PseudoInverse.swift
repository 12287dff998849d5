extension Variable {
    /// The Moore–Penrose pseudo-inverse of each matrix (PyTorch's `torch.linalg.pinv`): `A⁺ = V·diag(σ⁺)·Uᵀ` from
    /// the reduced SVD `A = U·diag(σ)·Vᵀ`, where `σᵢ⁺ = 1/σᵢ` for `σᵢ > max(atol, rtol·σ_max)` and 0 otherwise.
    ///
    /// Tolerances as PyTorch: with neither given, `rtol = ε·max(m, n)` (ε of the dtype) and `atol = 0`; with only
    /// `atol` (positive), `rtol = 0`. `rcond` is PyTorch's older name for `rtol`.
    ///
    /// Shapes: `[..., m, n] → [..., n, m]`. Gradient: through the SVD (see ``svd()``) and the products, so for
    /// full-rank matrices with distinct singular values it is the derivative of `A⁺`; the cut-off mask is a
    /// constant, so at a rank change (a singular value crossing the threshold) the gradient is the one of the
    /// kept part. Differentiable again.
    /// - Precondition: rank ≥ 2; non-negative tolerances; not both `rcond` and `rtol`.
    /// - Throws: ``LinearAlgebraError`` (`.noConvergence`) from the SVD.
    public func pinv(rcond: Double? = nil, atol: Double? = nil, rtol: Double? = nil) throws -> Variable {
        let matrices = MatrixBatch(shape, op: "pinv")
        precondition(rcond == nil || rtol == nil, "pinv: rcond is another name for rtol; give one of them")
        let relative = rtol ?? rcond
        precondition((atol ?? 0) >= 0 && (relative ?? 0) >= 0,
                     "pinv: tolerances must be non-negative, got atol \(atol.map { "\($0)" } ?? "nil"), rtol \(relative.map { "\($0)" } ?? "nil")")
        let (m, n) = (matrices.rows, matrices.columns)
        guard Swift.min(m, n) > 0 else { return Variable(Tensor.zeros(matrices.batch + [n, m], dtype: dtype)) }
        let epsilon = dtype == .float32 ? Double(Float.ulpOfOne) : Double.ulpOfOne
        let absolute = atol ?? 0
        let scaled = relative ?? ((atol ?? 0) > 0 ? 0 : epsilon * Double(Swift.max(m, n)))
        let (u, s, vh) = try svd()
        let largest = s.value.sliced(axis: -1, start: 0, end: 1)
        let threshold = Tensor.maximum(largest * scaled, Tensor(absolute, dtype: largest.dtype))
        let kept = Variable(s.value .> threshold)
        let inverse = kept / (s + (1 - kept))
        return (vh.mT * inverse.unsqueezed(axis: -2)).matmul(u.mT)
    }
}

extension Tensor {
    /// The Moore–Penrose pseudo-inverse of each matrix; see ``Variable/pinv(rcond:atol:rtol:)``.
    /// - Throws: ``LinearAlgebraError`` (`.noConvergence`) from the SVD.
    public func pinv(rcond: Double? = nil, atol: Double? = nil, rtol: Double? = nil) throws -> Tensor {
        try Graph.noGrad { try Variable(self).pinv(rcond: rcond, atol: atol, rtol: rtol).value }
    }
}
