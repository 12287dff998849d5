import Foundation
import AutoGradTestSupport
import Testing
@testable import AutoGrad

// Tests of the autograd engine itself (Graph, Variable, Record): how gradients are routed,
// accumulated, reduced and recorded. Per-op gradient formulas are checked in the op tests.

/// Expects `actual` to exist and to match `shape` and `expected` within `tolerance` (absolute and relative).
private func expectClose(_ actual: Tensor?, _ expected: [Double], shape: [Int], tolerance: Double = 1e-12,
                         sourceLocation: SourceLocation = #_sourceLocation) {
    guard let actual else {
        Issue.record("gradient is nil, expected \(expected)", sourceLocation: sourceLocation)
        return
    }
    let problem = mismatch(actual, shape: shape, expected, atol: tolerance, rtol: tolerance)
    #expect(problem == nil, "\(problem ?? "")", sourceLocation: sourceLocation)
}

private func leaf(_ values: [Double], _ shape: [Int]? = nil) -> Variable {
    Variable(Tensor(shape: shape ?? [values.count], scalars: values), requiresGrad: true)
}

private func constant(_ values: [Double], _ shape: [Int]) -> Variable {
    Variable(Tensor(shape: shape, scalars: values))
}

// MARK: - Shared subexpressions and repeated inputs

@Suite struct GradientAccumulationTests {
    /// `Graph.records` answers as `Variable.apply` decides: recording on and an input that requires a gradient.
    @Test func recordsMatchesWhatApplyRecords() {
        let leaf = Variable(Tensor([1.0, 2.0]), requiresGrad: true), constant = Variable(Tensor([3.0, 4.0]))
        #expect(Graph.records([constant, leaf]) && (constant + leaf).opName != nil)
        #expect(!Graph.records([constant]) && (constant + constant).opName == nil)
        Graph.noGrad {
            #expect(!Graph.records([leaf]) && (leaf + leaf).opName == nil)
        }
    }

    @Test func diamondThroughASharedInputSumsBothPaths() {
        let a = leaf([1.5, -2, 0.5]), b = leaf([3, 0.25, -1]), c = leaf([-0.5, 4, 2])
        let y = (a * b + a * c).sum()
        y.backward()
        // ∂y/∂a = b + c (both paths), ∂y/∂b = a, ∂y/∂c = a.
        expectClose(a.grad, [2.5, 4.25, 1], shape: [3])
        expectClose(b.grad, [1.5, -2, 0.5], shape: [3])
        expectClose(c.grad, [1.5, -2, 0.5], shape: [3])
    }

    @Test func intermediateUsedTwiceCollectsGradientFromEveryConsumer() {
        let xs: [Double] = [0.3, -0.7, 1.1]
        let x = leaf(xs)
        let z = x.exp()                       // shared intermediate
        let y = (z * z + z.tanh() * 3).sum()  // z reaches y through three uses
        y.backward()
        let expected = xs.map { v -> Double in
            let z = Foundation.exp(v)
            let t = Foundation.tanh(z)
            return (2 * z + 3 * (1 - t * t)) * z
        }
        expectClose(x.grad, expected, shape: [3], tolerance: 1e-12)
    }

    @Test func longChainOfSharedNodesDoesNotDoubleCount() {
        // y_{k+1} = y_k + y_k, ten times: ∂y/∂x = 2^10. Each node is consumed twice by the next,
        // so a wrong visiting order or a missing accumulation shows up as a power of two off.
        let x = leaf([1, 2])
        var y = x
        for _ in 0..<10 { y = y + y }
        y.sum().backward()
        expectClose(x.grad, [1024, 1024], shape: [2])
    }

    @Test func repeatedInputToOneOp() {
        let xs: [Double] = [0.5, -1.5, 3]
        let x = leaf(xs)
        (x * x).sum().backward()
        expectClose(x.grad, xs.map { 2 * $0 }, shape: [3])

        let u = leaf(xs)
        (u + u).sum().backward()
        expectClose(u.grad, [2, 2, 2], shape: [3])

        let v = leaf(xs)
        (v * v * v).sum().backward()
        expectClose(v.grad, xs.map { 3 * $0 * $0 }, shape: [3])

        let w = leaf(xs)
        (w - w).sum().backward()
        expectClose(w.grad, [0, 0, 0], shape: [3])
    }

