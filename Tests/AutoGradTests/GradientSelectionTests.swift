import Foundation
import AutoGradTestSupport
import Testing
@testable import AutoGrad

// Backward runs only what leads to the gradients asked for: `Graph.gradients(of:withRespectTo:)` for any
// subset of variables against the full backward, the records it does not run, the masks the engine passes to
// ops, the ops that skip the input gradients not needed, and second order through those paths.

private func leaf(_ shape: [Int], seed: UInt64, _ domain: Domain = .any) -> Variable {
    Variable(sample(shape, domain, seed: seed), requiresGrad: true)
}

/// Expects `actual` to hold `expected`'s shape and values within `tolerance` (absolute and relative).
private func expectSame(_ actual: Tensor?, _ expected: Tensor?, _ what: String, tolerance: Double = 1e-12,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    guard let actual, let expected else {
        Issue.record("\(what): gradient missing (actual \(actual == nil ? "nil" : "present"), expected \(expected == nil ? "nil" : "present"))",
                     sourceLocation: sourceLocation)
        return
    }
    let problem = mismatch(actual, shape: expected.shape, expected.doubles, atol: tolerance, rtol: tolerance)
    #expect(problem == nil, "\(what): \(problem ?? "")", sourceLocation: sourceLocation)
}

/// What the test ops saw: backward calls, and the masks they were given.
private final class BackwardLog {
    var calls = 0
    var masks: [[Bool]] = []
}

/// The identity, with only the plain backward (the mask goes through the default), which counts its calls.
private struct CountingIdentity: Op {
    let log: BackwardLog
    func forward(_ x: [Tensor]) -> Tensor { x[0] }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        log.calls += 1
        return [g]
    }
}

/// `a·b` whose masked backward logs its mask and computes only the needed gradients.
private struct MaskLoggingProduct: Op {
    let log: BackwardLog
    func forward(_ x: [Tensor]) -> Tensor { x[0] * x[1] }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        backward(g, inputs: inputs, output: output, needed: inputs.map(\.requiresGrad))
    }
    func backward(_ g: Variable, inputs: [Variable], output: Variable, needed: [Bool]) -> [Variable?] {
        log.masks.append(needed)
        return [needed[0] ? g * inputs[1] : nil, needed[1] ? g * inputs[0] : nil]
    }
}

// MARK: - Results match the full backward

/// The leaves of ``model``: input `x` [2, 3, 5, 5], conv weight `w` [4, 3, 3, 3] and bias `b` [4], a channel
/// scale `s` [1, 4, 1, 1] and a matrix `m` [100, 3].
private func modelLeaves() -> [Variable] {
    [leaf([2, 3, 5, 5], seed: 1), leaf([4, 3, 3, 3], seed: 2), leaf([4], seed: 3), leaf([1, 4, 1, 1], seed: 4),
     leaf([100, 3], seed: 5)]
}

/// `h = tanh(conv2d(x, w, b, padding 1))`.
private func modelHidden(_ v: [Variable]) -> Variable {
    Variable.conv2d(v[0], weight: v[1], bias: v[2], padding: 1).tanh()
}

/// `y = Σ (flatten(h·h + h·s)·m)² + ½ Σ x·x`: a diamond through `h` (three uses), a broadcast `s`, repeated inputs
/// (`h·h`, `z·z`, `x·x`), and `x` reaching `y` both through the convolution and directly.
private func modelOutput(_ h: Variable, _ v: [Variable]) -> Variable {
    let d = h * h + h * v[3]
    let z = d.flattened(startAxis: 1).matmul(v[4])
    return (z * z).sum() + (v[0] * v[0]).sum() * 0.5
}

@Suite struct GradientSelectionTests {
    @Test func everySubsetOfLeavesGetsTheFullBackwardsGradients() {
        let reference = modelLeaves()
        modelOutput(modelHidden(reference), reference).backward()
        for subset in 1..<(1 << reference.count) {
            let leaves = modelLeaves()
            let chosen = leaves.indices.filter { subset & (1 << $0) != 0 }
            let y = modelOutput(modelHidden(leaves), leaves)
            let gradients = Graph.gradients(of: y, withRespectTo: chosen.map { leaves[$0] })
            for (k, i) in chosen.enumerated() {
                expectSame(gradients[k].value, reference[i].grad, "leaf \(i) requested with leaves \(chosen)")
            }
            #expect(leaves.allSatisfy { $0.grad == nil })
        }
    }

