import AutoGradTestSupport
import Testing
@testable import AutoGrad

// The documented behaviour of the linear-algebra gradients at degenerate inputs: singular
// matrices (det's cofactor gradient), repeated singular values and eigenvalues (exact for functions
// of the values; the coupling of degenerate vectors dropped, so gradients stay finite), zero
// singular values, and the Frobenius norm's kink at zero. Every expected value is worked out by hand in the comments.

@Suite struct LinalgDegenerateTests {
    @Test func determinantGradientAtSingularMatricesIsTheCofactorMatrix() {
        // cof([[1, 2], [2, 4]]) = [[4, −2], [−2, 1]].
        let g = gradients([Tensor(shape: [2, 2], scalars: [1.0, 2, 2, 4])]) { $0[0].det() }[0]
        #expect(mismatch(g, shape: [2, 2], [4, -2, -2, 1], atol: 1e-12) == nil)
        // diag(1, 2, 0): only the (3, 3) minor is non-zero, cof = diag(0, 0, 2); in a batch with a regular matrix.
        let batch = Tensor.stack([Tensor(shape: [3, 3], scalars: [1.0, 0, 0, 0, 2, 0, 0, 0, 0]), Tensor.eye(3, dtype: .float64) * 2])
        let gb = gradients([batch]) { $0[0].det() }[0]
        #expect(mismatch(gb, shape: [2, 3, 3], [0, 0, 0, 0, 0, 0, 0, 0, 2, 4, 0, 0, 0, 4, 0, 0, 0, 4], atol: 1e-12) == nil)
        // Rank n − 2: every (n−1)-minor vanishes, so the gradient is 0.
        #expect(mismatch(gradients([Tensor.zeros([3, 3], dtype: .float64)]) { $0[0].det() }[0], Tensor.zeros([3, 3], dtype: .float64)) == nil)
    }

    @Test func svdAtRepeatedSingularValues() throws {
        // Functions of the singular values alone are exact. Nuclear norm at I: U·Vᵀ = I. Spectral norm
        // at I: the three tied maxima share the gradient, I/3.
        let identity = Tensor.eye(3, dtype: .float64)
        #expect(mismatch(gradients([identity]) { try! $0[0].matrixNorm(.nuclear) }[0], identity, atol: 1e-12) == nil)
        #expect(mismatch(gradients([identity]) { try! $0[0].matrixNorm(.spectral) }[0], identity / 3, atol: 1e-12) == nil)
        // A rotated SPD matrix with singular values (2, 2, 1): ∂‖A‖_*/∂A = U·Vᵀ = I.
        let q = try sample([3, 3], seed: 1).qr().Q
        let a = Tensor.matmul(q * Tensor([2.0, 2, 1]).unsqueezed(axis: 0), q, transposeB: true)
        #expect(mismatch(gradients([a]) { try! $0[0].matrixNorm(.nuclear) }[0], identity, atol: 1e-12) == nil)

        // Through the singular vectors, the term coupling a degenerate pair (whose limit depends on how
        // the degeneracy is approached) is dropped and the finite (J − K)/(sᵢ + sⱼ) term kept. At A = I
        // (U = V) with Ḡ = [[0, 1], [0, 0]] on U·diag(S)·Vh: J = Ḡ − Ḡᵀ, K = −J, S̄ = diag(Ḡ) = 0, so
        // Ā = ½(Ḡ − Ḡᵀ) = [[0, ½], [−½, 0]] — finite, the rotation part of Ḡ (the true gradient, Ḡ, also
        // has the symmetric part that moves the two equal singular values apart).
        let i2 = Tensor.eye(2, dtype: .float64)
        let (u, _, _) = try i2.svd()
        try #require(u.abs() == i2, "LAPACK returned a signed permutation for the SVD of I")
        let g = gradients([i2], weights: Tensor(shape: [2, 2], scalars: [0.0, 1, 0, 0])) { x in
            let (u, s, vh) = try! x[0].svd()
            return (u * s.unsqueezed(axis: -2)).matmul(vh)
        }[0]
        #expect(mismatch(g, shape: [2, 2], [0, 0.5, -0.5, 0], atol: 1e-15) == nil)
    }

