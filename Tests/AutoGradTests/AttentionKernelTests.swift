import CKernels
import Foundation
import AutoGradTestSupport
import Testing
@testable import AutoGrad

// CKernels' attention rows behind the Float attention op (ck_attention_softmax_step_f32, ck_attention_exp_rows_f32):
// the exponential against libm, the running softmax's edge cases pinned, and whole Float attention calls (every
// route, with masks, causality, fully hidden rows and widths that are not a multiple of the vector width) against
// the Double op, whose rows run in Swift. KernelLevelTests runs these at every instruction-set level.

@Suite struct AttentionKernelTests {
    @Test func atTheProcessLevel() {
        Self.exponentialsMatchLibm()
        Self.softmaxStepKeepsTheRunningState()
        Self.aNaNScoreMakesOnlyItsRowNaN()
        Self.floatAttentionMatchesDouble()
    }

    /// `exp(x − shift)` (the shift at least the row's maximum, so every argument at most 0) within 1 ulp of libm's
    /// (rounded from Double) down to Float's normal range; below it (x < −87.3365) 0, or at the AVX-512 level, whose
    /// whole 64-lane steps scale with vscalefps, libm's subnormal within one subnormal step; −∞ gives 0, a row with
    /// shift −∞ gives zeros, and NaN stays NaN.
    static func exponentialsMatchLibm() {
        var xs: [Float] = stride(from: -104.0, through: 0, by: 0.0173).map { Float($0) }
            + [0, -0.0, -1e-8, -87.336548, -87.33654, -87.3365, -150, -Float.infinity, .nan]
        let original = xs, n = xs.count
        var shift: [Float] = [0]
        ck_attention_exp_rows_f32(&xs, 1, n, &shift)
        for (x, y) in zip(original, xs) {
            if x.isNaN {
                #expect(y.isNaN, "exp(NaN) = \(y)")
                continue
            }
            if x < -87.336548 {
                let expected = Float(Foundation.exp(Double(x)))
                #expect(y == 0 || InstructionSet.active == .avx512 && Swift.abs(y - expected) <= Float.leastNonzeroMagnitude,
                        "exp(\(x)) = \(y), below the normal range (libm \(expected)) at level \(InstructionSet.active)")
                continue
            }
            let expected = Float(Foundation.exp(Double(x)))
            #expect(Swift.abs(y - expected) <= expected.ulp, "exp(\(x)) = \(y), libm \(expected)")
        }
        var row: [Float] = [1, 2, 3]
        shift = [-.infinity]
        ck_attention_exp_rows_f32(&row, 1, 3, &shift)
        #expect(row == [0, 0, 0])
        // A second row, shifted: rows are `width` apart.
        var rows: [Float] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]
        var shifts: [Float] = [6, 13]
        ck_attention_exp_rows_f32(&rows, 2, 7, &shifts)
        let e6 = Float(Foundation.exp(-6.0))
        #expect(rows[6] == 1 && rows[13] == 1 && Swift.abs(rows[0] - e6) <= e6.ulp && Swift.abs(rows[7] - e6) <= e6.ulp)
    }

    /// Two key blocks of the running softmax: the maximum and sum carry over, the correction rescales the first
    /// block (0 for a row's first visible block: nothing came before), a row hidden so far stays empty (weights 0,
    /// correction 1) until a visible key arrives.
    static func softmaxStepKeepsTheRunningState() {
        let width = 11
        var rowMax: [Float] = [-.infinity, -.infinity], rowSum: [Float] = [0, 0], correction: [Float] = [0, 0]
        let first: [Float] = (0..<width).map { Float($0) / 4 } + [Float](repeating: -.infinity, count: width)
        var block = first
        ck_attention_softmax_step_f32(&block, 2, width, &rowMax, &rowSum, &correction)
        #expect(rowMax == [2.5, -.infinity] && correction == [0, 1])
        #expect(block[width...].allSatisfy { $0 == 0 } && rowSum[1] == 0)
        let firstSum = (0..<width).map { Foundation.exp(Double($0) / 4 - 2.5) }.reduce(0, +)
        #expect(Swift.abs(Double(rowSum[0]) - firstSum) <= 1e-6 * firstSum)
        let second: [Float] = (0..<width).map { Float($0) / 2 } + (0..<width).map { Float($0) }
        block = second
        ck_attention_softmax_step_f32(&block, 2, width, &rowMax, &rowSum, &correction)
        #expect(rowMax == [5, 10] && correction[1] == 0)
        #expect(Swift.abs(Double(correction[0]) - Foundation.exp(-2.5)) <= 1e-7)
        let total = (0..<width).map { Foundation.exp(Double($0) / 4 - 5) + Foundation.exp(Double($0) / 2 - 5) }.reduce(0, +)
        #expect(Swift.abs(Double(rowSum[0]) - total) <= 1e-6 * total)
        #expect(Swift.abs(Double(block[width + 3]) - Foundation.exp(-7.0)) <= 1e-6 * Foundation.exp(-7.0))
    }

    /// A NaN score makes its row's sum NaN (so its weights and output), wherever it is in the row, and no other row's;
    /// nine rows of 70 cover a group of eight rows and one more, a whole 64-lane step and a tail.
    static func aNaNScoreMakesOnlyItsRowNaN() {
        let rows = 9, width = 70
        for (nanRow, nanColumn) in [(0, 0), (3, 37), (8, 69), (7, 64)] {
            var block = (0..<(rows * width)).map { Float(($0 * 7) % 23) / 5 - 2 }
            block[nanRow * width + nanColumn] = .nan
            var rowMax = [Float](repeating: -.infinity, count: rows), rowSum = [Float](repeating: 0, count: rows)
            var correction = [Float](repeating: 0, count: rows)
            ck_attention_softmax_step_f32(&block, rows, width, &rowMax, &rowSum, &correction)
            for r in 0..<rows {
                if r == nanRow {
                    #expect(rowSum[r].isNaN, "row \(r) with a NaN at \(nanColumn): sum \(rowSum[r]) at level \(InstructionSet.active)")
                } else {
                    #expect(rowSum[r].isFinite && rowMax[r].isFinite && block[(r * width)..<((r + 1) * width)].allSatisfy(\.isFinite),
                            "row \(r), NaN in row \(nanRow): sum \(rowSum[r]) at level \(InstructionSet.active)")
                }
            }
        }
    }

    /// Float attention (CKernels' rows) against Double attention (Swift's rows) on the same inputs, forward and
    /// gradients, on every route.
    static func floatAttentionMatchesDouble() {
        let hidden = Tensor(shape: [1, 7, 19], scalars: (0..<(7 * 19)).map { $0 / 19 == 2 || $0 % 5 == 0 ? 0.0 : 1.0 }, dtype: .float64)
        let cases: [(q: [Int], k: [Int], v: [Int], mask: AttentionMask?, causal: Bool, dropout: Double)] = [
            ([2, 3, 7, 5], [2, 3, 19, 5], [2, 3, 19, 3], .allowed(hidden), false, 0),
            ([3, 37, 8], [3, 37, 8], [3, 37, 6], nil, true, 0),
            ([2, 70, 4], [2, 40, 4], [2, 40, 9], nil, false, 0),
            // Rows of scores wider than the kernels' whole steps (64 lanes at AVX-512, 32 below), with a tail.
            ([1, 6, 8], [1, 139, 8], [1, 139, 5], nil, false, 0),
            // Dropout: the same generator seed draws the same multipliers for either element type.
            ([2, 9, 6], [2, 75, 6], [2, 75, 4], nil, false, 0.3),
        ]
        for (index, c) in cases.enumerated() {
            let seed = UInt64(200 + 10 * index)
            let inputs = [sample(c.q, seed: seed) * 2, sample(c.k, seed: seed + 1) * 2, sample(c.v, seed: seed + 2)]
            let outputSeed = sample(Array(c.q.dropLast()) + [c.v.last!], seed: seed + 3)
            for route in [AttentionRoute.materialized, .blockwise(queries: 4, keys: 9), .blockwise(queries: 32, keys: 1 << 20)] {
                func run(_ dtype: DType) -> [Tensor] {
                    let xs = inputs.map { Variable($0.to(dtype), requiresGrad: true) }
                    let op = ScaledDotProductAttention(mask: c.mask, isCausal: c.causal, dropoutProbability: c.dropout, scale: nil,
                                                       generator: RandomGenerator(seed: 1), route: route)
                    let y = op(xs[0], xs[1], xs[2])
                    return [y.value] + Graph.gradients(of: y, withRespectTo: xs, seed: outputSeed.to(dtype)).map(\.value)
                }
                for (i, (a, b)) in zip(run(.float32), run(.float64)).enumerated() {
                    if let m = mismatch(a, b, atol: 2e-5, rtol: 2e-5) {
                        Issue.record("case \(index), \(route), result \(i): \(m) at level \(InstructionSet.active)")
                    }
                }
            }
        }
    }
}
