import Foundation
import AutoGradTestSupport
import Testing
@testable import AutoGrad

// Finite-difference checks (gradcheck, and gradgradcheck where the backward is built from
// differentiable ops — all of them here) of every linear-algebra op, in Double with fixed seeds,
// on single matrices, batches and broadcast batches. Decompositions of symmetric matrices are
// checked through the symmetric parametrisation (X + Xᵀ)/2, as their gradients are the symmetric
// ones; SVD and eigh through functions that do not depend on the sign of the singular vectors.

/// The symmetric part `(X + Xᵀ)/2`.
private func symmetric(_ x: Variable) -> Variable { 0.5 * (x + x.mT) }

/// Several outputs flattened into one vector, so one gradcheck covers them all.
private func joined(_ parts: Variable...) -> Variable { Variable.concatenate(parts.map { $0.reshaped([-1]) }) }

/// Unwraps a throwing op inside a checked closure (the inputs are chosen so that it never throws).
private func ok<T>(_ body: () throws -> T) -> T {
    do { return try body() } catch { fatalError("unexpected \(error)") }
}

@Suite struct LinalgGradientTests {
    @Test func solve() {
        expectGradients("solve", [wellConditioned([3, 3], seed: 1), sample([3, 2], seed: 2)], secondOrder: true) { x in
            ok { try Variable.solve(x[0], x[1]) }
        }
        expectGradients("solve, broadcast batch", [wellConditioned([2, 3, 3], seed: 3), sample([3, 2], seed: 4)]) { x in
            ok { try Variable.solve(x[0], x[1]) }
        }
        expectGradients("solve, broadcast A", [wellConditioned([3, 3], seed: 5), sample([2, 1, 3, 1], seed: 6)]) { x in
            ok { try Variable.solve(x[0], x[1]) }
        }
        expectGradients("solve, vector", [wellConditioned([3, 3], seed: 7), sample([3], seed: 8)], secondOrder: true) { x in
            ok { try Variable.solve(x[0], x[1]) }
        }
        expectGradients("solve, A only", [wellConditioned([3, 3], seed: 9), sample([3, 2], seed: 10)], checking: [true, false]) { x in
            ok { try Variable.solve(x[0], x[1]) }
        }
    }

    @Test func inverse() {
        expectGradients("inverse", [wellConditioned([3, 3], seed: 11)], secondOrder: true) { x in ok { try x[0].inverse() } }
        expectGradients("inverse, batch", [wellConditioned([2, 2, 2], seed: 12)]) { x in ok { try x[0].inverse() } }
    }

    @Test func determinant() {
        expectGradients("det", [wellConditioned([3, 3], seed: 13)], secondOrder: true) { $0[0].det() }
        expectGradients("det, batch", [wellConditioned([2, 3, 3], seed: 14)]) { $0[0].det() }
        expectGradients("det, 1×1", [sample([1, 1], .positive, seed: 15)], secondOrder: true) { $0[0].det() }
        // A negative determinant (rows swapped), where the LU pivoting sign matters.
        let swapped = wellConditioned([3, 3], seed: 16).indexSelected(axis: 0, indices: [1, 0, 2])
        expectGradients("det, negative", [swapped], secondOrder: true) { $0[0].det() }
    }

    @Test func slogdet() {
        let swapped = wellConditioned([3, 3], seed: 17).indexSelected(axis: 0, indices: [1, 0, 2])
        #expect(swapped.slogdet().sign == Tensor(-1.0))
        expectGradients("slogdet", [swapped], secondOrder: true) { x in ok { try x[0].slogdet().logAbsDet } }
        expectGradients("slogdet, batch", [wellConditioned([2, 3, 3], seed: 18)]) { x in ok { try x[0].slogdet().logAbsDet } }
    }

    @Test func triangularSolve() {
        let a = wellConditioned([3, 3], seed: 19), b = sample([3, 2], seed: 20)
        for upper in [false, true] {
            for transpose in [false, true] {
                for unit in [false, true] {
                    expectGradients("solveTriangular upper \(upper) transpose \(transpose) unit \(unit)", [a, b],
                                    secondOrder: !unit && upper == transpose) { x in
                        ok { try Variable.solveTriangular(x[0], x[1], upper: upper, transposeA: transpose, unitriangular: unit) }
                    }
                }
            }
        }
        expectGradients("solveTriangular, broadcast", [wellConditioned([2, 3, 3], seed: 21), sample([3, 1], seed: 22)]) { x in
            ok { try Variable.solveTriangular(x[0], x[1], upper: false) }
        }
    }

