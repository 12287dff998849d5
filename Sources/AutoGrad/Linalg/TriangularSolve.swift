/// `X = op(A)⁻¹·B` for triangular `A` (LAPACK `trtrs`); only `A`'s triangle is read (not its
/// diagonal either when `unit`).
///
/// Adjoint: `B̄ = op(A)⁻ᵀ·Ḡ` (the same solve with the other transpose) and `Ā = −B̄·Xᵀ` (or `−X·B̄ᵀ`
/// when transposed) restricted to the triangle that is read. All differentiable again.
struct TriangularSolve: Op {
    let upper: Bool, transpose: Bool, unit: Bool
    var name: String { "solveTriangular" }

    func forward(_ x: [Tensor]) -> Tensor {
        let (a, b) = (x[0], x[1])
        let shape = MatrixBatch(a.shape, op: name, square: true)
        func run<T: LAPACKScalar>(_: T.Type) -> Tensor {
            let a = a.to(T.dtype), n = shape.rows
            let p = a.storage.pointer(T.self)
            return solveBatched(shape, b, op: name, T.self) { ia, x, k in
                T.trtrs(upper: upper, transpose: transpose, unit: unit, n, k, p + ia * n * n, x)
            }
        }
        return Tensor.linalgType(a, b) == .float32 ? run(Float.self) : run(Double.self)
    }

    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        backward(g, inputs: inputs, output: output, needed: inputs.map(\.requiresGrad))
    }

    func backward(_ g: Variable, inputs: [Variable], output: Variable, needed: [Bool]) -> [Variable?] {
        let a = inputs[0]
        let gb = TriangularSolve(upper: upper, transpose: !transpose, unit: unit)(a, g)
        var ga: Variable? = nil
        if needed[0] {
            let full = -(transpose ? output.matmul(gb.mT) : gb.matmul(output.mT))
            ga = full.triangle(upper: upper, diagonal: unit ? (upper ? 1 : -1) : 0)
        }
        return [ga, needed[1] ? gb : nil]
    }
}

/// Throws `.singular` when a diagonal element LAPACK's `trtrs` would divide by is exactly zero
/// (`trtrs` reports the same condition with the same info code).
private func requireNonzeroDiagonal(_ a: Tensor, unit: Bool, op: String) throws {
    if unit { return }
    let d = a.diagonal(), n = a.shape[a.rank - 1]
    for (i, v) in d.doubles.enumerated() where v == 0 {
        throw LinearAlgebraError(op: op, reason: .singular, info: i % n + 1, batchIndex: i / n)
    }
}

private func checkTriangularShapes(_ a: [Int], _ b: [Int]) {
    let sa = MatrixBatch(a, op: "solveTriangular", square: true)
    let sb = MatrixBatch(b, op: "solveTriangular")
    precondition(sb.rows == sa.rows, "solveTriangular: A has shape \(a) but B has shape \(b): B needs \(sa.rows) rows")
}

extension Tensor {
    /// Solves `op(A)·X = B` for triangular `A` (PyTorch's `torch.linalg.solve_triangular` with `left: true`,
    /// plus a transpose flag), by LAPACK `trtrs`.
    ///
    /// Only the lower (or, when `upper`, the upper) triangle of `A` is read; with `unitriangular` its
    /// diagonal is taken as ones. `transposeA` solves with `Aᵀ` without copying.
    /// Shapes: `A` is `[..., n, n]`, `B` is `[..., n, k]`; batch dimensions broadcast.
    /// - Throws: ``LinearAlgebraError`` (`.singular`, info = the 1-based position) when a diagonal element is zero.
    public static func solveTriangular(_ a: Tensor, _ b: Tensor, upper: Bool, transposeA: Bool = false,
                                       unitriangular: Bool = false) throws -> Tensor {
        checkTriangularShapes(a.shape, b.shape)
        try requireNonzeroDiagonal(a, unit: unitriangular, op: "solveTriangular")
        return TriangularSolve(upper: upper, transpose: transposeA, unit: unitriangular).forward([a, b])
    }
}

extension Variable {
    /// Solves `op(A)·X = B` for triangular `A`; see ``Tensor/solveTriangular(_:_:upper:transposeA:unitriangular:)``.
    ///
    /// Gradient: `B̄ = op(A)⁻ᵀ·Ḡ`, and `Ā = −B̄·Xᵀ` (`−X·B̄ᵀ` when transposed) restricted to the triangle
    /// that is read (strictly, when `unitriangular`). Differentiable again.
    /// - Throws: ``LinearAlgebraError`` (`.singular`) when a diagonal element is zero.
    public static func solveTriangular(_ a: Variable, _ b: Variable, upper: Bool, transposeA: Bool = false,
                                       unitriangular: Bool = false) throws -> Variable {
        checkTriangularShapes(a.shape, b.shape)
        try requireNonzeroDiagonal(a.value, unit: unitriangular, op: "solveTriangular")
        return TriangularSolve(upper: upper, transpose: transposeA, unit: unitriangular)(a, b)
    }
}
