import Foundation
import AutoGradTestSupport
import Testing
@testable import AutoGrad

// Vector norms (every order, PyTorch's gradients at the kinks pinned exactly) and the pseudo-inverse (full-rank
// gradients, rank-deficient values, tolerances), each against finite differences and PyTorch.

@Suite struct VectorNormTests {
    @Test func gradientsMatchFiniteDifferences() {
        let cases: [(shape: [Int], axes: [Int]?, keep: Bool)] = [([4, 5], nil, false), ([4, 5], [1], false), ([4, 5], [0], true),
                                                                 ([2, 3, 4], [0, 2], false), ([2, 3, 4], [-1], true), ([], nil, false),
                                                                 ([5], [0], false), ([0, 3], [1], false)]
        for (i, c) in cases.enumerated() {
            let x = sample(c.shape, .nonzero, seed: 1700 + UInt64(i))
            for p in [2.0, 1, 3, 1.5, 0.5, 4] {
                expectGradients("norm(p: \(p), axes: \(String(describing: c.axes)))", [x], secondOrder: true) {
                    $0[0].norm(p: p, axes: c.axes, keepDims: c.keep)
                }
            }
            guard !c.shape.contains(0) else { continue }
            let distinct = sample(c.shape, .distinct, seed: 1750 + UInt64(i)) + Tensor(0.9) // positive and distinct: no ties in |x|
            for p in [Double.infinity, -Double.infinity, 0] {
                expectGradients("norm(p: \(p), axes: \(String(describing: c.axes)))", [distinct], secondOrder: true) {
                    $0[0].norm(p: p, axes: c.axes, keepDims: c.keep)
                }
            }
        }
        expectGradients("norm of a broadcast product", [sample([4, 1], .nonzero, seed: 1780), sample([1, 5], .nonzero, seed: 1781)],
                        secondOrder: true) { ($0[0] * $0[1]).norm(axes: [1]) }
    }

    @Test func valuesOfEveryOrder() {
        let x = Tensor(shape: [2, 3], scalars: [3, -4, 0, 1, -2, 2])
        #expect(mismatch(x.norm(axes: [1]), shape: [2], [5, 3]) == nil)
        #expect(mismatch(x.norm(p: 1, axes: [1]), shape: [2], [7, 5], atol: 0, rtol: 0) == nil)
        #expect(mismatch(x.norm(p: .infinity, axes: [1]), shape: [2], [4, 2], atol: 0, rtol: 0) == nil)
        #expect(mismatch(x.norm(p: -.infinity, axes: [1]), shape: [2], [0, 1], atol: 0, rtol: 0) == nil)
        #expect(mismatch(x.norm(p: 0, axes: [1]), shape: [2], [2, 3], atol: 0, rtol: 0) == nil)
        #expect(mismatch(x.norm(p: 3, axes: [1], keepDims: true), shape: [2, 1], [Foundation.pow(91, 1.0 / 3), Foundation.pow(17, 1.0 / 3)]) == nil)
        #expect(mismatch(x.norm(), shape: [], [Foundation.sqrt(34)]) == nil)
        #expect(x.to(.float32).norm().dtype == .float32)
    }

    /// PyTorch's gradients where the norm is not differentiable: all exact.
    @Test func kinksArePinned() {
        let zero = Tensor.zeros([3], dtype: .float64)
        for p in [2.0, 1, 3, 1.5, 0.5, .infinity, -.infinity, 0] as [Double] {
            let g = gradients([zero]) { $0[0].norm(p: p) }
            #expect(mismatch(g[0], shape: [3], [0, 0, 0], atol: 0, rtol: 0) == nil, "p \(p) at the zero vector")
        }
        // A zero element of a non-zero vector: p = 1 gives sgn(0) = 0; p < 1 masks it; p = 2 gives x/‖x‖ = 0.
        let x = Tensor([3.0, 0, -4])
        #expect(gradients([x]) { $0[0].norm(p: 1) }[0].doubles == [1, 0, -1])
        #expect(gradients([x]) { $0[0].norm(p: 0.5) }[0].doubles[1] == 0)
        #expect(mismatch(gradients([x]) { $0[0].norm() }[0], shape: [3], [0.6, 0, -0.8], atol: 0, rtol: 1e-15) == nil)
        // ∞-norm: tied largest magnitudes split the gradient, with their signs.
        let ties = Tensor([2.0, -2, 1])
        #expect(gradients([ties]) { $0[0].norm(p: .infinity) }[0].doubles == [0.5, -0.5, 0])
        #expect(gradients([ties]) { $0[0].norm(p: -.infinity) }[0].doubles == [0, 0, 1])
        #expect(gradients([ties]) { $0[0].norm(p: 0) }[0].doubles == [0, 0, 0])
    }

