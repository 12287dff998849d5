import Foundation
import AutoGradTestSupport
import Testing
@testable import AutoGrad

// Forward results of the linear-algebra ops against hand-computed values and defining identities
// (A·X = B, Q·R = A, U·diag(S)·Vh = A, …), in Double and Float, batched and broadcast; and the
// thrown errors for singular, non-positive-definite and rank-deficient input.

/// A well-conditioned `[..., n, n]` matrix: uniform entries plus `n` on the diagonal.
func wellConditioned(_ shape: [Int], seed: UInt64) -> Tensor {
    sample(shape, seed: seed) + Tensor.eye(shape[shape.count - 1], dtype: .float64) * Double(shape[shape.count - 1])
}

/// A symmetric positive-definite `[..., n, n]` matrix `X·Xᵀ + n·I`.
func positiveDefinite(_ shape: [Int], seed: UInt64) -> Tensor {
    let x = sample(shape, seed: seed)
    return Tensor.matmul(x, x, transposeB: true) + Tensor.eye(shape[shape.count - 1], dtype: .float64) * Double(shape[shape.count - 1])
}

private func identity(_ n: Int, _ batch: [Int] = []) -> Tensor {
    Tensor.eye(n, dtype: .float64).broadcast(to: batch + [n, n])
}

@Suite struct LinalgForwardTests {
    @Test func solveSatisfiesTheSystemWithBroadcastBatches() throws {
        let a = wellConditioned([2, 3, 3], seed: 1), b = sample([3, 2], seed: 2)
        let x = try Tensor.solve(a, b)
        #expect(x.shape == [2, 3, 2])
        #expect(mismatch(Tensor.matmul(a, x), b.broadcast(to: [2, 3, 2]), atol: 1e-12) == nil)
        let v = try Tensor.solve(a, Tensor([1.0, 2, 3]))
        #expect(v.shape == [2, 3])
        #expect(mismatch(try Tensor.solve(Tensor(shape: [2, 2], scalars: [2.0, 1, 1, 3]), Tensor([3.0, 5])), shape: [2], [0.8, 1.4], atol: 1e-15) == nil)
    }

    @Test func solveInFloat() throws {
        let a = wellConditioned([3, 3], seed: 3), b = sample([3, 2], seed: 4)
        let x = try Tensor.solve(a.to(.float32), b.to(.float32))
        #expect(x.dtype == .float32)
        #expect(mismatch(x, try Tensor.solve(a, b), atol: 1e-5) == nil)
        #expect(try Tensor.solve(a.to(.float32), b).dtype == .float64)
    }

    @Test func inverseOfKnownMatrixAndBatch() throws {
        let a = Tensor(shape: [2, 2], scalars: [4.0, 7, 2, 6])
        #expect(mismatch(try a.inverse(), shape: [2, 2], [0.6, -0.7, -0.2, 0.4], atol: 1e-15) == nil)
        let b = wellConditioned([2, 2, 3, 3], seed: 5)
        #expect(mismatch(Tensor.matmul(b, try b.inverse()), identity(3, [2, 2]), atol: 1e-12) == nil)
    }

    @Test func determinantsAndSlogdet() throws {
        #expect(Tensor(shape: [2, 2], scalars: [1.0, 2, 3, 4]).det() == Tensor(-2.0))
        let a = Tensor(shape: [3, 3], scalars: [2.0, -3, 1, 2, 0, -1, 1, 4, 5])
        #expect(mismatch(a.det(), shape: [], [49], atol: 1e-12) == nil)
        // A row swap flips the sign (LU pivoting must count it).
        #expect(mismatch(Tensor(shape: [2, 2], scalars: [0.0, 1, 1, 0]).det(), shape: [], [-1]) == nil)
        let batch = Tensor.stack([Tensor(shape: [2, 2], scalars: [1.0, 2, 3, 4]), Tensor(shape: [2, 2], scalars: [1.0, 2, 2, 4])])
        #expect(mismatch(batch.det(), shape: [2], [-2, 0], atol: 1e-15) == nil)
        let (sign, logAbs) = batch.slogdet()
        #expect(sign == Tensor([-1.0, 0]))
        #expect(mismatch(logAbs, shape: [2], [Foundation.log(2), -.infinity], atol: 1e-15) == nil)
        #expect(Tensor.zeros([0, 0], dtype: .float64).det() == Tensor(1.0))
    }

