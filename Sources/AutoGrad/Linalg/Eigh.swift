/// Eigenvalues (ascending) `[..., n]` and orthonormal eigenvectors (columns) `[..., n, n]` of symmetric
/// matrices (LAPACK `syevd`, lower triangle read).
func eighKernel(_ a: Tensor) throws -> (values: Tensor, vectors: Tensor) {
    let shape = MatrixBatch(a.shape, op: "eigh", square: true)
    let n = shape.rows
    let vectors = a.workingCopy(Tensor.linalgType(a))
    let values = Tensor.zeros(shape.batch + [n], dtype: vectors.dtype)
    func run<T: LAPACKScalar>(_: T.Type) throws {
        let pa = vectors.storage.pointer(T.self), pw = values.storage.pointer(T.self)
        for b in 0..<shape.count where n > 0 {
            try LinearAlgebraError.check(T.syevd(n, pa + b * n * n, pw + b * n), op: "eigh", batchIndex: b, positive: .noConvergence)
        }
    }
    try vectors.dtype == .float32 ? run(Float.self) : run(Double.self)
    return (values, vectors)
}

/// The symmetric eigendecomposition, eigenvalues and eigenvectors packed into one tensor (see `Packing`).
///
/// Adjoint (Giles 2008): `Ā = V·(diag(w̄) + F∘(Vᵀ·V̄))·Vᵀ`, `Fᵢⱼ = 1/(wⱼ − wᵢ)` off the diagonal, then
/// symmetrised, `½(Ā + Āᵀ)`, as the gradient for symmetric perturbations. At repeated eigenvalues the
/// eigenvectors are not differentiable functions of `A` (`Fᵢⱼ` diverges, with a limit that depends on
/// the direction of approach), so `Fᵢⱼ` is set to 0 for (numerically) equal eigenvalues: gradients
/// stay finite, are exact for functions of the eigenvalues alone, and omit the degenerate coupling
/// through the eigenvectors.
struct EighOp: Op {
    let packed: Tensor
    let shapes: [[Int]]
    var name: String { "eigh" }
    func forward(_ x: [Tensor]) -> Tensor { packed }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        let parts = Packing.unpack(output, shapes), grads = Packing.unpack(g, shapes)
        let (w, v, gw, gv) = (parts[0], parts[1], grads[0], grads[1])
        let inner = gw.diagonalEmbedded() + w.pairwiseReciprocals(sum: false) * v.mT.matmul(gv)
        let ga = v.matmul(inner).matmul(v.mT)
        return [0.5 * (ga + ga.mT)]
    }
}

extension Tensor {
    /// Eigenvalues and eigenvectors of symmetric matrices (PyTorch's `torch.linalg.eigh`), by LAPACK `syevd`.
    ///
    /// `A = V·diag(w)·Vᵀ`. Shapes: `[..., n, n]` → `values` `[..., n]` (ascending), `vectors` `[..., n, n]`
    /// (orthonormal columns). Only the lower triangle of `A` is read. Eigenvectors are unique only up
    /// to sign (and rotation within repeated eigenvalues).
    /// - Throws: ``LinearAlgebraError`` (`.noConvergence`).
    public func eigh() throws -> (values: Tensor, vectors: Tensor) { try eighKernel(self) }
}

extension Variable {
    /// Eigenvalues and eigenvectors of symmetric matrices; see ``Tensor/eigh()``.
    ///
    /// Gradient (Giles 2008): `Ā = sym(V·(diag(w̄) + F∘(Vᵀ·V̄))·Vᵀ)`, `Fᵢⱼ = 1/(wⱼ − wᵢ)`, symmetric (the
    /// gradient for symmetric perturbations of `A`). At repeated eigenvalues `Fᵢⱼ` is 0 for the degenerate
    /// pairs: the gradient stays finite and is exact for functions of the eigenvalues alone (`Σ f(wᵢ)`,
    /// log-determinants, norms); through the eigenvectors it omits the coupling of degenerate pairs,
    /// whose eigenvectors are not differentiable there. Differentiable again.
    /// - Throws: ``LinearAlgebraError`` (`.noConvergence`).
    public func eigh() throws -> (values: Variable, vectors: Variable) {
        let (w, v) = try eighKernel(value)
        let shapes = [w.shape, v.shape]
        let parts = Packing.unpack(EighOp(packed: Packing.pack([w, v]), shapes: shapes)(self), shapes)
        return (parts[0], parts[1])
    }
}