    @Test func cholesky() {
        let shift = Variable(Tensor.eye(3, dtype: .float64) * 3)
        expectGradients("cholesky", [sample([3, 3], seed: 23)], secondOrder: true) { x in
            ok { try (symmetric(x[0]) + shift).cholesky() }
        }
        expectGradients("cholesky, batch", [sample([2, 3, 3], seed: 24)]) { x in ok { try (symmetric(x[0]) + shift).cholesky() } }
        expectGradients("choleskySolve", [sample([3, 2], seed: 25), sample([3, 3], seed: 26)], secondOrder: true) { x in
            ok { try Variable.choleskySolve(x[0], (symmetric(x[1]) + shift).cholesky()) }
        }
    }

    @Test func qr() {
        for (i, shape) in [[4, 3], [3, 3], [2, 4], [2, 3, 2]].enumerated() {
            expectGradients("qr", [sample(shape, seed: 30 + UInt64(i))], secondOrder: shape == [3, 2] || shape == [4, 3]) { x in
                let (q, r) = ok { try x[0].qr() }
                return joined(q, r)
            }
        }
    }

    @Test func svd() {
        for (i, shape) in [[3, 3], [4, 2], [2, 4], [2, 3, 2]].enumerated() {
            expectGradients("svd", [sample(shape, seed: 40 + UInt64(i))], secondOrder: shape == [4, 2]) { x in
                let (u, s, vh) = ok { try x[0].svd() }
                // U·Vh and U·diag(s²)·Uᵀ do not depend on the singular vectors' signs; they exercise Ū, V̄ and S̄.
                let w = Variable(Tensor.arange(1, Double(s.shape[s.rank - 1]) + 1, dtype: .float64))
                return joined(s, u.matmul(vh), (u * (s * w).unsqueezed(axis: -2)).matmul(u.mT))
            }
        }
        expectGradients("singularValues", [sample([3, 4], seed: 45)], secondOrder: true) { x in ok { try x[0].singularValues() } }
    }

    @Test func eigh() {
        for (i, shape) in [[3, 3], [2, 4, 4], [1, 1]].enumerated() {
            expectGradients("eigh", [sample(shape, seed: 50 + UInt64(i))], secondOrder: shape == [3, 3]) { x in
                let (w, v) = ok { try symmetric(x[0]).eigh() }
                // v² elementwise is sign-invariant; V·diag(c)·Vᵀ with distinct c weights each eigenvector.
                let c = Variable(Tensor.arange(1, Double(w.shape[w.rank - 1]) + 1, dtype: .float64))
                return joined(w, v * v, (v * c.unsqueezed(axis: 0)).matmul(v.mT))
            }
        }
    }

    @Test func leastSquares() {
        expectGradients("lstsq, tall", [sample([4, 2], seed: 60), sample([4, 2], seed: 61)], secondOrder: true) { x in
            ok { try Variable.lstsq(x[0], x[1]) }
        }
        expectGradients("lstsq, wide", [sample([2, 3], seed: 62), sample([2, 1], seed: 63)], secondOrder: true) { x in
            ok { try Variable.lstsq(x[0], x[1]) }
        }
        expectGradients("lstsq, vector, batch", [sample([2, 3, 2], seed: 64), sample([3], seed: 65)]) { x in
            ok { try Variable.lstsq(x[0], x[1]) }
        }
    }

    @Test func normsAndTrace() {
        expectGradients("frobenius", [sample([2, 3, 4], seed: 70)], secondOrder: true) { x in ok { try x[0].matrixNorm() } }
        expectGradients("nuclear", [sample([3, 3], seed: 71)], secondOrder: true) { x in ok { try x[0].matrixNorm(.nuclear) } }
        expectGradients("spectral", [sample([2, 3, 2], seed: 72)], secondOrder: true) { x in ok { try x[0].matrixNorm(.spectral) } }
        expectGradients("trace", [sample([3, 3], seed: 73)], secondOrder: true) { $0[0].trace() }
        expectGradients("trace, rectangular batch", [sample([2, 3, 4], seed: 74)]) { $0[0].trace() }
        expectGradients("diagonalEmbedded", [sample([2, 3], seed: 75)], secondOrder: true) { $0[0].diagonalEmbedded() }
    }
}

@Suite struct LinalgDocumentationExampleTests {
    /// The LinearAlgebra article's example: ∂ log|X·Xᵀ + I| / ∂X = 2·(X·Xᵀ + I)⁻¹·X.
    @Test func logDeterminantThroughCholesky() throws {
        let x = Variable(sample([5, 3], seed: 80), requiresGrad: true)
        let a = x.matmul(x.transposed()) + Variable(Tensor.eye(5, dtype: .float64))
        let l = try a.cholesky()
        let logDet = 2 * l.diagonal().log().sum()
        logDet.backward()
        #expect(mismatch(logDet.value, shape: [], [Foundation.log(a.value.det().item)], atol: 1e-12) == nil)
        #expect(mismatch(x.grad!, try Tensor.solve(a.value, x.value) * 2, atol: 1e-12) == nil)
    }
}
