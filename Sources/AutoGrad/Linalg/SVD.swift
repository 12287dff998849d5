/// The reduced SVD `A = U·diag(S)·Vh` of each matrix (LAPACK `gesdd`, job "S"): `U` `[..., m, k]`,
/// `S` `[..., k]` descending and non-negative, `Vh` `[..., k, n]`, `k = min(m, n)`.
func svdKernel(_ a: Tensor, op: String) throws -> (u: Tensor, s: Tensor, vh: Tensor) {
    let shape = MatrixBatch(a.shape, op: op)
    let (m, n) = (shape.rows, shape.columns), k = Swift.min(m, n)
    let work = a.workingCopy(Tensor.linalgType(a))
    let u = Tensor.zeros(shape.batch + [m, k], dtype: work.dtype)
    let s = Tensor.zeros(shape.batch + [k], dtype: work.dtype)
    let vh = Tensor.zeros(shape.batch + [k, n], dtype: work.dtype)
    func run<T: LAPACKScalar>(_: T.Type) throws {
        let pa = work.storage.pointer(T.self), pu = u.storage.pointer(T.self)
        let ps = s.storage.pointer(T.self), pv = vh.storage.pointer(T.self)
        for b in 0..<shape.count where k > 0 {
            let info = T.gesdd(m, n, pa + b * m * n, ps + b * k, pu + b * m * k, pv + b * k * n)
            try LinearAlgebraError.check(info, op: op, batchIndex: b, positive: .noConvergence)
        }
    }
    try work.dtype == .float32 ? run(Float.self) : run(Double.self)
    return (u, s, vh)
}

/// The reduced SVD, its three results packed into one tensor (see `Packing`).
///
/// Adjoint (Townsend 2016; PyTorch's `svd_backward`), with `J = Uᵀ·Ū − Ūᵀ·U`, `K = Vᵀ·V̄ − V̄ᵀ·V`:
///
///     Ā = U·[C + diag(S̄)]·Vᵀ + (I − U·Uᵀ)·Ū·S⁻¹·Vᵀ + U·S⁻¹·V̄ᵀ·(I − V·Vᵀ)
///     Cᵢⱼ = (Jᵢⱼ·sⱼ + sᵢ·Kᵢⱼ)/(sⱼ² − sᵢ²) = ½(J + K)ᵢⱼ/(sⱼ − sᵢ) + ½(J − K)ᵢⱼ/(sⱼ + sᵢ)   (i ≠ j)
///
/// At repeated singular values the singular vectors are not differentiable functions of `A`: the
/// first term's denominator vanishes, and its limit depends on the direction of approach. That term
/// is dropped for degenerate pairs (the second, finite, term is kept; it too is dropped for two zero
/// singular values), and `S⁻¹` counts zero singular values as 0. So gradients are always finite,
/// exact for functions of the singular values alone (norms, `Σ f(sᵢ)`), and, through the vectors,
/// omit the coupling of degenerate pairs. Everything is built from differentiable ops, so higher
/// orders work.
struct SVDOp: Op {
    let packed: Tensor
    let shapes: [[Int]]
    var name: String { "svd" }
    func forward(_ x: [Tensor]) -> Tensor { packed }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        let parts = Packing.unpack(output, shapes), grads = Packing.unpack(g, shapes)
        let (u, s, vh) = (parts[0], parts[1], parts[2])
        let (gu, gs, gvh) = (grads[0], grads[1], grads[2])
        let (m, n, k) = (u.shape[u.rank - 2], vh.shape[vh.rank - 1], s.shape[s.rank - 1])
        let j = u.mT.matmul(gu), kk = vh.matmul(gvh.mT)
        let jSkew = j - j.mT, kSkew = kk - kk.mT
        let core = 0.5 * ((jSkew + kSkew) * s.pairwiseReciprocals(sum: false) + (jSkew - kSkew) * s.pairwiseReciprocals(sum: true))
            + gs.diagonalEmbedded()
        var ga = u.matmul(core).matmul(vh)
        let sInverse = s.maskedReciprocal()
        if m > k {
            ga = ga + ((gu - u.matmul(u.mT.matmul(gu))) * sInverse.unsqueezed(axis: -2)).matmul(vh)
        }
        if n > k {
            ga = ga + u.matmul(sInverse.unsqueezed(axis: -1) * (gvh - gvh.matmul(vh.mT).matmul(vh)))
        }
        return [ga]
    }
}

extension Tensor {
    /// The reduced singular value decomposition `A = U·diag(S)·Vh` (PyTorch's `torch.linalg.svd` with
    /// `full_matrices: false`), by LAPACK `gesdd`.
    ///
    /// Shapes: `A` `[..., m, n]` → `U` `[..., m, k]` (orthonormal columns), `S` `[..., k]` (descending,
    /// non-negative), `Vh` `[..., k, n]` (orthonormal rows), `k = min(m, n)`. Singular vectors are unique
    /// only up to sign (and rotation within repeated singular values): LAPACK's choice is returned.
    /// - Throws: ``LinearAlgebraError`` (`.noConvergence`) when LAPACK's iteration does not converge.
    public func svd() throws -> (U: Tensor, S: Tensor, Vh: Tensor) {
        let (u, s, vh) = try svdKernel(self, op: "svd")
        return (u, s, vh)
    }

    /// The singular values `[..., min(m, n)]`, descending.
    /// - Throws: ``LinearAlgebraError`` (`.noConvergence`).
    public func singularValues() throws -> Tensor { try svd().S }
}

extension Variable {
    /// The reduced SVD `A = U·diag(S)·Vh`; see ``Tensor/svd()`` for shapes.
    ///
    /// Gradient (Townsend 2016): `Ā = U·[C + diag(S̄)]·Vᵀ + (I − UUᵀ)·Ū·S⁻¹·Vᵀ + U·S⁻¹·V̄ᵀ·(I − VVᵀ)` with
    /// `Cᵢⱼ = (Jᵢⱼsⱼ + sᵢKᵢⱼ)/(sⱼ² − sᵢ²)`, `J = skew(UᵀŪ)`, `K = skew(VᵀV̄)`. Functions that depend on the
    /// sign choice of the singular vectors have no gradient; use sign-invariant ones (`U·Vh`, `S`,
    /// reconstructions). At repeated singular values the gradient stays finite: it is exact for
    /// functions of `S` alone, and through `U` and `Vh` it omits the divergent coupling of degenerate
    /// pairs (their vectors are not differentiable there); zero singular values count as 0 in `S⁻¹`.
    /// Differentiable again.
    /// - Throws: ``LinearAlgebraError`` (`.noConvergence`).
    public func svd() throws -> (U: Variable, S: Variable, Vh: Variable) {
        let (u, s, vh) = try svdKernel(value, op: "svd")
        let shapes = [u.shape, s.shape, vh.shape]
        let parts = Packing.unpack(SVDOp(packed: Packing.pack([u, s, vh]), shapes: shapes)(self), shapes)
        return (parts[0], parts[1], parts[2])
    }

    /// The singular values `[..., min(m, n)]`, descending.  Gradient: `Ā = U·diag(S̄)·Vᵀ`.
    /// - Throws: ``LinearAlgebraError`` (`.noConvergence`).
    public func singularValues() throws -> Variable { try svd().S }
}
