import Foundation
import AutoGradTestSupport
import Testing
@testable import AutoGrad

// Scaled dot-product attention: finite-difference checks (first and second order) with masks, causality,
// broadcast heads, Tq ≠ Tk and single positions; fully masked rows pinned; the blockwise and materialised routes
// against each other across block edges; dropout; and forward and gradients against PyTorch.

/// Small blocks, so that test-sized problems cross several query and key block edges.
private let smallBlocks = AttentionRoute.blockwise(queries: 2, keys: 3)

/// The attention op on `x = [q, k, v]` with a forced route and its own generator (same seed, same dropout mask).
private func attention(_ x: [Variable], mask: AttentionMask? = nil, causal: Bool = false, dropout: Double = 0,
                       scale: Double? = nil, route: AttentionRoute = smallBlocks, seed: UInt64 = 7) -> Variable {
    ScaledDotProductAttention(mask: mask, isCausal: causal, dropoutProbability: dropout, scale: scale,
                              generator: RandomGenerator(seed: seed), route: route)(x[0], x[1], x[2])
}

/// q, k, v of the given shapes, scaled so the weights are far from uniform.
private func operands(_ q: [Int], _ k: [Int], _ v: [Int], seed: UInt64) -> [Tensor] {
    [sample(q, seed: seed) * 2, sample(k, seed: seed + 1) * 2, sample(v, seed: seed + 2)]
}

/// 0/1 tensor from a pattern string ("1" may attend) of `shape`.
private func pattern(_ shape: [Int], _ bits: String) -> Tensor {
    Tensor(shape: shape, scalars: bits.filter { $0 == "0" || $0 == "1" }.map { $0 == "1" ? 1.0 : 0.0 }, dtype: .float64)
}

@Suite struct AttentionGradientTests {
    @Test func gradientsMatchFiniteDifferences() {
        let allowed = pattern([3, 5], "11010 01111 10001")
        let additive = sample([2, 1, 5], seed: 40) * 3
        let cases: [(String, [Tensor], AttentionMask?, Bool)] = [
            ("plain", operands([2, 3, 4], [2, 5, 4], [2, 5, 3], seed: 1), nil, false),
            ("broadcast heads", operands([2, 3, 4, 4], [2, 1, 5, 4], [1, 3, 5, 2], seed: 4), nil, false),
            ("causal, Tq > Tk", operands([2, 6, 3], [2, 4, 3], [2, 4, 2], seed: 7), nil, true),
            ("causal, Tq < Tk", operands([1, 3, 3], [1, 7, 3], [1, 7, 2], seed: 10), nil, true),
            ("boolean mask", operands([2, 3, 4], [2, 5, 4], [2, 5, 3], seed: 13), .allowed(allowed), false),
            ("additive mask over queries", operands([2, 3, 4], [2, 5, 4], [2, 5, 3], seed: 16), .additive(additive), false),
            ("T = 1", operands([2, 1, 4], [2, 1, 4], [2, 1, 3], seed: 19), nil, false),
            ("T = 1, causal", operands([1, 1, 2], [1, 1, 2], [1, 1, 1], seed: 22), nil, true),
            ("one key per query", operands([4, 2], [1, 2], [1, 3], seed: 25), nil, false),
            // Value rows of 45 = 32 + 8 + 5: the backward's row dot products (g·o) take every lane loop and the tail.
            ("wide value rows", operands([1, 3, 4], [1, 4, 4], [1, 4, 45], seed: 28), nil, false),
        ]
        for (label, inputs, mask, causal) in cases {
            for route in [AttentionRoute.materialized, smallBlocks] {
                expectGradients("attention, \(label), \(route)", inputs, secondOrder: route == smallBlocks) {
                    attention($0, mask: mask, causal: causal, route: route)
                }
            }
        }
        expectGradients("attention with scale 0.3", operands([2, 3, 4], [2, 5, 4], [2, 5, 3], seed: 30)) {
            attention($0, scale: 0.3)
        }
    }