    @Test func svdWithZeroSingularValuesStaysFinite() {
        // Rank 1, 3×2: one zero singular value; S⁻¹ counts it as 0. The gradient of Σ S is U·Vᵀ restricted
        // to the non-zero singular value plus LAPACK's completion — a valid subgradient, and finite.
        let a = Tensor(shape: [3, 2], scalars: [1.0, 2, 2, 4, 3, 6])
        let g = gradients([a]) { x in
            let (u, s, vh) = try! x[0].svd()
            return s.sum() + u.matmul(vh).sum()
        }[0]
        let finite = g.doubles.allSatisfy { $0.isFinite }
        #expect(finite)
        // Σ s₁ alone: ∂s₁/∂A = u₁·v₁ᵀ = A/‖A‖_F for a rank-one A.
        let g1 = gradients([a]) { try! $0[0].singularValues().sliced(axis: 0, start: 0, end: 1) }[0]
        #expect(mismatch(g1, a / a.squared().sum().sqrt(), atol: 1e-12) == nil)
    }

    @Test func eighAtRepeatedEigenvalues() throws {
        // At A = 2I every orthonormal basis is an eigenbasis. Functions of the eigenvalues are exact:
        // Σ w = trace has gradient I; Σ w² = ‖A‖_F² (A symmetric) has gradient 2A.
        let a = Tensor.eye(3, dtype: .float64) * 2
        #expect(mismatch(gradients([a]) { try! $0[0].eigh().values.sum() }[0], Tensor.eye(3, dtype: .float64), atol: 1e-12) == nil)
        #expect(mismatch(gradients([a]) { try! $0[0].eigh().values.squared().sum() }[0], a * 2, atol: 1e-12) == nil)
        // Through the eigenvectors, degenerate pairs contribute nothing (Fᵢⱼ = 0): for V·diag(w)·Vᵀ weighted
        // by W at 2I (V = I), Ā = V·diag(diag(Vᵀ·W·V))·Vᵀ = diag(W) — finite; the true gradient sym(W) also
        // has off-diagonal parts, which split the repeated eigenvalue.
        let (_, v) = try a.eigh()
        try #require(v.abs() == Tensor.eye(3, dtype: .float64), "LAPACK returned a signed permutation for the eigenvectors of 2I")
        let w = sample([3, 3], seed: 3)
        let g = gradients([a], weights: w) { x in
            let (values, vectors) = try! x[0].eigh()
            return (vectors * values.unsqueezed(axis: -2)).matmul(vectors.mT)
        }[0]
        #expect(mismatch(g, w * Tensor.eye(3, dtype: .float64), atol: 1e-12) == nil)
    }

    @Test func frobeniusNormAtZeroHasZeroGradient() {
        let g = gradients([Tensor.zeros([2, 3], dtype: .float64)]) { try! $0[0].matrixNorm() }[0]
        #expect(g == Tensor.zeros([2, 3], dtype: .float64))
    }

    @Test func gradientChecksCatchAWrongRule() {
        // The checkers used by LinalgGradientTests reject a Cholesky rule missing its symmetrisation.
        withKnownIssue("a Cholesky gradient without the ½(P + Pᵀ) step must be reported") {
            expectGradients("cholesky, wrong rule", [positiveDefinite([3, 3], seed: 4)]) { x in
                let l = try! x[0].cholesky()
                return WrongCholesky(factor: l.value)(0.5 * (x[0] + x[0].mT))
            }
        }
    }
}

/// Cholesky with the adjoint `L⁻ᵀ·Φ(Lᵀ·L̄)·L⁻¹` (no symmetrisation): wrong for symmetric inputs.
private struct WrongCholesky: Op {
    let factor: Tensor
    func forward(_ x: [Tensor]) -> Tensor { factor }
    func backward(_ g: Variable, inputs: [Variable], output l: Variable) -> [Variable?] {
        let p = l.mT.matmul(g).triangle(upper: false)
        let y = TriangularSolve(upper: false, transpose: true, unit: false)(l, p)
        return [TriangularSolve(upper: false, transpose: true, unit: false)(l, y.mT).mT]
    }
}
