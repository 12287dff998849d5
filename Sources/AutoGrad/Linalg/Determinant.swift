import Foundation

extension LUFactors {
    /// `(sign, log|det|)` of every matrix from its LU factors: `det = ±∏ Uᵢᵢ` with the sign of the
    /// row permutation. A singular matrix gives `(0, −∞)`.
    func signAndLogAbsDet() -> (sign: [Double], logAbs: [Double]) {
        let u = lu.doubles, n = self.n
        var signs = [Double](repeating: 1, count: shape.count), logs = [Double](repeating: 0, count: shape.count)
        for b in 0..<shape.count {
            for i in 0..<n {
                let d = u[b * n * n + i * (n + 1)]
                if pivots[b * n + i] != Int32(i + 1) { signs[b] = -signs[b] }
                if d < 0 { signs[b] = -signs[b] }
                logs[b] += Foundation.log(Swift.abs(d))
            }
            if infos[b] != 0 { (signs[b], logs[b]) = (0, -.infinity) }
        }
        return (signs, logs)
    }

    /// The determinants, `[...]`.
    func determinants() -> Tensor {
        let signs = signAndLogAbsDet().sign
        // The product of the pivots directly (not exp of the log) keeps det exact for small integers.
        let u = lu.doubles, n = self.n
        let values = (0..<shape.count).map { b -> Double in
            if signs[b] == 0 { return 0 }
            var p = 1.0
            for i in 0..<n { p *= Swift.abs(u[b * n * n + i * (n + 1)]) }
            return signs[b] * p
        }
        return Tensor(shape: shape.batch, scalars: values, dtype: lu.dtype)
    }

    /// `A⁻ᵀ` as a differentiable function of `a` (needs nonsingular factors).
    func inverseTransposed(_ a: Variable) -> Variable {
        LUSolve(factors: self, transpose: true)(a, Variable(Tensor.eye(n, dtype: lu.dtype)))
    }
}

/// `det A` from LU factors.
///
/// Adjoint: `Ā = ḡ·det(A)·A⁻ᵀ` (Jacobi's formula), built from the output and a differentiable solve,
/// so higher orders work. When a matrix of the batch is exactly singular the gradient is the
/// cofactor matrix `det(U)·det(V)·U·diag(∏ⱼ≠ᵢ sⱼ)·Vᵀ` from the SVD `A = U·diag(s)·Vᵀ` — the exact
/// first derivative even there — taken as a constant (no second derivative through it).
struct Determinant: Op {
    let factors: LUFactors
    var name: String { "det" }
    func forward(_ x: [Tensor]) -> Tensor { factors.determinants() }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        let scale = (g * output).unsqueezed(axis: -1).unsqueezed(axis: -1)
        if factors.infos.allSatisfy({ $0 == 0 }) {
            return [scale * factors.inverseTransposed(inputs[0])]
        }
        return [g.unsqueezed(axis: -1).unsqueezed(axis: -1) * Variable(cofactorMatrix(inputs[0].value.to(factors.lu.dtype)))]
    }
}

/// The cofactor matrix `det(A)·A⁻ᵀ` of each matrix, valid for singular matrices too (through the SVD).
func cofactorMatrix(_ a: Tensor) -> Tensor {
    // SVD of a square matrix cannot fail on finite input short of non-convergence; a zero matrix is returned then.
    guard let (u, s, vh) = try? svdKernel(a, op: "det") else { return Tensor.zeros(like: a) }
    let n = a.shape[a.rank - 1]
    let sv = s.doubles
    var products = [Double](repeating: 1, count: s.count)
    for b in 0..<(s.count / Swift.max(n, 1)) {
        for i in 0..<n {
            for j in 0..<n where j != i { products[b * n + i] *= sv[b * n + j] }
        }
    }
    let signs = LUFactors(u, op: "det").determinants() * LUFactors(vh, op: "det").determinants()
    let middle = Tensor(shape: s.shape, scalars: products, dtype: a.dtype).unsqueezed(axis: -2)   // scales U's columns
    return Tensor.matmul(u * middle, vh) * signs.unsqueezed(axis: -1).unsqueezed(axis: -1)
}

/// `log|det A|` from LU factors.  Adjoint: `Ā = ḡ·A⁻ᵀ`, a differentiable solve.
struct LogAbsDeterminant: Op {
    let factors: LUFactors
    var name: String { "slogdet" }
    func forward(_ x: [Tensor]) -> Tensor {
        Tensor(shape: factors.shape.batch, scalars: factors.signAndLogAbsDet().logAbs, dtype: factors.lu.dtype)
    }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        [g.unsqueezed(axis: -1).unsqueezed(axis: -1) * factors.inverseTransposed(inputs[0])]
    }
}

extension Tensor {
    /// The determinant of each square matrix: `[..., n, n] → [...]`, through LU (LAPACK `getrf`):
    /// `det A = ±∏ Uᵢᵢ`. A singular matrix has determinant 0 (not an error).
    public func det() -> Tensor {
        LUFactors(self, op: "det").determinants()
    }

    /// Sign and natural log of the absolute determinant (PyTorch's `slogdet`): `[..., n, n] → ([...], [...])`.
    ///
    /// `det A = sign·exp(logAbsDet)`, without the overflow of the plain product. A singular matrix gives
    /// sign 0 and `logAbsDet = −∞`, as in PyTorch.
    public func slogdet() -> (sign: Tensor, logAbsDet: Tensor) {
        let factors = LUFactors(self, op: "slogdet")
        let (signs, logs) = factors.signAndLogAbsDet()
        let batch = factors.shape.batch
        return (Tensor(shape: batch, scalars: signs, dtype: factors.lu.dtype), Tensor(shape: batch, scalars: logs, dtype: factors.lu.dtype))
    }
}

extension Variable {
    /// The determinant of each square matrix, `[..., n, n] → [...]`.
    ///
    /// Gradient: `Ā = ḡ·det(A)·A⁻ᵀ` (Jacobi's formula), differentiable again. At an exactly singular
    /// matrix the gradient is the cofactor matrix computed through the SVD (exact, e.g. `[[4, −2], [−2, 1]]`
    /// for `[[1, 2], [2, 4]]`), first order only.
    public func det() -> Variable {
        Determinant(factors: LUFactors(value, op: "det"))(self)
    }

    /// Sign (a constant) and `log|det A|` (differentiable): `[..., n, n] → ([...], [...])`.
    ///
    /// Gradient of `logAbsDet`: `Ā = ḡ·A⁻ᵀ`, differentiable again.
    /// - Throws: ``LinearAlgebraError`` (`.singular`) for a singular matrix, where `log|det|` is −∞ and has no gradient.
    public func slogdet() throws -> (sign: Tensor, logAbsDet: Variable) {
        let factors = LUFactors(value, op: "slogdet")
        try factors.requireNonsingular(op: "slogdet")
        let sign = Tensor(shape: factors.shape.batch, scalars: factors.signAndLogAbsDet().sign, dtype: factors.lu.dtype)
        return (sign, LogAbsDeterminant(factors: factors)(self))
    }
}