    /// With the same generator seed every evaluation drops the same weights, so dropout's gradient can be checked.
    @Test func dropoutGradientsMatchFiniteDifferences() {
        let inputs = operands([2, 4, 3], [2, 5, 3], [2, 5, 2], seed: 50)
        expectGradients("attention with dropout", inputs, secondOrder: true) { attention($0, dropout: 0.4) }
        expectGradients("causal attention with dropout", inputs, secondOrder: true) { attention($0, causal: true, dropout: 0.4) }
    }

    @Test func emptyShapesGiveEmptyOrZeroResults() {
        let none = attention(operands([2, 0, 3], [2, 4, 3], [2, 4, 2], seed: 60).map { Variable($0) })
        #expect(none.shape == [2, 0, 2])
        // No keys: every row is fully masked, so zeros (torch gives zeros too: an empty sum).
        let inputs = operands([2, 3, 3], [2, 0, 3], [2, 0, 2], seed: 61)
        #expect(mismatch(attention(inputs.map { Variable($0) }).value, Tensor.zeros([2, 3, 2], dtype: .float64), atol: 0, rtol: 0) == nil)
        let g = gradients(inputs) { attention($0) }
        #expect(g[0].doubles.allSatisfy { $0 == 0 } && g[0].shape == [2, 3, 3] && g[1].shape == [2, 0, 3])
        let batchless = attention(operands([0, 3, 3], [0, 4, 3], [0, 4, 2], seed: 62).map { Variable($0) })
        #expect(batchless.shape == [0, 3, 2])
    }
}

@Suite struct AttentionMaskTests {
    /// A row with every key masked gives 0 and passes no gradient, by mask form and by route, as torch 2.13 does.
    @Test func fullyMaskedRowsAreZeroWithZeroGradients() {
        let inputs = operands([1, 3, 4], [1, 5, 4], [1, 5, 2], seed: 70)
        let allowed = pattern([3, 5], "10110 00000 11111")
        var additive = Tensor.zeros([3, 5], dtype: .float64)
        additive = Tensor.where(allowed, additive, Tensor(-Double.infinity))
        for mask in [AttentionMask.allowed(allowed), .blocked(1 - allowed), .additive(additive)] {
            for route in [AttentionRoute.materialized, smallBlocks] {
                let xs = inputs.map { Variable($0, requiresGrad: true) }
                let y = attention(xs, mask: mask, route: route)
                #expect(Array(y.value.doubles[2..<4]) == [0, 0], "\(mask) \(route)")
                #expect(!y.value.doubles.contains { $0.isNaN })
                let g = Graph.gradients(of: y, withRespectTo: xs, seed: Tensor.ones([1, 3, 2], dtype: .float64))
                #expect(Array(g[0].value.doubles[4..<8]) == [0, 0, 0, 0], "\(mask) \(route)")
                #expect(g.allSatisfy { !$0.value.doubles.contains { $0.isNaN } })
                // The recorded (differentiable) backward agrees.
                let second = Graph.gradients(of: attention(xs, mask: mask, route: route).sum(), withRespectTo: [xs[0]],
                                             createGraph: true)[0]
                #expect(Array(second.value.doubles[4..<8]) == [0, 0, 0, 0], "recorded backward, \(mask) \(route)")
            }
        }
    }

    @Test func maskFormsAgree() {
        let inputs = operands([2, 3, 4], [2, 5, 4], [2, 5, 3], seed: 80).map { Variable($0) }
        let allowed = pattern([3, 5], "11010 01111 10001")
        let reference = attention(inputs, mask: .additive(Tensor.where(allowed, Tensor(0.0), Tensor(-Double.infinity))))
        #expect(mismatch(attention(inputs, mask: .allowed(allowed)).value, reference.value, atol: 0, rtol: 0) == nil)
        #expect(mismatch(attention(inputs, mask: .blocked(1 - allowed)).value, reference.value, atol: 0, rtol: 0) == nil)
        // Causality equals the lower-triangular boolean mask.
        let lower = Tensor(shape: [3, 5], scalars: (0..<15).map { $0 % 5 <= $0 / 5 ? 1.0 : 0 }, dtype: .float64)
        #expect(mismatch(attention(inputs, causal: true).value, attention(inputs, mask: .allowed(lower)).value,
                         atol: 1e-15, rtol: 0) == nil)
    }
}

