import Foundation
import Testing
@testable import NN

// The fused LSTM and GRU step ops against their formulas composed from Variable operations, the whole-sequence
// recurrence op against the same steps run one at a time, finite-difference checks of first and second order
// (Double), and the layers' and cells' parameters, shapes and dropout between layers.

/// The LSTM step composed from Variable operations (PyTorch's formula, gate order i, f, g, o).
private func composedLSTM(_ gates: Variable, _ c: Variable) -> (h: Variable, c: Variable) {
    let n = c.shape.last!, axis = gates.rank - 1
    let part = { (k: Int) in gates.sliced(axis: axis, start: k * n, end: (k + 1) * n) }
    let next = part(1).sigmoid() * c + part(0).sigmoid() * part(2).tanh()
    return (part(3).sigmoid() * next.tanh(), next)
}

/// The GRU step composed from Variable operations (gate order r, z, n).
private func composedGRU(_ xg: Variable, _ hg: Variable, _ h: Variable) -> Variable {
    let n = h.shape.last!, axis = xg.rank - 1
    let part = { (v: Variable, k: Int) in v.sliced(axis: axis, start: k * n, end: (k + 1) * n) }
    let r = (part(xg, 0) + part(hg, 0)).sigmoid(), z = (part(xg, 1) + part(hg, 1)).sigmoid()
    let cand = (part(xg, 2) + r * part(hg, 2)).tanh()
    return (1 - z) * cand + z * h
}

private func randn(_ shape: [Int], _ seed: UInt64, scale: Double = 1, dtype: DType = .float64) -> Tensor {
    Tensor.randn(shape, dtype: dtype, generator: RandomGenerator(seed: seed)) * scale
}

/// Element-wise agreement within `tolerance` relative to the larger magnitude of `b` (at least 1).
func agreeRelative(_ a: Tensor, _ b: Tensor, tolerance: Double) -> Bool {
    guard a.shape == b.shape else { return false }
    let scale = Swift.max(1, b.doubles.map(Swift.abs).max() ?? 0)
    return zip(a.doubles, b.doubles).allSatisfy { Swift.abs($0 - $1) <= tolerance * scale }
}

/// `Σᵢ sum(outputsᵢ·seedsᵢ)`: its backward seeds each output with its tensor.
func weightedSum(_ outputs: [Variable], _ seeds: [Tensor]) -> Variable {
    let terms = zip(outputs, seeds).map { ($0 * Variable($1.to($0.dtype))).sum() }
    return terms.dropFirst().reduce(terms[0], +)
}

@Suite struct RecurrentStepOpTests {
    @Test func lstmStepMatchesItsFormulaAndFiniteDifferences() throws {
        for (lead, n) in [([3], 2), ([2, 3], 3), ([1], 9), ([4], 1)] {
            let gates = randn(lead + [4 * n], 1, scale: 2), c = randn(lead + [n], 2)
            let fused = lstmCell(gates: Variable(gates), cell: Variable(c))
            let composed = composedLSTM(Variable(gates), Variable(c))
            #expect(isClose(fused.h.value, composed.h.value, tolerance: 1e-14) && isClose(fused.c.value, composed.c.value, tolerance: 1e-14),
                    "\(lead) H \(n)")
            // Both outputs, so the backward sees a gradient for h and for c at once (and each alone through the other's slice).
            _ = try gradcheck({ v in let r = lstmCell(gates: v[0], cell: v[1]); return [r.h, r.c] }, inputs: [gates, c])
            _ = try gradcheck({ lstmCell(gates: $0[0], cell: $0[1]).h }, inputs: [gates, c])
            _ = try gradgradcheck({ v in let r = lstmCell(gates: v[0], cell: v[1]); return r.h * 2 + r.c }, inputs: [gates, c])
        }
    }

    @Test func gruStepMatchesItsFormulaAndFiniteDifferences() throws {
        for (lead, n) in [([3], 2), ([2, 3], 3), ([1], 9), ([4], 1)] {
            let xg = randn(lead + [3 * n], 3, scale: 2), hg = randn(lead + [3 * n], 4, scale: 2), h = randn(lead + [n], 5)
            let fused = gruCell(inputGates: Variable(xg), hiddenGates: Variable(hg), hidden: Variable(h))
            #expect(isClose(fused.value, composedGRU(Variable(xg), Variable(hg), Variable(h)).value, tolerance: 1e-14), "\(lead) H \(n)")
            _ = try gradcheck({ gruCell(inputGates: $0[0], hiddenGates: $0[1], hidden: $0[2]) }, inputs: [xg, hg, h])
            _ = try gradgradcheck({ gruCell(inputGates: $0[0], hiddenGates: $0[1], hidden: $0[2]) }, inputs: [xg, hg, h])
        }
    }

    @Test func fusedBackwardsMatchTheComposedGradientsInFloat() {
        // The Float kernels against the composed formulas in Double, for the inputs whose gradients are requested.
        let gates = randn([5, 4 * 7], 6, scale: 2), c = randn([5, 7], 7), seedH = randn([5, 7], 8), seedC = randn([5, 7], 9)
        func lstmGradients(_ dtype: DType, fused: Bool) -> [Tensor] {
            let g = Variable(gates.to(dtype), requiresGrad: true), cv = Variable(c.to(dtype), requiresGrad: true)
            let r = fused ? lstmCell(gates: g, cell: cv) : composedLSTM(g, cv)
            weightedSum([r.h, r.c], [seedH, seedC]).backward()
            return [g.grad!, cv.grad!]
        }
        for (f, d) in zip(lstmGradients(.float32, fused: true), lstmGradients(.float64, fused: false)) {
            #expect(f.dtype == .float32 && agreeRelative(f, d, tolerance: 1e-6))
        }
        let xg = randn([5, 21], 10, scale: 2), hg = randn([5, 21], 11), h = randn([5, 7], 12)
        for needed in [[true, false, false], [false, true, false], [false, false, true], [true, true, true]] {
            let inputs = [xg, hg, h].enumerated().map { Variable($1.to(.float32), requiresGrad: needed[$0]) }
            gruCell(inputGates: inputs[0], hiddenGates: inputs[1], hidden: inputs[2]).backward(seed: seedH.to(.float32))
            let reference = [xg, hg, h].map { Variable($0, requiresGrad: true) }
            composedGRU(reference[0], reference[1], reference[2]).backward(seed: seedH)
            for i in 0..<3 {
                #expect((inputs[i].grad != nil) == needed[i])
                if let g = inputs[i].grad { #expect(agreeRelative(g, reference[i].grad!, tolerance: 1e-6), "GRU input \(i) of \(needed)") }
            }
        }
    }

    @Test func saturatedGatesGiveFiniteExactValues() {
        // Gates at ±∞-like values: σ is exactly 0 or 1 and tanh ±1 (e^−1000 underflows to 0), so c and h are exact and gradients finite.
        let gates = Tensor(shape: [1, 4], scalars: [1000, -1000, 1000, 1000]), c = Tensor(shape: [1, 1], scalars: [3])
        let g = Variable(gates, requiresGrad: true), cv = Variable(c, requiresGrad: true)
        let r = lstmCell(gates: g, cell: cv)
        #expect(r.c.value.doubles == [1] && Swift.abs(r.h.value.doubles[0] - Foundation.tanh(1)) < 1e-15)
        (r.h + r.c).sum().backward()
        #expect(g.grad!.doubles.allSatisfy(\.isFinite) && cv.grad!.doubles == [0])
    }
}