    @Test func requestedIntermediatesGetTheirGradientAlongsideLeaves() {
        // ∂y/∂h from a graph in which h is a leaf; ∂y/∂x and ∂y/∂w from the full backward.
        let reference = modelLeaves()
        let hLeaf = Variable(modelHidden(reference).value, requiresGrad: true)
        modelOutput(hLeaf, reference).backward()
        let full = modelLeaves()
        modelOutput(modelHidden(full), full).backward()

        for others in [[], [1], [0], [4, 0]] {
            let leaves = modelLeaves()
            let h = modelHidden(leaves)
            let gradients = Graph.gradients(of: modelOutput(h, leaves), withRespectTo: [h] + others.map { leaves[$0] })
            expectSame(gradients[0].value, hLeaf.grad, "h requested with leaves \(others)")
            for (k, i) in others.enumerated() {
                expectSame(gradients[k + 1].value, full[i].grad, "leaf \(i) requested with h")
            }
        }
    }

    @Test func repeatedAndDuplicatedRequestsGetTheSameGradient() {
        let xs = sample([4], seed: 7)
        let x = Variable(xs, requiresGrad: true), p = leaf([4], seed: 8)
        let y = (x * x * p + x.exp() * x).sum()
        let gradients = Graph.gradients(of: y, withRespectTo: [x, x])
        let expected = xs.doubles.enumerated().map { i, v in 2 * v * p.value.doubles[i] + Foundation.exp(v) * (1 + v) }
        for g in gradients { expectSame(g.value, Tensor(shape: [4], scalars: expected), "x") }
    }

    // MARK: - Only what leads to the requested variables runs

    @Test func recordsThatLeadOnlyToOtherVariablesAreNotRun() {
        let log = BackwardLog()
        let x = leaf([3], seed: 1), p = leaf([3], seed: 2)
        // The counting op lies between the output and p only.
        func loss() -> Variable { (x.exp() * CountingIdentity(log: log)(p.tanh())).sum() }

        let gx = Graph.gradients(of: loss(), withRespectTo: [x])[0]
        #expect(log.calls == 0)
        expectSame(gx.value, x.value.exp() * p.value.tanh(), "x")
        _ = Graph.gradients(of: loss(), withRespectTo: [p])
        #expect(log.calls == 1)
        loss().backward()                              // plain backward reaches every leaf, as before
        #expect(log.calls == 2)
        #expect(x.grad != nil && p.grad != nil)
    }

    @Test func recordsNotRunAreReleasedUnlessTheGraphIsRetained() throws {
        // Reached but not run, the branch to p is consumed like the rest: a second pass through it traps as before.
        let x = leaf([3], seed: 1), p = leaf([3], seed: 2)
        let branch = p.tanh()
        _ = Graph.gradients(of: (x.exp() * branch).sum(), withRespectTo: [x])
        #expect(try #require(branch.record).isReleased)

        let kept = p.tanh()
        let y = (x.exp() * kept).sum()
        _ = Graph.gradients(of: y, withRespectTo: [x], retainGraph: true)
        #expect(try !#require(kept.record).isReleased)
        expectSame(Graph.gradients(of: y, withRespectTo: [p])[0].value,
                   x.value.exp() * (1 - p.value.tanh() * p.value.tanh()), "p after a retained pass")
    }

    @Test func aRequestedIntermediateDoesNotRunTheRecordThatMadeIt() {
        let log = BackwardLog()
        let x = leaf([3], seed: 1), p = leaf([3], seed: 2)
        let c = CountingIdentity(log: log)(p)
        let g = Graph.gradients(of: (c * x).sum(), withRespectTo: [c])[0]
        expectSame(g.value, x.value, "c")
        #expect(log.calls == 0)
    }