@Suite struct AttentionRouteTests {
    /// The blockwise route (several block sizes, edges inside and at the problem's end) gives the materialised
    /// route's values and gradients, in Double and in Float.
    @Test func routesAgreeAcrossBlockEdges() {
        let routes: [AttentionRoute] = [.blockwise(queries: 1, keys: 1), .blockwise(queries: 2, keys: 3), .blockwise(queries: 4, keys: 4),
                                        .blockwise(queries: 64, keys: 128)]
        let allowed = Tensor.uniform([2, 1, 9, 11], dtype: .float64, generator: RandomGenerator(seed: 90)) .> 0.3
        let cases: [([Tensor], AttentionMask?, Bool)] = [
            (operands([2, 3, 9, 5], [2, 3, 11, 5], [2, 3, 11, 4], seed: 91), nil, false),
            (operands([2, 3, 9, 5], [2, 3, 11, 5], [2, 3, 11, 4], seed: 94), .allowed(allowed), false),
            (operands([2, 3, 9, 5], [2, 1, 11, 5], [2, 1, 11, 4], seed: 97), nil, true),
            (operands([1, 13, 5], [1, 7, 5], [1, 7, 6], seed: 100), nil, true),
        ]
        for (inputs, mask, causal) in cases {
            let seed = sample(Graph.noGrad { attention(inputs.map { Variable($0) }, mask: mask, causal: causal) }.shape, seed: 5)
            for dtype in [DType.float64, .float32] {
                let tolerance = dtype == .float64 ? 1e-13 : 1e-5
                let converted = inputs.map { $0.to(dtype) }
                func run(_ route: AttentionRoute) -> [Tensor] {
                    let xs = converted.map { Variable($0, requiresGrad: true) }
                    let y = attention(xs, mask: mask, causal: causal, dropout: 0.25, route: route)
                    return [y.value] + Graph.gradients(of: y, withRespectTo: xs, seed: seed.to(dtype)).map(\.value)
                }
                let reference = run(.materialized)
                for route in routes {
                    for (i, (a, b)) in zip(run(route), reference).enumerated() {
                        #expect(a.dtype == dtype)
                        if let m = mismatch(a, b, atol: tolerance, rtol: tolerance) {
                            Issue.record("\(route) vs materialised, \(dtype), result \(i), shapes \(inputs.map(\.shape)): \(m)")
                        }
                    }
                }
            }
        }
    }

    @Test func routeChoiceIsMadeBySize() {
        #expect(AttentionRoute.choose(queries: 64, keys: 64) == .materialized)
        #expect(AttentionRoute.choose(queries: 64, keys: 64, isCausal: true) == .blockwise(queries: AttentionRoute.causalQueries, keys: 64))
        #expect(AttentionRoute.choose(queries: AttentionRoute.causalQueries, keys: 64, isCausal: true) == .materialized)
        if case .blockwise = AttentionRoute.choose(queries: 1024, keys: 1024) {} else { Issue.record("T = 1024 should be blockwise") }
        #expect(AttentionRoute.blockwise(queries: 64, keys: 128).blocks(tq: 10, tk: 300) == (10, 128))
        #expect(AttentionRoute.materialized.blocks(tq: 0, tk: 0) == (1, 1))
    }
}

@Suite struct AttentionDropoutTests {
    @Test func zeroProbabilityIsExactlyNoDropout() {
        let xs = operands([2, 5, 4], [2, 6, 4], [2, 6, 3], seed: 110).map { Variable($0) }
        let plain = Variable.scaledDotProductAttention(query: xs[0], key: xs[1], value: xs[2])
        let zero = Variable.scaledDotProductAttention(query: xs[0], key: xs[1], value: xs[2], dropoutProbability: 0,
                                                      generator: RandomGenerator(seed: 3))
        #expect(plain.value == zero.value)
        let all = attention(xs, dropout: 1)
        #expect(all.value.doubles.allSatisfy { $0 == 0 })
    }

