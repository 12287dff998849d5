import Testing
@testable import AutoGrad

/// The Float product path (`gemm`, which runs CKernels' AVX-512 kernel where ``BLAS`` chooses it, else
/// OpenBLAS) against a triple loop in Double, on shapes that cross each of the kernel's block edges.
@Suite struct ProductKernelTests {
    /// Row-major `α·op(a)·op(b) + β·c` in Double; `c` holds `m` rows `ldc` apart.
    static func reference(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double, a: [Float], lda: Int,
                          b: [Float], ldb: Int, beta: Double, c: [Float], ldc: Int) -> [Float] {
        var result = c
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    sum += Double(transposeA ? a[p * lda + i] : a[i * lda + p]) * Double(transposeB ? b[j * ldb + p] : b[p * ldb + j])
                }
                result[i * ldc + j] = Float(alpha * sum + (beta == 0 ? 0 : beta * Double(c[i * ldc + j])))
            }
        }
        return result
    }

    /// (m, n, k): more rows than an A block (192) and not a multiple of the 12-row tile; more columns than a
    /// B block (1024) and not a multiple of the 32-column tile; an inner dimension of three slices (256 each);
    /// tiles narrower than one register; a single element.
    static let shapes: [(m: Int, n: Int, k: Int)] = [(205, 45, 37), (13, 1100, 19), (26, 70, 600), (5, 9, 300), (1, 1, 1)]

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matchesTheTripleLoop(transposes: (Bool, Bool)) {
        let (ta, tb) = transposes
        let generator = RandomGenerator(seed: 7)
        for s in Self.shapes {
            // Leading dimensions wider than the matrices: the kernel must read and write only its part.
            let lda = (ta ? s.m : s.k) + 3, ldb = (tb ? s.k : s.n) + 5, ldc = s.n + 2
            let a = Tensor.randn([(ta ? s.k : s.m) * lda], generator: generator).floats
            let b = Tensor.randn([(tb ? s.n : s.k) * ldb], generator: generator).floats
            for (alpha, beta) in [(1.0, 0.0), (-0.5, 0.75), (2.0, 1.0)] {
                // β = 0 must not read c: NaN there would otherwise reach the result.
                var c = beta == 0 ? [Float](repeating: .nan, count: s.m * ldc) : Tensor.randn([s.m * ldc], generator: generator).floats
                let expected = Self.reference(transposeA: ta, transposeB: tb, m: s.m, n: s.n, k: s.k, alpha: alpha, a: a, lda: lda,
                                              b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
                a.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        c.withUnsafeMutableBufferPointer { c in
                            gemm(transposeA: ta, transposeB: tb, m: s.m, n: s.n, k: s.k, alpha: Float(alpha), a.baseAddress!, lda: lda,
                                 b.baseAddress!, ldb: ldb, beta: Float(beta), c.baseAddress!, ldc: ldc)
                        }
                    }
                }
                var worst = 0 as Float, at = -1
                for index in 0..<c.count {
                    let column = index % ldc
                    if column >= s.n {
                        // Outside the matrix: untouched (NaN stays NaN).
                        if !(c[index].isNaN && expected[index].isNaN) && c[index] != expected[index] { worst = .infinity; at = index }
                        continue
                    }
                    let error = abs(c[index] - expected[index]) / (1 + abs(expected[index]))
                    if !(error <= worst) { worst = error.isNaN ? .infinity : error; at = index }
                }
                #expect(worst < 1e-4, "\(s) ta \(ta) tb \(tb) α \(alpha) β \(beta): error \(worst) at \(at) (\(BLAS.floatProductKernels))")
            }
        }
    }

    @Test func zeroInnerDimensionScalesC() {
        var c: [Float] = [1, 2, 3, 4]
        let empty: [Float] = [0]
        empty.withUnsafeBufferPointer { e in
            c.withUnsafeMutableBufferPointer { c in
                gemm(transposeA: false, transposeB: false, m: 2, n: 2, k: 0, e.baseAddress!, lda: 1, e.baseAddress!, ldb: 2,
                     beta: 0.5, c.baseAddress!, ldc: 2)
            }
        }
        #expect(c == [0.5, 1, 1.5, 2])
    }

    /// The kernel choice follows the documented rule: AutoGrad's own only where OpenBLAS runs AVX2 kernels
    /// on a CPU with AVX-512, and never when the user asked to keep OpenBLAS.
    @Test func ownKernelOnlyWhereOpenBLASIsAVX2OnAnAVX512CPU() {
        let name = BLAS.floatProductKernels
        if BLAS.usesOwnFloatKernel {
            #expect(name == "AutoGrad AVX-512")
            #expect(BLAS.cpuHasAVX512 && !["SkylakeX", "Cooperlake", "SapphireRapids"].contains(BLAS.coreName))
        } else {
            #expect(name == "OpenBLAS \(BLAS.coreName)")
        }
    }
}