    @Test func matmulOfAMatrixWithItself() {
        // L = Σ W ⊙ (X X)  ⇒  ∂L/∂X = W Xᵀ + Xᵀ W (one term per operand slot).
        let xs: [Double] = [0.5, -1, 2, 1.5, 0.25, -0.75, 3, -2, 1]
        let ws: [Double] = [1, -2, 0.5, 3, 1, -1, 0.25, 2, -0.5]
        let x = leaf(xs, [3, 3])
        let w = constant(ws, [3, 3])
        (w * x.matmul(x)).sum().backward()
        var expected = [Double](repeating: 0, count: 9)
        for i in 0..<3 {
            for j in 0..<3 {
                for k in 0..<3 {
                    expected[i * 3 + j] += ws[i * 3 + k] * xs[j * 3 + k]   // (W Xᵀ)_ij
                    expected[i * 3 + j] += xs[k * 3 + i] * ws[k * 3 + j]   // (Xᵀ W)_ij
                }
            }
        }
        expectClose(x.grad, expected, shape: [3, 3], tolerance: 1e-12)
    }
}

// MARK: - Broadcasting

@Suite struct BroadcastReductionTests {
    @Test func rowVectorGetsColumnSums() {
        let a = leaf([1, 2, 3, 4, 5, 6], [2, 3])
        let b = leaf([10, 20, 30], [3])
        let ws: [Double] = [1, 2, 3, -1, -2, 4]
        (constant(ws, [2, 3]) * (a + b)).sum().backward()
        expectClose(a.grad, ws, shape: [2, 3])
        expectClose(b.grad, [0, 0, 7], shape: [3])
    }

    @Test func outerProductShapesReduceOnTheirBroadcastAxes() {
        let avals: [Double] = [2, -3], bvals: [Double] = [0.5, 1, -4]
        let a = leaf(avals, [2, 1]), b = leaf(bvals, [1, 3])
        let ws: [Double] = [1, 2, 3, -1, 0.5, 2]
        (constant(ws, [2, 3]) * (a * b)).sum().backward()
        var ga = [0.0, 0.0], gb = [0.0, 0.0, 0.0]
        for i in 0..<2 {
            for j in 0..<3 {
                ga[i] += ws[i * 3 + j] * bvals[j]
                gb[j] += ws[i * 3 + j] * avals[i]
            }
        }
        expectClose(a.grad, ga, shape: [2, 1])
        expectClose(b.grad, gb, shape: [1, 3])
    }

    @Test func rankZeroLeafGetsTheSumOfEverything() {
        let s = Variable(Tensor(2.0), requiresGrad: true)
        let xs: [Double] = [1, -2, 3, 0.5, 4, -1]
        let x = leaf(xs, [2, 3])
        (s * x).sum().backward()
        expectClose(s.grad, [5.5], shape: [])
        expectClose(x.grad, Array(repeating: 2, count: 6), shape: [2, 3])
    }

    @Test func leadingAndInnerBroadcastAxesTogether() {
        // [4, 1, 3] − [2, 1] → [4, 2, 3]: the second operand is summed over axes 0 and 2.
        let a = leaf((0..<12).map { Double($0) * 0.5 }, [4, 1, 3])
        let b = leaf([1, -1], [2, 1])
        let ws = (0..<24).map { Double($0 % 5) - 2 }
        (constant(ws, [4, 2, 3]) * (a - b)).sum().backward()
        var ga = [Double](repeating: 0, count: 12), gb = [0.0, 0.0]
        for n in 0..<4 {
            for i in 0..<2 {
                for j in 0..<3 {
                    let w = ws[(n * 2 + i) * 3 + j]
                    ga[n * 3 + j] += w
                    gb[i] -= w
                }
            }
        }
        expectClose(a.grad, ga, shape: [4, 1, 3])
        expectClose(b.grad, gb, shape: [2, 1])
    }

    @Test func batchedMatmulAgainstASharedMatrixSumsOverTheBatch() {
        let gen = RandomGenerator(seed: 7)
        let a = Variable(Tensor.randn([2, 3, 4], dtype: .float64, generator: gen), requiresGrad: true)
        let b = Variable(Tensor.randn([4, 5], dtype: .float64, generator: gen), requiresGrad: true)
        let w = Tensor.randn([2, 3, 5], dtype: .float64, generator: gen)
        (Variable(w) * a.matmul(b)).sum().backward()
        // ∂L/∂B = Σ_batch A_nᵀ W_n = (A as [6, 4])ᵀ (W as [6, 5]).
        let expected = Tensor.matmul(a.value.reshaped([6, 4]), w.reshaped([6, 5]), transposeA: true)
        expectClose(b.grad, expected.doubles, shape: [4, 5], tolerance: 1e-12)
        #expect(a.grad?.shape == [2, 3, 4])
    }
}