@Suite struct RecurrenceOpTests {
    private let kinds: [RecurrenceKind] = [.rnn(.tanh), .rnn(.relu), .lstm, .gru]

    /// The op's inputs for `kind`: projected `[T, B, G·H]`, W_hh, h0, then c0 (LSTM) or b_hh (GRU).
    private func inputs(_ kind: RecurrenceKind, steps: Int = 4, batch: Int = 2, hidden: Int = 3, seed: UInt64 = 20) -> [Tensor] {
        let width = kind.gates * hidden
        var result = [randn([steps, batch, width], seed), randn([width, hidden], seed + 1, scale: 0.6), randn([batch, hidden], seed + 2)]
        if kind == .lstm { result.append(randn([batch, hidden], seed + 3)) }
        if kind == .gru { result.append(randn([width], seed + 4)) }
        return result
    }

    private func run(_ kind: RecurrenceKind, _ v: [Variable], reverse: Bool) -> [Variable] {
        let r = recurrence(kind, projected: v[0], weightHH: v[1], biasHH: kind == .gru ? v[3] : nil, h0: v[2],
                           c0: kind == .lstm ? v[3] : nil, reverse: reverse)
        return [r.output, r.h] + (r.c.map { [$0] } ?? [])
    }

    @Test func wholeSequenceOpMatchesTheStepsRunOneAtATime() {
        for kind in kinds {
            for reverse in [false, true] {
                let values = inputs(kind)
                let op = RecurrenceOp(kind: kind, reverse: reverse)
                let fused = run(kind, values.map { Variable($0) }, reverse: reverse)
                let stepwise = Graph.noGrad { op.stepwise(values.map { Variable($0) }) }
                #expect(isClose(fused[0].value, stepwise.sliced(axis: 0, start: 0, end: 4).value, tolerance: 1e-13), "\(kind) reverse \(reverse)")
                #expect(isClose(fused[1].value, unpacked(stepwise, part: reverse ? 0 : 3).value, tolerance: 1e-13))
                if kind == .lstm { #expect(isClose(fused[2].value, unpacked(stepwise, part: 4).value, tolerance: 1e-13)) }
            }
        }
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        for kind in kinds {
            for reverse in [false, true] {
                // ReLU's kink: values stay away from 0 with these seeds (a kink would show as a finite-difference mismatch).
                _ = try gradcheck({ run(kind, $0, reverse: reverse) }, inputs: inputs(kind), name: "\(kind) reverse \(reverse)")
                _ = try gradcheck({ run(kind, $0, reverse: reverse) }, inputs: inputs(kind, steps: 1, batch: 1, hidden: 1, seed: 30),
                                  name: "\(kind) one step")
            }
        }
    }

    @Test func secondOrderGradientsMatchFiniteDifferences() throws {
        for kind in kinds where kind != .rnn(.relu) {
            _ = try gradgradcheck({ v in let r = run(kind, v, reverse: true); return r.count == 3 ? r[0].sum() + r[2].sum() : r[0] },
                                  inputs: inputs(kind, steps: 3, batch: 2, hidden: 2), name: "\(kind)")
        }
    }

    @Test func floatKernelsAgreeWithDouble() {
        for kind in kinds {
            let values = inputs(kind, steps: 6, batch: 5, hidden: 9, seed: 40)
            func gradients(_ dtype: DType) -> [Tensor] {
                let v = values.map { Variable($0.to(dtype), requiresGrad: true) }
                let outs = run(kind, v, reverse: false)
                weightedSum(outs, outs.enumerated().map { randn($1.shape, 50 + UInt64($0)) }).backward()
                return outs.map(\.value) + v.map { $0.grad! }
            }
            for (f, d) in zip(gradients(.float32), gradients(.float64)) {
                #expect(agreeRelative(f, d, tolerance: 1e-5), "\(kind)")
            }
        }
    }
}