    /// With q = 0 every weight is `1/Tk`, and with v = I the output is the weights after dropout: a fraction `p` of
    /// zeros, the rest `1/(Tk·(1 − p))`. The value gradient uses the same dropped weights: `∂v = outputᵀ·g`.
    @Test func dropsTheRightFractionAndReusesTheMaskInBackward() {
        let (tq, tk, p) = (64, 50, 0.3)
        let q = Tensor.zeros([4, tq, 8], dtype: .float64), k = sample([4, tk, 8], seed: 120), v = Tensor.eye(tk, dtype: .float64)
        for route in [AttentionRoute.materialized, smallBlocks] {
            let xs = [Variable(q), Variable(k), Variable(v.broadcast(to: [4, tk, tk]), requiresGrad: true)]
            let y = attention(xs, dropout: p, route: route, seed: 11)
            let values = y.value.doubles
            let zeros = Double(values.filter { $0 == 0 }.count) / Double(values.count)
            #expect(Swift.abs(zeros - p) < 0.02, "fraction dropped \(zeros), route \(route)")
            let kept = 1 / (Double(tk) * (1 - p))
            #expect(values.allSatisfy { $0 == 0 || Swift.abs($0 - kept) < 1e-12 })
            let g = sample(y.shape, seed: 121)
            let gv = Graph.gradients(of: y, withRespectTo: [xs[2]], seed: g)[0].value
            #expect(mismatch(gv, Tensor.matmul(y.value, g, transposeA: true), atol: 1e-14, rtol: 1e-12) == nil)
        }
        // Another seed drops other weights.
        let xs = [Variable(q), Variable(k), Variable(v)]
        #expect(attention(xs, dropout: p, seed: 11).value != attention(xs, dropout: p, seed: 12).value)
    }
}

@Suite(.enabled(if: TorchReference.isAvailable, TorchReference.skipReason))
struct AttentionTorchTests {
    @Test func matchesTorch() throws {
        let sdpa = "torch.nn.functional.scaled_dot_product_attention"
        let allowed = pattern([3, 5], "11010 00000 10001")
        let additive = sample([2, 1, 1, 5], seed: 130) * 2
        let big = operands([2, 2, 70, 8], [2, 2, 150, 8], [2, 2, 150, 5], seed: 131)
        try compareWithTorch([
            TorchComparison("\(sdpa)(x[0], x[1], x[2])", operands([2, 3, 4], [2, 5, 4], [2, 5, 3], seed: 132), seed: 133) {
                Variable.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2])
            },
            TorchComparison("\(sdpa)(x[0], x[1], x[2], attn_mask=c[0] > 0)", operands([2, 3, 4], [2, 5, 4], [2, 5, 3], seed: 134),
                            constants: [allowed], seed: 135) {
                Variable.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], attentionMask: .allowed(allowed))
            },
            TorchComparison("\(sdpa)(x[0], x[1], x[2], attn_mask=c[0])", operands([2, 3, 4, 4], [2, 3, 5, 4], [2, 3, 5, 3], seed: 136),
                            constants: [additive], seed: 137) {
                Variable.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], attentionMask: .additive(additive))
            },
            TorchComparison("\(sdpa)(x[0], x[1], x[2], is_causal=True)", operands([2, 6, 3], [2, 4, 3], [2, 4, 2], seed: 138), seed: 139) {
                Variable.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], isCausal: true)
            },
            TorchComparison("\(sdpa)(x[0], x[1], x[2], is_causal=True, scale=0.7)", big, seed: 140) {
                Variable.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], isCausal: true, scale: 0.7)
            },
            TorchComparison("\(sdpa)(x[0], x[1], x[2])", big, seed: 141) {
                attention($0, route: .blockwise(queries: 16, keys: 32))
            },
        ])
    }
}