// MARK: - Gradient state and recording

@Suite struct GradientStateTests {
    @Test func gradIsNilUntilBackwardThenAccumulatesUntilZeroed() {
        let x = leaf([1, 2, 3])
        #expect(x.grad == nil)
        (x * 2).sum().backward()
        expectClose(x.grad, [2, 2, 2], shape: [3])
        (x * x).sum().backward()                       // a second, separate graph
        expectClose(x.grad, [4, 6, 8], shape: [3])     // 2 + 2x
        x.zeroGrad()
        #expect(x.grad == nil)
        (x * 3).sum().backward()
        expectClose(x.grad, [3, 3, 3], shape: [3])
    }

    @Test func detachCutsTheGraph() {
        let xs: [Double] = [0.5, -2, 3]
        let x = leaf(xs)
        let d = x.detach()
        #expect(d.isLeaf && !d.requiresGrad && d.opName == nil)
        #expect(d.value.doubles == xs)
        (d * x).sum().backward()
        expectClose(x.grad, xs, shape: [3])            // x, not 2x: no gradient through d

        let y = leaf(xs)
        let h = (y * y).detach()                       // a detached intermediate
        (h * y).sum().backward()
        expectClose(y.grad, xs.map { $0 * $0 }, shape: [3])
    }

    @Test func requiresGradOnlyWhereSomeInputRequiresIt() {
        let x = leaf([1, 2])
        let c = constant([3, 4], [2])
        #expect(!(c * c).requiresGrad && (c * c).isLeaf)
        let y = c * x
        #expect(y.requiresGrad && !y.isLeaf && y.opName == "Multiply")
        y.sum().backward()
        #expect(c.grad == nil)
        expectClose(x.grad, [3, 4], shape: [2])
    }

    @Test func noGradRecordsNothingAndRestoresTheSetting() {
        let x = leaf([1, 2])
        #expect(Graph.isRecording)
        let y = Graph.noGrad { () -> Variable in
            #expect(!Graph.isRecording)
            return (x * x).exp().sum()
        }
        #expect(Graph.isRecording)
        #expect(y.isLeaf && !y.requiresGrad && y.opName == nil)
        #expect(Swift.abs(y.value.item - (Foundation.exp(1) + Foundation.exp(4))) < 1e-12)
        // Nested scopes restore the enclosing setting.
        Graph.noGrad {
            Graph.noGrad { #expect(!Graph.isRecording) }
            #expect(!Graph.isRecording)
        }
        #expect(Graph.isRecording)
    }

    @Test func noGradRestoresRecordingWhenItsBodyThrows() {
        struct Failure: Error {}
        #expect(throws: Failure.self) { try Graph.noGrad { throw Failure() } }
        #expect(Graph.isRecording)
        Graph.noGrad {
            #expect(throws: Failure.self) { try Graph.enableGrad { throw Failure() } }
            #expect(!Graph.isRecording)
        }
    }

    @Test func enableGradInsideNoGradRecords() {
        let x = leaf([1, -2])
        let y = Graph.noGrad { () -> Variable in
            let inner = Graph.enableGrad { () -> Variable in
                #expect(Graph.isRecording)
                return (x * x).sum()
            }
            #expect(!Graph.isRecording)
            #expect((x * x).isLeaf)
            return inner
        }
        #expect(!y.isLeaf)
        y.backward()
        expectClose(x.grad, [2, -4], shape: [2])
    }

    @Test func noGradOnOneThreadDoesNotStopRecordingOnAnother() {
        final class Report: @unchecked Sendable {
            var recordingInside = true
            var recordedInside = true
        }
        let report = Report()
        let entered = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), finished = DispatchSemaphore(value: 0)
        Thread {
            Graph.noGrad {
                report.recordingInside = Graph.isRecording
                let v = Variable(Tensor([1.0, 2.0]), requiresGrad: true)
                report.recordedInside = !(v * v).isLeaf
                entered.signal()
                release.wait()           // stay inside noGrad while the other thread works
            }
            finished.signal()
        }.start()
        entered.wait()
        #expect(!report.recordingInside)
        #expect(!report.recordedInside)
        // This thread still records while the other one sits in noGrad.
        #expect(Graph.isRecording)
        let x = leaf([1, 3])
        let y = (x * x).sum()
        #expect(!y.isLeaf)
        release.signal()
        finished.wait()
        y.backward()
        expectClose(x.grad, [2, 6], shape: [2])
    }