    @Test func choleskyOfKnownMatrixAndBatch() throws {
        let l = try Tensor(shape: [2, 2], scalars: [4.0, 2, 2, 3]).cholesky()
        #expect(mismatch(l, shape: [2, 2], [2, 0, 1, 2.0.squareRoot()], atol: 1e-15) == nil)
        let a = positiveDefinite([3, 4, 4], seed: 6)
        let factor = try a.cholesky()
        #expect(mismatch(Tensor.matmul(factor, factor, transposeB: true), a, atol: 1e-12) == nil)
        #expect(mismatch(factor * Tensor.triangleMask(rows: 4, columns: 4, upper: true, diagonal: 1, dtype: .float64),
                         Tensor.zeros([3, 4, 4], dtype: .float64)) == nil)
        let b = sample([4, 2], seed: 7)
        #expect(mismatch(try Tensor.choleskySolve(b, factor), try Tensor.solve(a, b), atol: 1e-12) == nil)
        #expect(mismatch(try a.to(.float32).cholesky(), factor, atol: 1e-5) == nil)
    }

    @Test func triangularSolvesReadOnlyTheirTriangle() throws {
        let full = wellConditioned([3, 3], seed: 8), b = sample([3, 2], seed: 9)
        let lowerMask = Tensor.triangleMask(rows: 3, columns: 3, upper: false, dtype: .float64)
        let lower = full * lowerMask, upper = full * (1 - lowerMask) + full * Tensor.eye(3, dtype: .float64)
        #expect(mismatch(try Tensor.solveTriangular(full, b, upper: false), try Tensor.solve(lower, b), atol: 1e-13) == nil)
        #expect(mismatch(try Tensor.solveTriangular(full, b, upper: true), try Tensor.solve(upper, b), atol: 1e-13) == nil)
        #expect(mismatch(try Tensor.solveTriangular(full, b, upper: false, transposeA: true),
                         try Tensor.solve(lower.transposed(), b), atol: 1e-13) == nil)
        let unitLower = lower * (1 - Tensor.eye(3, dtype: .float64)) + Tensor.eye(3, dtype: .float64)
        #expect(mismatch(try Tensor.solveTriangular(full, b, upper: false, unitriangular: true),
                         try Tensor.solve(unitLower, b), atol: 1e-13) == nil)
    }

    @Test func qrReconstructsTallSquareAndWideBatches() throws {
        for shape in [[2, 5, 3], [3, 3], [2, 2, 4]] {
            let a = sample(shape, seed: 10)
            let (q, r) = try a.qr()
            let (m, n) = (shape[shape.count - 2], shape[shape.count - 1]), k = Swift.min(m, n)
            #expect(q.shape == Array(shape.dropLast(2)) + [m, k] && r.shape == Array(shape.dropLast(2)) + [k, n])
            #expect(mismatch(Tensor.matmul(q, r), a, atol: 1e-13) == nil, "QR of \(shape)")
            #expect(mismatch(Tensor.matmul(q, q, transposeA: true), identity(k, Array(shape.dropLast(2))), atol: 1e-13) == nil)
            #expect(r * Tensor.triangleMask(rows: k, columns: n, upper: false, diagonal: -1, dtype: .float64) == Tensor.zeros(like: r))
        }
    }

    @Test func svdReconstructsAndKnownSingularValues() throws {
        for shape in [[2, 4, 3], [3, 3], [2, 5]] {
            let a = sample(shape, seed: 11)
            let (u, s, vh) = try a.svd()
            #expect(mismatch(Tensor.matmul(u * s.unsqueezed(axis: -2), vh), a, atol: 1e-13) == nil, "SVD of \(shape)")
            let sv = s.doubles
            #expect(zip(sv, sv.dropFirst()).allSatisfy { $0.0 >= $0.1 || s.rank > 1 } && sv.allSatisfy { $0 >= 0 })
        }
        let d = Tensor(shape: [2, 2], scalars: [3.0, 0, 0, -4])
        #expect(mismatch(try d.singularValues(), shape: [2], [4, 3], atol: 1e-15) == nil)
        #expect(mismatch(try d.to(.float32).singularValues(), shape: [2], [4, 3], atol: 1e-6) == nil)
    }

    @Test func eighOfKnownMatrixAndBatch() throws {
        let (w, v) = try Tensor(shape: [2, 2], scalars: [2.0, 1, 1, 2]).eigh()
        #expect(mismatch(w, shape: [2], [1, 3], atol: 1e-15) == nil)
        #expect(mismatch(v.abs(), shape: [2, 2], Array(repeating: 0.5.squareRoot(), count: 4), atol: 1e-15) == nil)
        let a = positiveDefinite([2, 4, 4], seed: 12) - 3
        let (w2, v2) = try a.eigh()
        #expect(mismatch(Tensor.matmul(v2 * w2.unsqueezed(axis: -2), v2, transposeB: true), a, atol: 1e-12) == nil)
        #expect(w2.doubles[0] <= w2.doubles[1])
        #expect(mismatch(try a.to(.float32).eigh().values, w2, atol: 1e-4) == nil)
    }

    @Test func leastSquaresTallAndMinimumNorm() throws {
        let a = sample([5, 2], seed: 13), b = sample([5, 3], seed: 14)
        // The normal equations: AᵀA·X = Aᵀ·B.
        let normal = try Tensor.solve(Tensor.matmul(a, a, transposeA: true), Tensor.matmul(a, b, transposeA: true))
        #expect(mismatch(try Tensor.lstsq(a, b), normal, atol: 1e-12) == nil)
        let wide = sample([2, 4], seed: 15), rhs = Tensor([1.0, -2])
        let x = try Tensor.lstsq(wide, rhs)
        #expect(x.shape == [4])
        #expect(mismatch(Tensor.matmul(wide, x), rhs, atol: 1e-13) == nil)
        // Minimum norm: x lies in the row space, x = Aᵀ(AAᵀ)⁻¹b.
        let minimum = Tensor.matmul(wide, try Tensor.solve(Tensor.matmul(wide, wide, transposeB: true), rhs), transposeA: true)
        #expect(mismatch(x, minimum, atol: 1e-13) == nil)
    }

    @Test func normsAndTrace() throws {
        let a = Tensor(shape: [2, 2], scalars: [3.0, 0, 0, -4])
        #expect(mismatch(try a.matrixNorm(), shape: [], [5], atol: 1e-15) == nil)
        #expect(mismatch(try a.matrixNorm(.nuclear), shape: [], [7], atol: 1e-14) == nil)
        #expect(mismatch(try a.matrixNorm(.spectral), shape: [], [4], atol: 1e-14) == nil)
        #expect(a.trace() == Tensor(-1.0))
        let r = Tensor.arange(0, 24, dtype: .float64).reshaped([2, 3, 4])
        #expect(r.trace() == Tensor([15.0, 51]))     // 0+5+10, 12+17+22
        #expect(r.diagonal() == Tensor(shape: [2, 3], scalars: [0.0, 5, 10, 12, 17, 22]))
    }
}