    @Test func opsAreToldWhichInputGradientsAreNeeded() {
        let log = BackwardLog()
        let a = leaf([3], seed: 1), b = leaf([3], seed: 2), constant = Variable(sample([3], seed: 3))
        func product(_ u: Variable, _ v: Variable) -> Variable { MaskLoggingProduct(log: log)(u, v) }

        _ = Graph.gradients(of: product(a, b).sum(), withRespectTo: [a])
        _ = Graph.gradients(of: product(a, b).sum(), withRespectTo: [b])
        _ = Graph.gradients(of: product(a, b).sum(), withRespectTo: [b, a])
        _ = Graph.gradients(of: product(a.exp(), b.exp()).sum(), withRespectTo: [b])  // through records
        // A variable the output does not depend on: the product is not run, the gradient is zero.
        let unrelated = Graph.gradients(of: product(a.exp(), b.exp()).sum(), withRespectTo: [a.exp()])[0]
        #expect(unrelated.value.doubles == [0, 0, 0])
        product(a, b).sum().backward()
        product(a, constant).sum().backward()
        #expect(log.masks == [[true, false], [false, true], [true, true], [false, true], [true, true], [true, false]])

        // A repeated input is needed at both positions, and gets both contributions.
        log.masks = []
        let g = Graph.gradients(of: product(a, a).sum(), withRespectTo: [a])[0]
        #expect(log.masks == [[true, true]])
        expectSame(g.value, a.value * 2, "a")
    }

    // MARK: - Ops skip the gradients not needed