    @Test func aNewThreadRecordsEvenWhenItsCreatorIsInNoGrad() {
        final class Report: @unchecked Sendable {
            var recording = false
            var gradient: [Double] = []
        }
        let report = Report()
        let finished = DispatchSemaphore(value: 0)
        Graph.noGrad {
            Thread {
                report.recording = Graph.isRecording
                let v = Variable(Tensor([1.0, 2.0]), requiresGrad: true)
                (v * v).sum().backward()
                report.gradient = v.grad?.doubles ?? []
                finished.signal()
            }.start()
            finished.wait()
        }
        #expect(report.recording)
        #expect(report.gradient == [2, 4])
    }
}

// MARK: - Retained graphs and gradients(of:withRespectTo:)

@Suite struct GraphReuseTests {
    @Test func retainedGraphRunsTwiceAndGradientsDouble() {
        let xs: [Double] = [1, -2, 0.5]
        let x = leaf(xs)
        let y = (x * x).exp().sum()
        y.backward(retainGraph: true)
        let once = xs.map { 2 * $0 * Foundation.exp($0 * $0) }
        expectClose(x.grad, once, shape: [3])
        y.backward()
        expectClose(x.grad, once.map { 2 * $0 }, shape: [3])
    }

    @Test func gradientsOfLeavesIntermediatesAndUnusedInputs() {
        let xs: [Double] = [0.2, -0.4, 1]
        let x = leaf(xs)
        let unused = leaf([5, 6], [2, 1])
        let h = x.exp()                                   // non-leaf intermediate
        let y = (h * h).sum() + h.sum()
        x.grad = Tensor(shape: [3], scalars: [9.0, 9, 9])  // must be left alone
        let grads = Graph.gradients(of: y, withRespectTo: [x, h, unused])
        #expect(grads.count == 3)
        let hs = xs.map { Foundation.exp($0) }
        expectClose(grads[0].value, hs.map { (2 * $0 + 1) * $0 }, shape: [3])
        expectClose(grads[1].value, hs.map { 2 * $0 + 1 }, shape: [3])
        expectClose(grads[2].value, [0, 0], shape: [2, 1])
        expectClose(x.grad, [9, 9, 9], shape: [3])
        #expect(unused.grad == nil)
        #expect(!grads[0].requiresGrad)                   // no createGraph: plain values
    }

    @Test func gradientsWithASeedAndSeveralOutputs() {
        let x = leaf([1, 2])
        let y1 = x * 3                 // non-scalar: needs a seed
        let y2 = (x * x).sum()
        let g = Graph.gradients(of: [y1, y2], withRespectTo: [x], seeds: [Tensor(shape: [2], scalars: [1.0, -1]), nil])
        expectClose(g[0].value, [3 + 2, -3 + 4], shape: [2])
        #expect(x.grad == nil)
    }

    @Test func gradientsCanRetainTheGraphForAnotherPass() {
        let x = leaf([1, 2])
        let y = (x * x).sum()
        let first = Graph.gradients(of: y, withRespectTo: [x], retainGraph: true)
        let second = Graph.gradients(of: y, withRespectTo: [x])
        expectClose(first[0].value, [2, 4], shape: [2])
        expectClose(second[0].value, [2, 4], shape: [2])   // not accumulated: gradients() returns, it does not add
    }
}

// MARK: - Second order

@Suite struct HigherOrderTests {
    @Test func secondDerivativeOfACube() {
        let xs: [Double] = [0.5, -1, 2]
        let x = leaf(xs)
        let y = (x * x * x).sum()
        let g = Graph.gradients(of: y, withRespectTo: [x], createGraph: true)[0]
        #expect(g.requiresGrad && !g.isLeaf)
        expectClose(g.value, xs.map { 3 * $0 * $0 }, shape: [3])
        g.sum().backward()
        expectClose(x.grad, xs.map { 6 * $0 }, shape: [3])
    }

    @Test func backwardWithCreateGraphLeavesADifferentiableGrad() throws {
        let xs: [Double] = [0.5, -1, 2]
        let x = leaf(xs)
        (x * x * x).sum().backward(createGraph: true)
        let g = try #require(x.gradVariable)
        #expect(g.requiresGrad)
        expectClose(g.value, xs.map { 3 * $0 * $0 }, shape: [3])
        x.zeroGrad()
        g.sum().backward()
        expectClose(x.grad, xs.map { 6 * $0 }, shape: [3])
    }