@Suite struct LinalgErrorTests {
    @Test func singularSolveAndInverseThrowWithInfo() {
        let singular = Tensor.stack([Tensor.eye(2, dtype: .float64), Tensor(shape: [2, 2], scalars: [1.0, 2, 2, 4])])
        #expect(throws: LinearAlgebraError(op: "solve", reason: .singular, info: 2, batchIndex: 1)) {
            try Tensor.solve(singular, Tensor.ones([2, 1], dtype: .float64))
        }
        #expect(throws: LinearAlgebraError(op: "inverse", reason: .singular, info: 2, batchIndex: 1)) { try singular.inverse() }
        #expect(throws: LinearAlgebraError(op: "inverse", reason: .singular, info: 2, batchIndex: 1)) {
            try Variable(singular, requiresGrad: true).inverse()
        }
        #expect(throws: LinearAlgebraError(op: "slogdet", reason: .singular, info: 2, batchIndex: 1)) {
            try Variable(singular, requiresGrad: true).slogdet()
        }
        let error = LinearAlgebraError(op: "solve", reason: .singular, info: 2, batchIndex: 1)
        #expect(error.description == "solve: matrix 1 of the batch: the matrix is singular (zero pivot at position 2) (LAPACK info 2)")
    }

    @Test func notPositiveDefiniteThrowsWithTheFailingMinor() {
        let a = Tensor(shape: [3, 3], scalars: [1.0, 2, 0, 2, 1, 0, 0, 0, 1])
        #expect(throws: LinearAlgebraError(op: "cholesky", reason: .notPositiveDefinite, info: 2)) { try a.cholesky() }
        #expect(throws: LinearAlgebraError(op: "cholesky", reason: .notPositiveDefinite, info: 2)) {
            try Variable(a, requiresGrad: true).cholesky()
        }
        #expect(throws: LinearAlgebraError.self) { try Tensor(shape: [1, 1], scalars: [Double.nan]).cholesky() }
    }

    @Test func zeroDiagonalAndRankDeficiencyThrow() {
        let l = Tensor(shape: [2, 2], scalars: [1.0, 0, 3, 0])
        #expect(throws: LinearAlgebraError(op: "solveTriangular", reason: .singular, info: 2)) {
            try Tensor.solveTriangular(l, Tensor.ones([2, 1], dtype: .float64), upper: false)
        }
        let rankOne = Tensor(shape: [3, 2], scalars: [1.0, 0, 2, 0, 3, 0])   // a zero column: R₁₁ is exactly 0
        #expect(throws: LinearAlgebraError(op: "lstsq", reason: .rankDeficient, info: 2)) {
            try Tensor.lstsq(rankOne, Tensor.ones([3], dtype: .float64))
        }
        // QR itself is defined for any matrix; only its gradient needs full rank.
        #expect(throws: Never.self) { try rankOne.qr() }
        #expect(throws: LinearAlgebraError(op: "qr", reason: .rankDeficient, info: 2)) { try Variable(rankOne, requiresGrad: true).qr() }
    }
}
