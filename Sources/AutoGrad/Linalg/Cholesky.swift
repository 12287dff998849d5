/// The lower Cholesky factors `L` of `A = L·Lᵀ`, `[..., n, n]` (LAPACK `potrf`, lower triangle read).
func choleskyKernel(_ a: Tensor) throws -> Tensor {
    let shape = MatrixBatch(a.shape, op: "cholesky", square: true)
    let l = a.workingCopy(Tensor.linalgType(a))
    let n = shape.rows
    func run<T: LAPACKScalar>(_: T.Type) throws {
        let p = l.storage.pointer(T.self)
        for b in 0..<shape.count where n > 0 {
            let m = p + b * n * n
            try LinearAlgebraError.check(T.potrf(n, m), op: "cholesky", batchIndex: b, positive: .notPositiveDefinite)
            for i in 0..<n { for j in (i + 1)..<n { m[i * n + j] = 0 } }   // potrf leaves the upper triangle as it was
        }
    }
    try l.dtype == .float32 ? run(Float.self) : run(Double.self)
    return l
}

/// `L = cholesky(A)`, computed before recording.
///
/// Adjoint (Murray 2016, symmetric form as in PyTorch): with `P = Φ(Lᵀ·L̄)`, where `Φ` keeps the
/// lower triangle and halves the diagonal, `Ā = ½·L⁻ᵀ·(P + Pᵀ)·L⁻¹` — a symmetric matrix, the gradient
/// with respect to a symmetric `A`. Built from products, masks and triangular solves, so differentiable again.
struct Cholesky: Op {
    let factor: Tensor
    var name: String { "cholesky" }
    func forward(_ x: [Tensor]) -> Tensor { factor }
    func backward(_ g: Variable, inputs: [Variable], output l: Variable) -> [Variable?] {
        let t = l.mT.matmul(g).triangle(upper: false)
        let p = 0.5 * (t + t.triangle(upper: false, diagonal: -1).mT)
        let y = TriangularSolve(upper: false, transpose: true, unit: false)(l, p)               // L⁻ᵀ·P
        return [TriangularSolve(upper: false, transpose: true, unit: false)(l, y.mT).mT]        // (L⁻ᵀ·P)·L⁻¹
    }
}

extension Tensor {
    /// The lower Cholesky factor `L` of each symmetric positive-definite matrix: `A = L·Lᵀ`
    /// (PyTorch's `torch.linalg.cholesky`), by LAPACK `potrf`.
    ///
    /// Shapes: `[..., n, n] → [..., n, n]`; only the lower triangle of `A` is read; `L`'s upper triangle is zero.
    /// - Throws: ``LinearAlgebraError`` (`.notPositiveDefinite`, info = the order of the failing leading minor).
    public func cholesky() throws -> Tensor { try choleskyKernel(self) }

    /// Solves `A·X = B` given the Cholesky factor `L` of `A` (PyTorch's `torch.cholesky_solve(B, L)`):
    /// `X = L⁻ᵀ·(L⁻¹·B)`, two triangular solves.
    ///
    /// Shapes: `B` is `[..., n, k]`, `L` is `[..., n, n]`; batch dimensions broadcast.
    /// - Throws: ``LinearAlgebraError`` (`.singular`) when `L` has a zero on its diagonal.
    public static func choleskySolve(_ b: Tensor, _ l: Tensor) throws -> Tensor {
        let y = try solveTriangular(l, b, upper: false)
        return try solveTriangular(l, y, upper: false, transposeA: true)
    }
}

extension Variable {
    /// The lower Cholesky factor `L` of `A = L·Lᵀ`; see ``Tensor/cholesky()``.
    ///
    /// Gradient (Murray 2016): `Ā = ½·L⁻ᵀ·(P + Pᵀ)·L⁻¹` with `P = Φ(Lᵀ·L̄)`, `Φ` = lower triangle with
    /// halved diagonal. The gradient is symmetric: it is the gradient for symmetric perturbations of `A`
    /// (PyTorch's convention), so check it through a symmetric parametrisation such as `(X + Xᵀ)/2`.
    /// Differentiable again.
    /// - Throws: ``LinearAlgebraError`` (`.notPositiveDefinite`).
    public func cholesky() throws -> Variable {
        Cholesky(factor: try choleskyKernel(value))(self)
    }

    /// Solves `A·X = B` given the Cholesky factor `L` of `A`: `X = L⁻ᵀ·(L⁻¹·B)`; differentiable in `B`
    /// and `L` through the two triangular solves.
    /// - Throws: ``LinearAlgebraError`` (`.singular`) when `L` has a zero on its diagonal.
    public static func choleskySolve(_ b: Variable, _ l: Variable) throws -> Variable {
        let y = try solveTriangular(l, b, upper: false)
        return try solveTriangular(l, y, upper: false, transposeA: true)
    }
}