    @Test func hessianVectorProductOfAQuadraticForm() {
        // f(x) = xᵀ A x + bᵀ x has Hessian A + Aᵀ.
        let avals: [Double] = [2, -1, 0.5, 3, 1, -2, 0.25, 4, -1.5]
        let a = constant(avals, [3, 3])
        let b = constant([1, -3, 2], [3])
        let x = leaf([0.3, -1.2, 0.8])
        let vs: [Double] = [1, 0.5, -2]
        let f = (x.matmul(a) * x).sum() + (b * x).sum()
        let g = Graph.gradients(of: f, withRespectTo: [x], createGraph: true)[0]
        let hv = Graph.gradients(of: (g * constant(vs, [3])).sum(), withRespectTo: [x])[0]
        var expected = [0.0, 0.0, 0.0]
        for i in 0..<3 {
            for j in 0..<3 { expected[i] += (avals[i * 3 + j] + avals[j * 3 + i]) * vs[j] }
        }
        expectClose(hv.value, expected, shape: [3], tolerance: 1e-12)
        #expect(x.grad == nil)
    }

    /// `‖∂y/∂x‖²` for `y = Σ tanh(x W + c)`, as a function of the parameters (W, c).
    private static func penalty(_ w: Variable, _ c: Variable, _ x: Variable, createGraph: Bool) -> Variable {
        let y = (x.matmul(w) + c).tanh().sum()
        let gx = Graph.gradients(of: y, withRespectTo: [x], createGraph: createGraph)[0]
        return (gx * gx).sum()
    }

    @Test func gradientPenaltyMatchesFiniteDifferences() {
        let gen = RandomGenerator(seed: 3)
        let w0 = Tensor.randn([3, 2], dtype: .float64, generator: gen)
        let c0 = Tensor.randn([2], dtype: .float64, generator: gen)
        let x = Variable(Tensor.randn([4, 3], dtype: .float64, generator: gen), requiresGrad: true)

        let w = Variable(w0, requiresGrad: true), c = Variable(c0, requiresGrad: true)
        let p = Self.penalty(w, c, x, createGraph: true)
        #expect(w.grad == nil && c.grad == nil && x.grad == nil)   // gradients() touched no .grad
        p.backward()

        func value(_ wt: Tensor, _ ct: Tensor) -> Double {
            Self.penalty(Variable(wt), Variable(ct), Variable(x.value, requiresGrad: true), createGraph: false).value.item
        }
        let eps = 1e-6
        var numericW = [Double](), numericC = [Double]()
        for i in 0..<w0.count {
            var plus = w0, minus = w0
            plus[flat: i] += eps
            minus[flat: i] -= eps
            numericW.append((value(plus, c0) - value(minus, c0)) / (2 * eps))
        }
        for i in 0..<c0.count {
            var plus = c0, minus = c0
            plus[flat: i] += eps
            minus[flat: i] -= eps
            numericC.append((value(w0, plus) - value(w0, minus)) / (2 * eps))
        }
        #expect(numericW.contains { Swift.abs($0) > 1e-3 })          // the check is not vacuous
        expectClose(w.grad, numericW, shape: [3, 2], tolerance: 1e-6)
        expectClose(c.grad, numericC, shape: [2], tolerance: 1e-6)
    }
}

/// Several threads running forward and backward over shared parameters at once (the rule in ``Variable``'s "Threads"):
/// the gradients add up to exactly what the same passes give one after another.
@Suite struct SharedParameterThreadTests {
    @Test func concurrentBackwardPassesSumIntoSharedLeaves() {
        let w = Variable(Tensor.randn([4, 3], dtype: .float64, generator: RandomGenerator(seed: 3)), requiresGrad: true)
        let inputs = (0..<8).map { Tensor.randn([2, 4], dtype: .float64, generator: RandomGenerator(seed: UInt64(10 + $0))) }
        // Small passes, many of them: the threads meet at the leaf most often.
        let rounds = 1_000
        func pass(_ x: Tensor) { Variable(x).matmul(w).tanh().sum().backward() }

        for x in inputs { for _ in 0..<rounds { pass(x) } }
        let sequential = w.grad!
        w.zeroGrad()

        DispatchQueue.concurrentPerform(iterations: inputs.count) { i in
            for _ in 0..<rounds { pass(inputs[i]) }
        }
        let concurrent = w.grad!
        // Sums in another order: equal to rounding.
        let problem = mismatch(concurrent, sequential, atol: 1e-9, rtol: 1e-9)
        #expect(problem == nil, "\(problem ?? "")")
    }
}
