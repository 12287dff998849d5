extension Variable {
    /// The least-squares solution of `A·X ≈ B` (PyTorch's `torch.linalg.lstsq(A, B).solution` for full-rank `A`).
    ///
    /// For `m ≥ n` it minimises `‖A·X − B‖_F`: with `A = Q·R`, `X = R⁻¹·Qᵀ·B`. For `m < n` it is the
    /// minimum-norm solution of the under-determined system: with `Aᵀ = Q·R`, `X = Q·R⁻ᵀ·B`.
    /// Shapes: `A` `[..., m, n]`, `B` `[..., m, k]` (batch dimensions broadcast) → `[..., n, k]`; a vector
    /// `B` `[m]` gives `[..., n]`. Built from the differentiable QR and triangular solve (LAPACK `geqrf`,
    /// `orgqr`, `trtrs`), so gradients of every order follow from theirs.
    /// - Throws: ``LinearAlgebraError`` (`.rankDeficient`, info = position of the zero in `R`'s diagonal)
    ///   when `A` does not have full rank.
    public static func lstsq(_ a: Variable, _ b: Variable) throws -> Variable {
        let vector = checkRightHandSide(a.shape, b.shape, op: "lstsq", square: false)
        let rhs = vector ? b.reshaped([b.shape[0], 1]) : b
        let (m, n) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let tall = m >= n
        let (q, r) = try (tall ? a : a.mT).qr(requireFullRank: true, op: "lstsq")
        let x = tall ? TriangularSolve(upper: true, transpose: false, unit: false)(r, Variable.matmul(q, rhs, transposeA: true))
                     : q.matmul(TriangularSolve(upper: true, transpose: true, unit: false)(r, rhs))
        return vector ? x.squeezed(axis: -1) : x
    }
}

extension Tensor {
    /// The least-squares (or minimum-norm) solution of `A·X ≈ B`; see ``Variable/lstsq(_:_:)``.
    /// - Throws: ``LinearAlgebraError`` (`.rankDeficient`) when `A` does not have full rank.
    public static func lstsq(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        try Graph.noGrad { try Variable.lstsq(Variable(a), Variable(b)).value }
    }
}
