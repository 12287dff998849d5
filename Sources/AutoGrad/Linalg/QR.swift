/// The reduced QR decomposition `A = Q·R` of each matrix (LAPACK `geqrf` + `orgqr`): `Q` `[..., m, k]`
/// with orthonormal columns, `R` `[..., k, n]` upper triangular, `k = min(m, n)`.
func qrKernel(_ a: Tensor) throws -> (q: Tensor, r: Tensor) {
    let shape = MatrixBatch(a.shape, op: "qr")
    let (m, n) = (shape.rows, shape.columns), k = Swift.min(m, n)
    let work = a.workingCopy(Tensor.linalgType(a))
    let q = Tensor.zeros(shape.batch + [m, k], dtype: work.dtype)
    let r = Tensor.zeros(shape.batch + [k, n], dtype: work.dtype)
    func run<T: LAPACKScalar>(_: T.Type) throws {
        let pa = work.storage.pointer(T.self), pq = q.storage.pointer(T.self), pr = r.storage.pointer(T.self)
        var tau = [T](repeating: 0, count: k)
        for b in 0..<shape.count where k > 0 {
            let w = pa + b * m * n
            try LinearAlgebraError.check(T.geqrf(m, n, w, &tau), op: "qr", batchIndex: b, positive: .illegalArgument)
            for i in 0..<k { for j in i..<n { pr[b * k * n + i * n + j] = w[i * n + j] } }
            try LinearAlgebraError.check(T.orgqr(m, k, k, w, lda: n, tau), op: "qr", batchIndex: b, positive: .illegalArgument)
            for i in 0..<m { for j in 0..<k { pq[b * m * k + i * k + j] = w[i * n + j] } }
        }
    }
    try work.dtype == .float32 ? run(Float.self) : run(Double.self)
    return (q, r)
}

/// The reduced QR decomposition, `Q` and `R` packed into one tensor (see `Packing`).
///
/// Adjoint for `m ≥ n` (Walter & Lehmann 2018; Liao et al. 2019):
///
///     Ā = [Q̄ + Q·copyltu(M)]·R⁻ᵀ,   M = R·R̄ᵀ − Q̄ᵀ·Q,   copyltu(M) = tril(M) + tril(M, −1)ᵀ
///
/// For `m < n`, split `A = [X | Y]` and `R = [U | V]` with square `U`: `X = Q·U` is the square case with
/// `Q̄ ← Q̄ + Y·V̄ᵀ`, and `Ȳ = Q·V̄`. `R⁻ᵀ` is applied by a differentiable triangular solve, so higher
/// orders work. Needs `R` invertible (full rank), which `Variable.qr` checks.
struct QROp: Op {
    let packed: Tensor
    let shapes: [[Int]]
    var name: String { "qr" }
    func forward(_ x: [Tensor]) -> Tensor { packed }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        let parts = Packing.unpack(output, shapes), grads = Packing.unpack(g, shapes)
        let (q, r, gq, gr) = (parts[0], parts[1], grads[0], grads[1])
        let (m, n) = (q.shape[q.rank - 2], r.shape[r.rank - 1]), k = Swift.min(m, n)
        /// `[Q̄ + Q·copyltu(R·R̄ᵀ − Q̄ᵀ·Q)]·R⁻ᵀ` for square upper-triangular `R`.
        func square(_ gq: Variable, _ r: Variable, _ gr: Variable) -> Variable {
            let mm = r.matmul(gr.mT) - gq.mT.matmul(q)
            let copied = mm.triangle(upper: false) + mm.triangle(upper: false, diagonal: -1).mT
            let z = gq + q.matmul(copied)
            return TriangularSolve(upper: true, transpose: false, unit: false)(r, z.mT).mT
        }
        if m >= n { return [square(gq, r, gr)] }
        let (u, gu) = (r.sliced(axis: -1, start: 0, end: k), gr.sliced(axis: -1, start: 0, end: k))
        let gv = gr.sliced(axis: -1, start: k, end: n)
        let y = inputs[0].sliced(axis: -1, start: k, end: n)
        let gx = square(gq + y.matmul(gv.mT), u, gu)
        return [Variable.concatenate([gx, q.matmul(gv)], axis: -1)]
    }
}

extension Tensor {
    /// The reduced QR decomposition `A = Q·R` (PyTorch's `torch.linalg.qr`, mode "reduced"), by LAPACK
    /// `geqrf` and `orgqr` (Householder).
    ///
    /// Shapes: `A` `[..., m, n]` → `Q` `[..., m, k]` (orthonormal columns), `R` `[..., k, n]` (upper
    /// triangular), `k = min(m, n)`. The signs of `R`'s diagonal are LAPACK's (not normalised).
    /// - Throws: ``LinearAlgebraError`` when LAPACK reports a failure.
    public func qr() throws -> (Q: Tensor, R: Tensor) {
        let (q, r) = try qrKernel(self)
        return (q, r)
    }
}

extension Variable {
    /// The reduced QR decomposition `A = Q·R`; see ``Tensor/qr()`` for shapes.
    ///
    /// Gradient (`m ≥ n`): `Ā = [Q̄ + Q·copyltu(R·R̄ᵀ − Q̄ᵀ·Q)]·R⁻ᵀ`, `copyltu(M) = tril(M) + tril(M, −1)ᵀ`;
    /// for `m < n` the same on the leading square block with `Q̄ + Y·V̄ᵀ`, and `Q·V̄` for the trailing
    /// columns `Y`. Differentiable again.
    /// - Throws: ``LinearAlgebraError`` (`.rankDeficient`, info = position) when a gradient is wanted and
    ///   `R` has an exactly zero diagonal element: the decomposition's derivative does not exist there.
    public func qr() throws -> (Q: Variable, R: Variable) {
        try qr(requireFullRank: Graph.isRecording && requiresGrad, op: "qr")
    }

    /// The recorded QR decomposition; throws `.rankDeficient` naming `op` when `requireFullRank` and `R`
    /// has an exactly zero diagonal element.
    func qr(requireFullRank: Bool, op: String) throws -> (Q: Variable, R: Variable) {
        let (q, r) = try qrKernel(value)
        if requireFullRank {
            let k = r.shape[r.rank - 2]
            for (i, d) in r.diagonal().doubles.enumerated() where d == 0 {
                throw LinearAlgebraError(op: op, reason: .rankDeficient, info: i % k + 1, batchIndex: i / k)
            }
        }
        let shapes = [q.shape, r.shape]
        let parts = Packing.unpack(QROp(packed: Packing.pack([q, r]), shapes: shapes)(self), shapes)
        return (parts[0], parts[1])
    }
}
