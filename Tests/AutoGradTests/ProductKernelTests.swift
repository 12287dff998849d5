import CKernels
import Testing
@testable import AutoGrad

/// The Float product path (`gemm`, which runs CKernels' kernel where ``BLAS`` chooses it, else OpenBLAS) and
/// `ck_sgemm` itself (every one of its paths, whatever the route) against a triple loop in Double, on shapes that
/// cross each of the kernel's block edges. The kernel checks run at every instruction-set level (KernelLevelTests).
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

    /// The routed product, and `ck_sgemm` called directly.
    static let products = ["gemm", "ck_sgemm"]

    /// Runs the product named `product` (see ``products``).
    static func multiply(_ product: String, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                         _ a: [Float], lda: Int, _ b: [Float], ldb: Int, beta: Float, _ c: inout [Float], ldc: Int) {
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    if product == "gemm" {
                        gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a.baseAddress!,
                             lda: lda, b.baseAddress!, ldb: ldb, beta: beta, c.baseAddress!, ldc: ldc)
                    } else {
                        ck_sgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, alpha, a.baseAddress!, lda, b.baseAddress!, ldb,
                                 beta, c.baseAddress!, ldc)
                    }
                }
            }
        }
    }

    /// Every pair of transposes of every product (see ``matchesTheTripleLoop(transposes:product:)``).
    static func everyProductMatchesTheTripleLoop() {
        for transposes in [(false, false), (true, false), (false, true), (true, true)] {
            for product in products { matchesTheTripleLoop(transposes: transposes, product: product) }
        }
    }

    static func matchesTheTripleLoop(transposes: (Bool, Bool), product: String) {
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
                Self.multiply(product, transposeA: ta, transposeB: tb, m: s.m, n: s.n, k: s.k, alpha: Float(alpha), a, lda: lda,
                              b, ldb: ldb, beta: Float(beta), &c, ldc: ldc)
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
                #expect(worst < 1e-4, "\(product) \(s) ta \(ta) tb \(tb) α \(alpha) β \(beta): error \(worst) at \(at)")
            }
        }
    }

    /// A product past `ck_sgemm`'s in-place limit (2²⁷ multiply-adds) with B untransposed: packed in blocks.
    static func largeUntransposedProductPacks(transposeA: Bool) {
        let (m, n, k) = (530, 516, 500)
        #expect(ck_sgemm_packs(transposeA ? 1 : 0, 0, m, n, k) != 0)
        let generator = RandomGenerator(seed: 8)
        let a = Tensor.randn([m * k], generator: generator).floats, b = Tensor.randn([k * n], generator: generator).floats
        let c0 = Tensor.randn([m * n], generator: generator).floats
        var c = c0
        Self.multiply("ck_sgemm", transposeA: transposeA, transposeB: false, m: m, n: n, k: k, alpha: 1, a, lda: transposeA ? m : k,
                      b, ldb: n, beta: 0.5, &c, ldc: n)
        // Every row against a Double dot product, for a spread of columns (the whole triple loop is slow in debug).
        var worst = 0.0
        for i in 0..<m {
            for j in stride(from: i % 7, to: n, by: 7) {
                var sum = 0.0
                for p in 0..<k { sum += Double(transposeA ? a[p * m + i] : a[i * k + p]) * Double(b[p * n + j]) }
                let expected = sum + 0.5 * Double(c0[i * n + j])
                worst = Swift.max(worst, abs(Double(c[i * n + j]) - expected) / (1 + abs(expected)))
            }
        }
        #expect(worst < 1e-4)
    }

    /// `ck_sgemm_gathered`: A read through a pointer per row and an offset per step (rows that overlap, offsets
    /// out of order), against the same product in Double; edge row and column tiles of both tile shapes (12 × 32
    /// for slices of up to 512 steps, 6 × 64 past that, each column register of the wide tile the partial one
    /// in some case), an inner dimension of three slices (1024 each) that mix the shapes, β = 0 with NaN in C,
    /// C wider than the product, an empty inner dimension (C = β·C); and each with C's rows given by pointers, in
    /// reverse order.
    static func gatheredProductMatchesTheTripleLoop() {
        let generator = RandomGenerator(seed: 9)
        for (m, n, k) in [(29, 45, 2100), (12, 32, 7), (1, 70, 1030), (40, 1, 3), (7, 57, 600), (13, 27, 513), (3, 5, 0)] {
            let pool = Tensor.randn([4096], generator: generator).floats
            let rowStarts = (0..<m).map { ($0 * 37) % 900 }, offsets = (0..<k).map { Int32(($0 * 53) % 3000) }
            let ldb = n + 3, ldc = n + 2
            let b = Tensor.randn([k * ldb], generator: generator).floats
            for (alpha, beta) in [(1.0, 0.0), (-0.5, 1.5)] {
                for byRowPointers in [false, true] {
                    var c = beta == 0 ? [Float](repeating: .nan, count: m * ldc)
                        : Tensor.randn([m * ldc], generator: generator).floats
                    var expected = c
                    for i in 0..<m {
                        for j in 0..<n {
                            var sum = 0.0
                            for p in 0..<k { sum += Double(pool[rowStarts[i] + Int(offsets[p])]) * Double(b[p * ldb + j]) }
                            expected[i * ldc + j] = Float(alpha * sum + (beta == 0 ? 0 : beta * Double(c[i * ldc + j])))
                        }
                    }
                    // With row pointers, row i of C lives at row m − 1 − i of a reversed copy.
                    func reversed(_ rows: [Float]) -> [Float] {
                        (0..<m).reversed().flatMap { rows[($0 * ldc)..<(($0 + 1) * ldc)] }
                    }
                    var target = byRowPointers ? reversed(c) : c
                    pool.withUnsafeBufferPointer { pool in
                        let rows = rowStarts.map { Optional(pool.baseAddress! + $0) }
                        target.withUnsafeMutableBufferPointer { t in
                            let base = t.baseAddress!
                            if byRowPointers {
                                let cRows = (0..<m).map { Optional(base + (m - 1 - $0) * ldc) }
                                ck_sgemm_gathered(m, n, k, Float(alpha), rows, offsets, b, ldb, Float(beta), nil, 0, cRows)
                            } else {
                                ck_sgemm_gathered(m, n, k, Float(alpha), rows, offsets, b, ldb, Float(beta), base, ldc, nil)
                            }
                        }
                    }
                    c = byRowPointers ? reversed(target) : target
                    var worst = 0 as Float
                    for index in 0..<c.count {
                        if index % ldc >= n {
                            if !(c[index].isNaN && expected[index].isNaN) && c[index] != expected[index] { worst = .infinity }
                            continue
                        }
                        let error = abs(c[index] - expected[index]) / (1 + abs(expected[index]))
                        if !(error <= worst) { worst = error.isNaN ? .infinity : error }
                    }
                    #expect(worst < 1e-4,
                            "\(m) × \(n) × \(k), α \(alpha) β \(beta), row pointers \(byRowPointers): error \(worst)")
                }
            }
        }
    }

    /// The convolution's transpose: CKernels' for Float, the loops for Double; ragged 16 × 16 and 8 × 8 blocks,
    /// strides wider than the matrices.
    static func transposeMatrixMatchesTheDefinition() {
        for (rows, columns) in [(1, 1), (5, 37), (33, 16), (128, 49), (8, 8), (9, 17)] {
            let source = (0..<(rows * (columns + 3))).map { Double($0) }
            var float = [Float](repeating: -1, count: columns * (rows + 2)), double = [Double](repeating: -1, count: columns * (rows + 2))
            let floatSource = source.map { Float($0) }
            floatSource.withUnsafeBufferPointer { s in
                float.withUnsafeMutableBufferPointer { transposeMatrix(rows: rows, columns: columns, s.baseAddress!, stride: columns + 3,
                                                                       into: $0.baseAddress!, stride: rows + 2) }
            }
            source.withUnsafeBufferPointer { s in
                double.withUnsafeMutableBufferPointer { transposeMatrix(rows: rows, columns: columns, s.baseAddress!, stride: columns + 3,
                                                                        into: $0.baseAddress!, stride: rows + 2) }
            }
            var expected = [Double](repeating: -1, count: columns * (rows + 2))
            for i in 0..<rows { for j in 0..<columns { expected[j * (rows + 2) + i] = source[i * (columns + 3) + j] } }
            #expect(double == expected, "\(rows) × \(columns), Double")
            #expect(float.map { Double($0) } == expected, "\(rows) × \(columns), Float")
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

    /// The kernel choice follows the documented rule: AutoGrad's own for every product on the AVX-512 level where
    /// OpenBLAS runs AVX2 kernels, for the unpacked ones otherwise, none with `AUTOGRAD_KEEP_BLAS_CORE`.
    static func routeFollowsTheLevelAndOpenBLASKernels() {
        let core = BLAS.coreName, name = BLAS.floatProductKernels
        switch BLAS.floatProductRoute {
        case .own:
            #expect(InstructionSet.active == .avx512 && ["Haswell", "Zen", "Sandybridge", "Prescott", "Nehalem"].contains(core))
            #expect(name == "AutoGrad avx512")
            #expect(BLAS.runsOwnFloatKernel(transposeA: false, transposeB: false, m: 2048, n: 2048, k: 2048))
        case .ownUnpacked:
            #expect(name == "AutoGrad \(InstructionSet.active) (small, weight-gradient) + OpenBLAS \(core)")
            #expect(BLAS.runsOwnFloatKernel(transposeA: false, transposeB: false, m: 6, n: 896, k: 75))
            #expect(BLAS.runsOwnFloatKernel(transposeA: false, transposeB: true, m: 16, n: 150, k: 640))
            #expect(!BLAS.runsOwnFloatKernel(transposeA: false, transposeB: false, m: 2048, n: 2048, k: 2048))
        case .openBLAS:
            #expect(name == "OpenBLAS \(core)")
            #expect(!BLAS.runsOwnFloatKernel(transposeA: false, transposeB: false, m: 6, n: 896, k: 75))
        }
    }
}