    @Test func badArgumentsTrapNamingNorm() async {
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).norm(p: .nan)
        }, mentions: ["norm", "NaN"])
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Variable(Tensor.zeros([2, 3])).norm(axes: [2])
        }, mentions: ["norm", "axis 2"])
    }

    @Test(.enabled(if: TorchReference.isAvailable, TorchReference.skipReason))
    func matchesTorch() throws {
        var x = sample([3, 4], .nonzero, seed: 1790).doubles
        for j in 0..<4 { x[4 + j] = 0 }   // a zero row: the kink at a zero norm
        x[1] = 0                          // a zero element in a non-zero row
        x[10] = -x[11]                    // tied magnitudes
        let t = Tensor(shape: [3, 4], scalars: x)
        var comparisons: [TorchComparison] = []
        for (i, p) in ([2.0, 1, 3, 1.5, 0.5, .infinity, -.infinity, 0] as [Double]).enumerated() {
            let ord = p.isInfinite ? (p > 0 ? "float('inf')" : "float('-inf')") : "\(p)"
            comparisons.append(TorchComparison("torch.linalg.vector_norm(x[0], \(ord), dim=1)", [t], seed: 1800 + UInt64(i)) {
                $0[0].norm(p: p, axes: [1])
            })
            comparisons.append(TorchComparison("torch.linalg.vector_norm(x[0], \(ord), dim=(0, 1), keepdim=True)", [t], seed: 1810 + UInt64(i)) {
                $0[0].norm(p: p, axes: [0, 1], keepDims: true)
            })
        }
        try compareWithTorch(comparisons)
    }
}

private func mm(_ a: Tensor, _ b: Tensor) -> Tensor { Tensor.matmul(a, b) }

@Suite struct PseudoInverseTests {
    @Test func gradientsMatchFiniteDifferencesForFullRank() {
        for (i, shape) in [[3, 3], [4, 2], [2, 4], [2, 3, 2], [1, 1]].enumerated() {
            expectGradients("pinv of \(shape)", [sample(shape, seed: 1900 + UInt64(i))], secondOrder: i < 2) { try! $0[0].pinv() }
        }
    }

    /// A rank-1 matrix: the Moore–Penrose conditions hold and tolerances cut small singular values.
    @Test func rankDeficientValuesSatisfyThePenroseConditions() throws {
        let u = Tensor(shape: [3, 1], scalars: [1.0, 2, -1]), v = Tensor(shape: [1, 4], scalars: [0.5, -1, 2, 1])
        let a = mm(u, v)
        let p = try a.pinv()
        #expect(p.shape == [4, 3])
        #expect(mismatch(mm(mm(a, p), a), a, atol: 1e-12) == nil)
        #expect(mismatch(mm(mm(p, a), p), p, atol: 1e-12) == nil)
        let ap = mm(a, p), pa = mm(p, a)
        #expect(mismatch(ap, ap.transposed(), atol: 1e-12) == nil && mismatch(pa, pa.transposed(), atol: 1e-12) == nil)
        // The exact pseudo-inverse of u·v is vᵀ·uᵀ / (‖u‖²‖v‖²).
        let scale = 1 / (6.0 * 6.25)
        #expect(mismatch(p, mm(v.transposed(), u.transposed()) * scale, atol: 1e-12) == nil)
        // diag(2, 1e-3): the default keeps 1e-3; atol or rtol above it drops it (and rcond is rtol).
        let d = Tensor(shape: [2, 2], scalars: [2, 0, 0, 1e-3])
        #expect(mismatch(try d.pinv(), shape: [2, 2], [0.5, 0, 0, 1000], atol: 1e-9) == nil)
        #expect(mismatch(try d.pinv(atol: 0.01), shape: [2, 2], [0.5, 0, 0, 0], atol: 0) == nil)
        #expect(mismatch(try d.pinv(rtol: 0.01), shape: [2, 2], [0.5, 0, 0, 0], atol: 0) == nil)
        #expect(mismatch(try d.pinv(rcond: 0.01), shape: [2, 2], [0.5, 0, 0, 0], atol: 0) == nil)
        #expect(try Tensor.zeros([2, 0, 3], dtype: .float64).pinv().shape == [2, 3, 0])
    }

    @Test(.enabled(if: TorchReference.isAvailable, TorchReference.skipReason))
    func matchesTorch() throws {
        var comparisons = [[3, 3], [4, 2], [2, 4], [2, 3, 2]].enumerated().map { i, shape in
            TorchComparison("torch.linalg.pinv(x[0])", [sample(shape, seed: 1950 + UInt64(i))], seed: 1960 + UInt64(i)) { try! $0[0].pinv() }
        }
        let rankOne = mm(Tensor(shape: [3, 1], scalars: [1.0, 2, -1]), Tensor(shape: [1, 4], scalars: [0.5, -1, 2, 1]))
        let forward = try TorchReference.run([.init(expression: "torch.linalg.pinv(x[0])", inputs: [rankOne], seed: Tensor.zeros([4, 3], dtype: .float64))])
        #expect(mismatch(try rankOne.pinv(), try #require(forward)[0].output, atol: 1e-12) == nil)
        comparisons.append(TorchComparison("torch.linalg.pinv(x[0], atol=0.01)", [Tensor(shape: [2, 2], scalars: [2, 0.3, 0.1, 1e-3])], seed: 1970) {
            try! $0[0].pinv(atol: 0.01)
        })
        try compareWithTorch(comparisons)
    }

    @Test func badArgumentsTrapNamingPinv() async {
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = try? Tensor.zeros([3]).pinv()
        }, mentions: ["pinv", "[3]"])
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = try? Tensor.zeros([2, 2]).pinv(rcond: 0.1, rtol: 0.1)
        }, mentions: ["pinv", "rcond is another name for rtol"])
    }
}