    /// Calls the masked backward of the op that made `y` with every non-empty mask: each needed input gets what
    /// the all-true mask gives it, every other input nil.
    private func expectMaskedBackwardSkips(_ y: Variable, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let record = y.record else {
            Issue.record("\(label): not recorded", sourceLocation: sourceLocation)
            return
        }
        let inputs = record.inputs, n = inputs.count
        let g = Variable(sample(y.shape, seed: 99))
        Graph.noGrad {
            let full = record.op.backward(g, inputs: inputs, output: y, needed: Array(repeating: true, count: n))
            for bits in 1..<(1 << n) {
                let needed = (0..<n).map { bits & (1 << $0) != 0 }
                let got = record.op.backward(g, inputs: inputs, output: y, needed: needed)
                for i in 0..<n {
                    if needed[i] {
                        expectSame(got[i]?.value, full[i]?.value, "\(label): input \(i) with mask \(needed)",
                                   sourceLocation: sourceLocation)
                    } else {
                        #expect(got[i] == nil, "\(label): input \(i)'s gradient computed for mask \(needed)",
                                sourceLocation: sourceLocation)
                    }
                }
            }
        }
    }

    @Test func productsSkipTheOperandGradientsNotNeeded() {
        let a = leaf([4, 3], seed: 1), b = leaf([3, 5], seed: 2)
        expectMaskedBackwardSkips(Variable.matmul(a, b), "matmul")
        expectMaskedBackwardSkips(Variable.matmul(a, a, transposeA: true), "matmul Aᵀ·A")
        expectMaskedBackwardSkips(Variable.matmul(b, a, transposeA: true, transposeB: true), "matmul Bᵀ·Aᵀ")
        let batched = leaf([2, 4, 3], seed: 3)
        expectMaskedBackwardSkips(Variable.matmul(batched, b), "batched matmul")
    }

    @Test func convolutionsSkipTheInputWeightAndBiasGradientsNotNeeded() throws {
        let x = leaf([2, 3, 6, 6], seed: 1), w = leaf([4, 3, 3, 3], seed: 2), b = leaf([4], seed: 3)
        let y = Variable.conv2d(x, weight: w, bias: b, stride: (2, 2), padding: 1)
        expectMaskedBackwardSkips(y, "conv2d with bias")
        expectMaskedBackwardSkips(Variable.conv2d(x, weight: w, padding: 1), "conv2d")

        let t = leaf([2, 4, 3, 3], seed: 4), wt = leaf([4, 3, 3, 3], seed: 5), bt = leaf([3], seed: 6)
        expectMaskedBackwardSkips(Variable.convTranspose2d(t, weight: wt, bias: bt, stride: (2, 2), padding: (1, 1)),
                                  "convTranspose2d with bias")

        let conv = try #require(y.record?.op as? Conv2dOp)
        let h = leaf(y.shape, seed: 7)
        expectMaskedBackwardSkips(Conv2dWeightGradOp(options: conv.options, kernelSize: (3, 3))(x, h), "conv2d weight gradient")
    }

    @Test func elementwiseAndSolveOpsSkipTheGradientsNotNeeded() throws {
        let a = leaf([3, 4], seed: 1, .positive), b = leaf([1, 4], seed: 2, .positive)
        expectMaskedBackwardSkips(a * b, "multiply")
        expectMaskedBackwardSkips(a / b, "divide")
        expectMaskedBackwardSkips(Variable.pow(a, b), "power")
        expectMaskedBackwardSkips(Variable.where(sample([3, 4], seed: 3) .> 0.0, a, b), "where")
        expectMaskedBackwardSkips(Variable.concatenate([a, b, a], axis: 0), "concatenate")

        let m = Variable(sample([3, 3], seed: 4) + Tensor.eye(3, dtype: .float64) * 3, requiresGrad: true)
        expectMaskedBackwardSkips(try Variable.solve(m, a), "solve")
        expectMaskedBackwardSkips(try Variable.solveTriangular(m, a, upper: true), "solveTriangular")
    }

    // MARK: - Second order through the selective paths

    /// A small conv critic, images [5, 1, 8, 8] → scores [5, 1]: conv(1→3, 3×3, s2, p1) → leakyReLU 0.2 →
    /// conv(3→4, 3×3, s2, p1) → leakyReLU 0.2 → flatten 16 → ·[16, 1] + bias.
    private static func critic(_ x: Variable, _ p: [Variable]) -> Variable {
        let h1 = Variable.conv2d(x, weight: p[0], bias: p[1], stride: (2, 2), padding: 1).leakyReLU(negativeSlope: 0.2)
        let h2 = Variable.conv2d(h1, weight: p[2], bias: p[3], stride: (2, 2), padding: 1).leakyReLU(negativeSlope: 0.2)
        return h2.flattened(startAxis: 1).matmul(p[4]) + p[5]
    }

    private static func criticParameters() -> [Variable] {
        [leaf([3, 1, 3, 3], seed: 11), leaf([3], seed: 12), leaf([4, 3, 3, 3], seed: 13), leaf([4], seed: 14),
         leaf([16, 1], seed: 15), leaf([1], seed: 16)]
    }

    private enum InputGradientPath { case alone, withParameters, plainBackward }

    /// `mean (‖∂ΣD/∂x‖ − 1)²` over the samples, the input gradient taken along `path` with `createGraph`, and that
    /// input gradient.
    private static func penalty(_ p: [Variable], _ images: Tensor, path: InputGradientPath) -> (Variable, Variable) {
        let x = Variable(images, requiresGrad: true)
        let score = critic(x, p).sum()
        let gx: Variable
        switch path {
        case .alone: gx = Graph.gradients(of: score, withRespectTo: [x], createGraph: true)[0]
        case .withParameters: gx = Graph.gradients(of: score, withRespectTo: [x] + p, createGraph: true)[0]
        case .plainBackward:
            score.backward(createGraph: true)
            gx = x.gradVariable!
            for q in p { q.zeroGrad() }
        }
        let norms = (gx.reshaped([images.shape[0], -1]).squared().sum(axes: [1]) + 1e-12).sqrt()
        return ((norms - 1).squared().mean(), gx)
    }

    @Test func gradientPenaltyThroughAConvolutionCriticMatchesTheFullComputation() throws {
        let images = sample([5, 1, 8, 8], seed: 10)
        let reference = Self.criticParameters()
        let (referencePenalty, referenceInputGradient) = Self.penalty(reference, images, path: .withParameters)
        try #require(referencePenalty.requiresGrad)
        referencePenalty.backward()
        // The input gradient does not depend on the biases (leakyReLU's slopes are piecewise constant): only the
        // weights get a gradient, and it must not be vacuous.
        for (k, p) in reference.enumerated() {
            if k % 2 == 0 { #expect(p.grad.map { $0.doubles.contains { Swift.abs($0) > 1e-6 } } ?? false, "weight \(k)") }
            else { #expect(p.grad == nil, "bias \(k)") }
        }

        for path in [InputGradientPath.alone, .plainBackward] {
            let parameters = Self.criticParameters()
            let (penalty, inputGradient) = Self.penalty(parameters, images, path: path)
            expectSame(inputGradient.value, referenceInputGradient.value, "input gradient (\(path))")
            expectSame(penalty.value, referencePenalty.value, "penalty (\(path))")
            try #require(penalty.requiresGrad)
            penalty.backward()
            for (k, (q, r)) in zip(parameters, reference).enumerated() {
                if k % 2 == 0 { expectSame(q.grad, r.grad, "weight \(k) (\(path))", tolerance: 1e-10) }
                else { #expect(q.grad == nil, "bias \(k) (\(path))") }
            }
        }
    }

    @Test func secondOrderGradientsOfASubsetMatchTheFullComputation() throws {
        // ∂/∂v of Σ(∂y/∂x)² for y = Σ tanh(x·w)·c, asking for one v of (w, c, x) at a time against all three.
        func build() -> (leaves: [Variable], penalty: Variable) {
            let x = leaf([4, 3], seed: 21), w = leaf([3, 2], seed: 22), c = leaf([2], seed: 23)
            let y = (x.matmul(w).tanh() * c).sum()
            let g = Graph.gradients(of: y, withRespectTo: [x], createGraph: true)[0]
            return ([w, c, x], (g * g).sum())
        }
        let full = build()
        try #require(full.penalty.requiresGrad)
        let everything = Graph.gradients(of: full.penalty, withRespectTo: full.leaves)
        for i in 0..<3 {
            let only = build()
            try #require(only.penalty.requiresGrad)
            let g = Graph.gradients(of: only.penalty, withRespectTo: [only.leaves[i]])[0]
            expectSame(g.value, everything[i].value, "leaf \(i)")
        }
    }
}

/// The `Scale` op of `Op`'s documentation, as written there: a custom op with a masked backward.
private struct Scale: Op {
    func forward(_ x: [Tensor]) -> Tensor { x[0] * x[1] }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        backward(g, inputs: inputs, output: output, needed: inputs.map(\.requiresGrad))
    }
    func backward(_ g: Variable, inputs: [Variable], output: Variable, needed: [Bool]) -> [Variable?] {
        [needed[0] ? g * inputs[1] : nil, needed[1] ? g * inputs[0] : nil]
    }
}

/// The documented example works as documented: first and second derivatives by finite differences, with broadcast
/// and scalar scales, and only the needed gradient when one input does not require one.
@Suite struct DocumentedScaleOpTests {
    @Test func gradientsMatchFiniteDifferences() throws {
        for (x, s) in [([3, 4], [3, 4]), ([3, 4], [4]), ([2, 3], [])] {
            let inputs = [sample(x, seed: 90), sample(s, seed: 91)]
            #expect(try gradcheck({ Scale()($0[0], $0[1]) }, inputs: inputs) < 1e-5, "\(x) · \(s)")
            #expect(try gradgradcheck({ Scale()($0[0], $0[1]).tanh() }, inputs: inputs) < 1e-5, "\(x) · \(s)")
        }
    }

    @Test func onlyTheNeededGradientIsFormed() {
        let x = Variable(sample([2, 3], seed: 92), requiresGrad: true), s = Variable(sample([3], seed: 93))
        let y = Scale()(x, s)
        let gradients = Scale().backward(Variable(Tensor.ones([2, 3])), inputs: [x, s], output: y, needed: [true, false])
        #expect(gradients[1] == nil && gradients[0]?.shape == [2, 3])
        let gx = Graph.gradients(of: y.sum(), withRespectTo: [x])[0]
        #expect(mismatch(gx.value, s.value.broadcast(to: [2, 3])) == nil)
    }
}
