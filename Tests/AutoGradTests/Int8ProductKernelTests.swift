import CKernels
import Testing
@testable import AutoGrad

/// CKernels' `ck_gemm_u8s8s32` against a plain integer loop, bit for bit, at the calling thread's level (the level
/// suites in KernelLevelTests run it at every level this CPU has). Sizes cross every vector step (16 bytes with
/// AVX2, 32 with AVX-512, 64 with VNNI) and block edge (2 rows × 4 outputs), and every depth of the outer-product
/// route (k ≤ 16 with AVX2 and AVX-512: blocks of 32 or 64 outputs, registers of 8 or 16); the extreme bytes catch a
/// kernel that saturates 16-bit pair sums, as vpmaddubsw would (255·127 + 255·127 > 32767).
enum Int8ProductKernelTests {
    static func reference(m: Int, n: Int, k: Int, a: [UInt8], lda: Int, b: [Int8], ldb: Int) -> [Int32] {
        var c = [Int32](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0
                for p in 0..<k { sum += Int(a[i * lda + p]) * Int(b[j * ldb + p]) }
                c[i * n + j] = Int32(sum)
            }
        }
        return c
    }

    /// The two entry points: any bytes of A, and A below 128.
    enum Kernel: String { case u8 = "ck_gemm_u8s8s32", u7 = "ck_gemm_u7s8s32" }

    /// The kernel's sums of `m × n × k` with operands padded past their rows (which it must not read into the result),
    /// and the plain loop's.
    static func sums(_ kernel: Kernel, m: Int, n: Int, k: Int, a: [UInt8], b: [Int8]) -> (got: [Int32], expected: [Int32]) {
        let lda = k + 3, ldb = k + 5
        var paddedA = [UInt8](repeating: kernel == .u8 ? 255 : 127, count: m * lda), paddedB = [Int8](repeating: 127, count: n * ldb)
        for i in 0..<m { for p in 0..<k { paddedA[i * lda + p] = a[i * k + p] } }
        for j in 0..<n { for p in 0..<k { paddedB[j * ldb + p] = b[j * k + p] } }
        var c = [Int32](repeating: .min, count: m * n)
        switch kernel {
        case .u8: ck_gemm_u8s8s32(m, n, k, paddedA, lda, paddedB, ldb, &c, n)
        case .u7: ck_gemm_u7s8s32(m, n, k, paddedA, lda, paddedB, ldb, &c, n)
        }
        return (c, reference(m: m, n: n, k: k, a: paddedA, lda: lda, b: paddedB, ldb: ldb))
    }

    static func check(_ kernel: Kernel = .u8, m: Int, n: Int, k: Int, a: [UInt8], b: [Int8], label: String) {
        let (c, expected) = sums(kernel, m: m, n: n, k: k, a: a, b: b)
        #expect(c == expected, "\(kernel.rawValue), \(label): m \(m), n \(n), k \(k) at \(InstructionSet.active): first difference at \(zip(c, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? -1)")
    }

    /// ck_gemm_u7s8s32 on the shapes of the 8-bit sweep with A below 128: random bytes and the extremes. Where it
    /// multiplies the bytes as they are (vpmaddubsw: AVX2, and AVX-512 without VNNI), bytes of 255 saturate its pair
    /// sums, and the checker sees it: the contract is A < 128.
    static func sevenBitProductsMatchTheIntegerLoop() {
        let generator = RandomGenerator(seed: 12)
        for (m, n, k) in shapes {
            let a = Tensor.uniform([m * k], low: 0, high: 128, generator: generator).floats.map { UInt8(Swift.min(127, $0)) }
            let b = Tensor.uniform([n * k], low: -128, high: 128, generator: generator).floats.map { Int8(Swift.max(-128, Swift.min(127, $0.rounded(.down)))) }
            check(.u7, m: m, n: n, k: k, a: a, b: b, label: "random")
            for (x, w) in [(UInt8(127), Int8(-128)), (127, 127), (0, -128), (127, 0)] {
                check(.u7, m: m, n: n, k: k, a: [UInt8](repeating: x, count: m * k), b: [Int8](repeating: w, count: n * k),
                      label: "a \(x), b \(w)")
            }
        }
        let multipliesBytes = InstructionSet.active == .avx2 || (InstructionSet.active == .avx512 && !InstructionSet.vnniActive)
        let (got, expected) = sums(.u7, m: 2, n: 4, k: 64, a: [UInt8](repeating: 255, count: 128), b: [Int8](repeating: 127, count: 256))
        #expect((got != expected) == multipliesBytes, "bytes of 255 through ck_gemm_u7s8s32 at \(InstructionSet.active)")
    }

    /// Depths up to 16 with up to 70 outputs cross the outer-product route's blocks (32 outputs with AVX2, 64 with
    /// AVX-512); every depth 1...16 with 81 outputs (a full AVX-512 block, then one of 17: two registers, the second
    /// with one lane stored) and 47 (three registers, the last part-stored), so each step count and each tail of
    /// the four bytes vpdpbusd or the two vpmaddwd take at a time is exercised; rows 1…7 cross the 3-row tiles.
    static let shapes = [(1, 1, 1), (1, 1, 15), (1, 4, 16), (2, 4, 17), (3, 5, 31), (2, 1, 33), (5, 9, 63), (4, 8, 64),
                         (3, 7, 65), (2, 3, 100), (1, 128, 300), (7, 6, 129), (5, 32, 9), (3, 33, 16), (4, 70, 10), (2, 7, 3),
                         (6, 64, 8), (6, 5, 191)] + (1...16).flatMap { [(3, 81, $0), (2, 47, $0)] }

    static func productsMatchTheIntegerLoop() {
        let generator = RandomGenerator(seed: 11)
        for (m, n, k) in shapes {
            let a = Tensor.uniform([m * k], low: 0, high: 256, generator: generator).floats.map { UInt8(Swift.min(255, $0)) }
            let b = Tensor.uniform([n * k], low: -128, high: 128, generator: generator).floats.map { Int8(Swift.max(-128, Swift.min(127, $0.rounded(.down)))) }
            check(m: m, n: n, k: k, a: a, b: b, label: "random")
            // The extremes: every pair sum of the widest magnitude, both signs, and zeros.
            for (x, w) in [(UInt8(255), Int8(-128)), (255, 127), (128, -128), (0, -128), (255, 0)] {
                check(m: m, n: n, k: k, a: [UInt8](repeating: x, count: m * k), b: [Int8](repeating: w, count: n * k),
                      label: "a \(x), b \(w)")
            }
            // Alternating extremes, so neighbouring lanes and pairs differ in sign.
            let alternatingA = (0..<(m * k)).map { $0 % 3 == 0 ? UInt8(0) : UInt8(255) }
            let alternatingB = (0..<(n * k)).map { $0 % 2 == 0 ? Int8(-128) : Int8(127) }
            check(m: m, n: n, k: k, a: alternatingA, b: alternatingB, label: "alternating")
        }
    }
}
