import Foundation
import Testing
@testable import NN

// The fused GELU op: its Float kernels (CKernels' ck_gelu_f32 and ck_gelu_backward_f32, at every level through
// GELUKernelLevelTests) against the Double op, its values and gradients against PyTorch's, and its threaded split.
// First and second derivatives are gradchecked with the other activations (ActivationTests).

/// Inputs across GELU's whole range: dense over [−12, 12] (an odd count, so the kernels' partial last vector runs),
/// then zero, tiny and large magnitudes.
private let sweep: [Double] = (0...2400).map { -12 + Double($0) * 0.01 } + [0, 1e-30, -1e-30, 1e-7, -1e-7, 80, -80, 1e4, -1e4]

/// The largest error of `got` against `reference`, each relative to `max(1, |reference|)`.
private func worstError(_ got: [Double], _ reference: [Double]) -> Double {
    zip(got, reference).map { Swift.abs($0 - $1) / Swift.max(1, Swift.abs($1)) }.max() ?? .infinity
}

/// The largest relative error of `got` against `reference` where the reference is nonzero.
private func worstRelativeError(_ got: [Double], _ reference: [Double]) -> Double {
    zip(got, reference).filter { $1 != 0 }.map { Swift.abs($0 - $1) / Swift.abs($1) }.max() ?? .infinity
}

/// GELU's output and input gradient (for an upstream gradient `g`) at `x`, in `dtype`, as Doubles.
private func geluAndGradient(_ x: [Double], _ g: [Double], approximate: GELUApproximation, dtype: DType) -> (y: [Double], gx: [Double]) {
    let input = Variable(Tensor(shape: [x.count], scalars: x).to(dtype), requiresGrad: true)
    let y = gelu(input, approximate: approximate)
    y.backward(seed: Tensor(shape: [g.count], scalars: g).to(dtype))
    return (y.value.doubles, input.grad!.doubles)
}

@Suite struct GELUTests {
    /// The Float kernels agree with the Double op to about one Float rounding over the whole range, and far below
    /// zero keep a small relative error (the tail is computed as such, not as `1 + erf`).
    @Test func floatKernelsMatchTheDoubleOp() {
        let g = sweep.indices.map { 1 + 0.25 * Double($0 % 7) }
        for approximate in [GELUApproximation.none, .tanh] {
            let float = geluAndGradient(sweep, g, approximate: approximate, dtype: .float32)
            let double = geluAndGradient(sweep, g, approximate: approximate, dtype: .float64)
            #expect(worstError(float.y, double.y) <= 1e-6, "\(approximate): output")
            #expect(worstError(float.gx, double.gx) <= 2e-6, "\(approximate): input gradient")
            let tail = sweep.indices.filter { sweep[$0] >= -9 && sweep[$0] <= -3 }
            #expect(worstRelativeError(tail.map { float.y[$0] }, tail.map { double.y[$0] }) <= 5e-5, "\(approximate): tail")
            #expect(float.y.allSatisfy(\.isFinite) && float.gx.allSatisfy(\.isFinite), "\(approximate): finite")
        }
        // The comparison notices an error of a few Float roundings.
        let shifted = geluAndGradient(sweep, sweep.map { _ in 1 }, approximate: .none, dtype: .float64).y.map { $0 + 4e-6 }
        #expect(worstError(shifted, geluAndGradient(sweep, sweep.map { _ in 1 }, approximate: .none, dtype: .float64).y) > 1e-6)
    }

    /// Exact values where they are known: GELU(0) = 0, GELU′(0) = ½, GELU(x) = x far above zero and 0 far below.
    @Test func knownValuesInFloat() {
        for approximate in [GELUApproximation.none, .tanh] {
            let r = geluAndGradient([0, 30, -30], [1, 1, 1], approximate: approximate, dtype: .float32)
            #expect(r.y == [0, 30, 0] || r.y == [0, 30, -0.0], "\(approximate): \(r.y)")
            #expect(r.gx[0] == 0.5 && r.gx[1] == 1 && r.gx[2] == 0, "\(approximate): \(r.gx)")
        }
    }

    /// NaN stays NaN, +∞ stays +∞ (PyTorch's float64 GELU agrees; its float32 exact form gives NaN there), and −∞ gives
    /// NaN (−∞·0, as PyTorch's), in both dtypes and both forms.
    @Test func nonFiniteInputs() {
        for dtype in [DType.float32, .float64] {
            for approximate in [GELUApproximation.none, .tanh] {
                let y = geluAndGradient([.nan, .infinity, -.infinity], [1, 1, 1], approximate: approximate, dtype: dtype).y
                #expect(y[0].isNaN && y[1] == .infinity && y[2].isNaN, "\(dtype) \(approximate): \(y)")
            }
        }
    }

    /// A tensor large enough to split over threads gives the same elements as the same values one at a time.
    @Test func threadedSplitMatchesSmallCalls() {
        let x = Tensor.randn([300, 401], generator: RandomGenerator(seed: 3)) * 3
        let g = Tensor.randn([300, 401], generator: RandomGenerator(seed: 4))
        let whole = Variable(x, requiresGrad: true)
        let y = gelu(whole)
        y.backward(seed: g)
        for row in [0, 149, 299] {
            func rowOf(_ t: Tensor) -> Tensor { t.sliced(axis: 0, start: row, end: row + 1) }
            let part = Variable(rowOf(x), requiresGrad: true)
            let yr = gelu(part)
            yr.backward(seed: rowOf(g))
            #expect(yr.value == rowOf(y.value) && part.grad! == rowOf(whole.grad!), "row \(row)")
        }
    }

    /// Outputs and input gradients equal PyTorch's `gelu` in float32 (within 4e-6 of the values' scale: PyTorch's own
    /// float32 GELU is off the exact value by up to about 1.1e-6, ours by 4e-7) and float64 (1e-12), both forms.
    @Test(.enabled(if: TorchLayerReference.isAvailable, "torch is not importable: pip install torch==2.13.0+cpu"))
    func matchesTorch() throws {
        let x = Array(stride(from: -8.0, through: 8.0, by: 0.037)), g = x.indices.map { 0.5 + Double($0 % 5) * 0.3 }
        let script = """
        import json, sys, torch
        r = json.load(sys.stdin)
        out = {}
        for dtype in ["float32", "float64"]:
            for form in ["none", "tanh"]:
                x = torch.tensor(r["x"], dtype=getattr(torch, dtype)).requires_grad_(True)
                y = torch.nn.functional.gelu(x, approximate=form)
                y.backward(torch.tensor(r["g"], dtype=getattr(torch, dtype)))
                out[dtype + form] = [y.detach().tolist(), x.grad.tolist()]
        json.dump(out, sys.stdout)
        """
        let answer = try #require(try TorchLayerReference.run(script: script, ["x": x, "g": g]))
        for (dtype, tolerance) in [(DType.float32, 4e-6), (.float64, 1e-12)] {
            for (approximate, form) in [(GELUApproximation.none, "none"), (.tanh, "tanh")] {
                let key = (dtype == .float32 ? "float32" : "float64") + form
                let torch = try #require(answer[key] as? [[Double]], "\(key) missing")
                let ours = geluAndGradient(x, g, approximate: approximate, dtype: dtype)
                #expect(worstError(ours.y, torch[0]) <= tolerance, "\(key): output")
                #expect(worstError(ours.gx, torch[1]) <= tolerance, "\(key): input gradient")
            }
        }
    }
}
