/// LU factors `P·A = L·U` of a batch of square matrices (LAPACK `getrf`), kept by the ops that
/// solve with them so that their backward passes reuse the factorisation.
struct LUFactors {
    /// `L` (unit lower, below the diagonal) and `U` (upper) packed as LAPACK returns them, `[..., n, n]`.
    let lu: Tensor
    /// LAPACK's 1-based row interchanges, `n` per matrix.
    let pivots: [Int32]
    /// `getrf`'s info per matrix: `k > 0` means `U[k-1, k-1]` is exactly zero (the matrix is singular).
    let infos: [Int]
    let shape: MatrixBatch
    var n: Int { shape.rows }

    /// Factors `a` (square matrices, any batch); never throws: singularity is recorded in ``infos``.
    init(_ a: Tensor, op: String) {
        shape = MatrixBatch(a.shape, op: op, square: true)
        let lu = a.workingCopy(Tensor.linalgType(a))
        let (n, count) = (shape.rows, shape.count)
        var pivots = [Int32](repeating: 0, count: count * n)
        var infos = [Int](repeating: 0, count: count)
        func run<T: LAPACKScalar>(_: T.Type) {
            let p = lu.storage.pointer(T.self)
            pivots.withUnsafeMutableBufferPointer { piv in
                for i in 0..<count where n > 0 {
                    infos[i] = T.getrf(n, p + i * n * n, piv.baseAddress! + i * n)
                    precondition(infos[i] >= 0, "\(op): LAPACK getrf rejected argument \(-infos[i])")
                }
            }
        }
        lu.dtype == .float32 ? run(Float.self) : run(Double.self)
        (self.lu, self.pivots, self.infos) = (lu, pivots, infos)
    }

    /// Throws ``LinearAlgebraError/Reason/singular`` naming the first singular matrix of the batch.
    func requireNonsingular(op: String) throws {
        if let i = infos.firstIndex(where: { $0 != 0 }) {
            try LinearAlgebraError.check(infos[i], op: op, batchIndex: i, positive: .singular)
        }
    }

    /// `op(A)⁻¹·B` for every matrix (batch dimensions broadcast), `op` the identity or the transpose.
    /// Needs nonsingular factors. `b` is `[..., n, k]`.
    func solve(_ b: Tensor, transpose: Bool) -> Tensor {
        precondition(infos.allSatisfy { $0 == 0 }, "solve: internal error: solving with singular LU factors")
        func run<T: LAPACKScalar>(_: T.Type) -> Tensor {
            let a = lu.storage.pointer(T.self), n = self.n
            return pivots.withUnsafeBufferPointer { piv in
                solveBatched(shape, b, op: "solve", T.self) { ia, x, k in
                    T.getrs(transpose: transpose, n, k, a + ia * n * n, piv.baseAddress! + ia * n, x)
                }
            }
        }
        return lu.dtype == .float32 ? run(Float.self) : run(Double.self)
    }
}

/// `X = op(A)⁻¹·B` with `A`'s LU factors computed before recording (errors are thrown there).
///
/// Adjoint: `B̄ = op(A)⁻ᵀ·Ḡ` (a solve with the same factors and the other transpose), and
/// `Ā = −B̄·Xᵀ` (or `−X·B̄ᵀ` when `op` is the transpose). Both are again differentiable ops, so
/// every order of derivative works.
struct LUSolve: Op {
    let factors: LUFactors
    let transpose: Bool
    var name: String { "solve" }
    func forward(_ x: [Tensor]) -> Tensor { factors.solve(x[1], transpose: transpose) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        backward(g, inputs: inputs, output: output, needed: inputs.map(\.requiresGrad))
    }

    func backward(_ g: Variable, inputs: [Variable], output: Variable, needed: [Bool]) -> [Variable?] {
        let a = inputs[0]
        let gb = LUSolve(factors: factors, transpose: !transpose)(a, g)
        let ga: Variable? = needed[0] ? -(transpose ? output.matmul(gb.mT) : gb.matmul(output.mT)) : nil
        return [ga, needed[1] ? gb : nil]
    }
}

extension Tensor {
    /// Solves `A·X = B` (PyTorch's `torch.linalg.solve`), through LU with partial pivoting (LAPACK `getrf`/`getrs`).
    ///
    /// Shapes: `A` is `[..., n, n]`; `B` is `[..., n, k]` (batch dimensions broadcast) or a vector
    /// `[n]` (result `[..., n]`). The dtype is float64 when either operand is.
    /// - Throws: ``LinearAlgebraError`` (`.singular`, with LAPACK's info) when a matrix of `A` is singular.
    public static func solve(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        let vector = checkRightHandSide(a.shape, b.shape, op: "solve", square: true)
        let factors = LUFactors(a.to(linalgType(a, b)), op: "solve")
        try factors.requireNonsingular(op: "solve")
        let x = factors.solve(vector ? b.reshaped([b.count, 1]) : b, transpose: false)
        return vector ? x.squeezed(axis: -1) : x
    }

    /// The inverse `A⁻¹` of each square matrix `[..., n, n]`, as `solve(A, I)`.
    /// - Throws: ``LinearAlgebraError`` (`.singular`) when a matrix is singular.
    public func inverse() throws -> Tensor {
        let s = MatrixBatch(shape, op: "inverse", square: true)
        let factors = LUFactors(self, op: "inverse")
        try factors.requireNonsingular(op: "inverse")
        return factors.solve(Tensor.eye(s.rows, dtype: factors.lu.dtype), transpose: false)
    }
}

extension Variable {
    /// Solves `A·X = B` (PyTorch's `torch.linalg.solve`); see ``Tensor/solve(_:_:)`` for shapes.
    ///
    /// Gradient (the solve adjoint): `B̄ = A⁻ᵀ·Ḡ`, `Ā = −B̄·Xᵀ`, each a differentiable solve or product,
    /// so higher orders work. Broadcast batch dimensions are summed back to each operand's shape.
    /// - Throws: ``LinearAlgebraError`` (`.singular`) when a matrix of `A` is singular.
    public static func solve(_ a: Variable, _ b: Variable) throws -> Variable {
        let vector = checkRightHandSide(a.shape, b.shape, op: "solve", square: true)
        let dtype = Tensor.linalgType(a.value, b.value)
        let factors = LUFactors(a.value.to(dtype), op: "solve")
        try factors.requireNonsingular(op: "solve")
        let x = LUSolve(factors: factors, transpose: false)(a, vector ? b.reshaped([b.shape[0], 1]) : b)
        return vector ? x.squeezed(axis: -1) : x
    }

    /// The inverse `A⁻¹` of each square matrix, as `solve(A, I)`: its gradient `Ā = −A⁻ᵀ·Ḡ·A⁻ᵀ` follows
    /// from the solve adjoint.
    /// - Throws: ``LinearAlgebraError`` (`.singular`) when a matrix is singular.
    public func inverse() throws -> Variable {
        let s = MatrixBatch(shape, op: "inverse", square: true)
        let factors = LUFactors(value, op: "inverse")
        try factors.requireNonsingular(op: "inverse")
        return LUSolve(factors: factors, transpose: false)(self, Variable(Tensor.eye(s.rows, dtype: factors.lu.dtype)))
    }
}
