import Foundation
import AutoGradTestSupport
import Testing
@testable import AutoGrad

// conv1d (a height-1 conv2d) and nearest/linear/bilinear upsampling: values against naive definitions,
// finite differences to second order, PyTorch on the same inputs, and traps naming the op and shapes.

/// `y[n, o, i] = b[o] + Σ_{c, a} W[o, c, a] · x[n, g·C/G + c, i·s − p + a·d]`, by loops.
private func naiveConv1d(_ x: Tensor, _ w: Tensor, _ b: Tensor?, stride s: Int, pad p: (Int, Int), dilation d: Int,
                         groups: Int) -> Tensor {
    let (n, c, l) = (x.shape[0], x.shape[1], x.shape[2]), (o, cg, k) = (w.shape[0], w.shape[1], w.shape[2])
    let lo = (l + p.0 + p.1 - d * (k - 1) - 1) / s + 1
    var y = [Double](repeating: 0, count: n * o * lo)
    for b0 in 0..<n { for oc in 0..<o { for i in 0..<lo {
        let g = oc / (o / groups)
        var sum = b.map { $0[oc] } ?? 0
        for ci in 0..<cg { for a in 0..<k {
            let pos = i * s - p.0 + a * d
            if pos >= 0 && pos < l { sum += w[oc, ci, a] * x[b0, g * cg + ci, pos] }
        } }
        y[(b0 * o + oc) * lo + i] = sum
    } } }
    _ = c
    return Tensor(shape: [n, o, lo], scalars: y)
}

private struct Conv1dCase {
    var input: [Int], weight: [Int], bias: Bool, stride: Int, padding: Conv1dPadding, dilation: Int, groups: Int
    var torchPadding: String {
        switch padding {
        case .explicit(let p): return "\(p)"
        case .valid: return "'valid'"
        case .same: return "'same'"
        }
    }
}

private let conv1dCases = [
    Conv1dCase(input: [2, 3, 7], weight: [4, 3, 3], bias: true, stride: 1, padding: .valid, dilation: 1, groups: 1),
    Conv1dCase(input: [2, 4, 9], weight: [6, 2, 3], bias: true, stride: 2, padding: 1, dilation: 2, groups: 2),
    Conv1dCase(input: [1, 2, 6], weight: [3, 2, 4], bias: false, stride: 1, padding: .same, dilation: 1, groups: 1),
    Conv1dCase(input: [1, 3, 8], weight: [3, 1, 3], bias: true, stride: 1, padding: .same, dilation: 2, groups: 3),
    Conv1dCase(input: [2, 1, 5], weight: [2, 1, 5], bias: true, stride: 3, padding: 2, dilation: 1, groups: 1),
    Conv1dCase(input: [1, 2, 1], weight: [1, 2, 1], bias: true, stride: 1, padding: .valid, dilation: 1, groups: 1),
]

@Suite struct Conv1dTests {
    private func inputs(_ c: Conv1dCase, seed: UInt64) -> [Tensor] {
        [sample(c.input, seed: seed), sample(c.weight, seed: seed + 1)] + (c.bias ? [sample([c.weight[0]], seed: seed + 2)] : [])
    }

    private func apply(_ c: Conv1dCase, _ v: [Variable]) -> Variable {
        Variable.conv1d(v[0], weight: v[1], bias: v.count > 2 ? v[2] : nil, stride: c.stride, padding: c.padding,
                        dilation: c.dilation, groups: c.groups)
    }

    @Test func valuesMatchTheDefinition() {
        for (i, c) in conv1dCases.enumerated() {
            let x = inputs(c, seed: 1200 + 10 * UInt64(i))
            let pad = c.padding.amounts(kernel: c.weight[2], dilation: c.dilation)
            let expected = naiveConv1d(x[0], x[1], c.bias ? x[2] : nil, stride: c.stride, pad: pad, dilation: c.dilation, groups: c.groups)
            #expect(mismatch(apply(c, x.map { Variable($0) }).value, expected) == nil, "case \(i)")
            let floats = Tensor.conv1d(x[0].to(.float32), weight: x[1].to(.float32), bias: c.bias ? x[2].to(.float32) : nil, stride: c.stride,
                                       padding: c.padding, dilation: c.dilation, groups: c.groups)
            #expect(floats.dtype == .float32 && mismatch(floats, expected, atol: 1e-5, rtol: 1e-5) == nil, "float32 case \(i)")
        }
    }

    @Test func gradientsMatchFiniteDifferences() {
        for (i, c) in conv1dCases.enumerated() {
            expectGradients("conv1d case \(i)", inputs(c, seed: 1300 + 10 * UInt64(i)), secondOrder: true) { apply(c, $0).squared() }
        }
    }

    @Test(.enabled(if: TorchReference.isAvailable, TorchReference.skipReason))
    func matchesTorch() throws {
        try compareWithTorch(conv1dCases.enumerated().map { i, c in
            let bias = c.bias ? "x[2]" : "None"
            return TorchComparison("torch.nn.functional.conv1d(x[0], x[1], \(bias), stride=\(c.stride), padding=\(c.torchPadding), dilation=\(c.dilation), groups=\(c.groups))",
                                   inputs(c, seed: 1400 + 10 * UInt64(i)), seed: 1450 + UInt64(i)) { apply(c, $0) }
        })
    }

    @Test func badArgumentsTrapNamingConv1dAndTheShapes() async {
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.conv1d(Tensor.zeros([2, 3, 5, 1]), weight: Tensor.zeros([4, 3, 3]))
        }, mentions: ["conv1d", "[N, C, L]", "[2, 3, 5, 1]"])
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.conv1d(Tensor.zeros([2, 3, 5]), weight: Tensor.zeros([4, 2, 3]))
        }, mentions: ["conv1d", "[2, 3, 5]", "[4, 2, 3]"])
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.conv1d(Tensor.zeros([1, 1, 2]), weight: Tensor.zeros([1, 1, 3]))
        }, mentions: ["conv1d", "padded input length 2", "dilated kernel 3"])
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.conv1d(Tensor.zeros([1, 1, 5]), weight: Tensor.zeros([1, 1, 3]), stride: 2, padding: .same)
        }, mentions: ["conv1d", ".same needs stride 1"])
    }
}

private struct UpsampleCase {
    var shape: [Int], size: [Int]?, scale: Double?, mode: UpsampleMode, alignCorners: Bool
    var torch: String {
        let target = size.map { "size=\($0.count == 1 ? "\($0[0])" : "(\($0.map(String.init).joined(separator: ", ")))")" } ?? "scale_factor=\(scale!)"
        let corners = mode == .nearest ? "" : ", align_corners=\(alignCorners ? "True" : "False")"
        return "torch.nn.functional.interpolate(x[0], \(target), mode='\(mode.rawValue)'\(corners))"
    }
    func apply(_ x: Variable) -> Variable {
        if let size { return x.upsample(size: size, mode: mode, alignCorners: alignCorners) }
        return x.upsample(scaleFactor: scale!, mode: mode, alignCorners: alignCorners)
    }
}

private let upsampleCases: [UpsampleCase] = [
    UpsampleCase(shape: [2, 3, 4, 5], size: [8, 10], scale: nil, mode: .nearest, alignCorners: false),
    UpsampleCase(shape: [1, 2, 3, 4], size: [7, 5], scale: nil, mode: .nearest, alignCorners: false),
    UpsampleCase(shape: [1, 2, 6, 10], size: [4, 6], scale: nil, mode: .nearest, alignCorners: false),
    UpsampleCase(shape: [1, 2, 3, 4], size: nil, scale: 1.7, mode: .nearest, alignCorners: false),
    UpsampleCase(shape: [2, 2, 5], size: [9], scale: nil, mode: .nearest, alignCorners: false),
    UpsampleCase(shape: [2, 3, 4, 5], size: [8, 10], scale: nil, mode: .bilinear, alignCorners: false),
    UpsampleCase(shape: [1, 2, 3, 4], size: [7, 5], scale: nil, mode: .bilinear, alignCorners: true),
    UpsampleCase(shape: [1, 2, 6, 7], size: [4, 3], scale: nil, mode: .bilinear, alignCorners: false),
    UpsampleCase(shape: [1, 1, 3, 3], size: nil, scale: 2.5, mode: .bilinear, alignCorners: false),
    UpsampleCase(shape: [1, 1, 3, 3], size: nil, scale: 2, mode: .bilinear, alignCorners: true),
    UpsampleCase(shape: [1, 2, 1, 1], size: [3, 2], scale: nil, mode: .bilinear, alignCorners: true),
    UpsampleCase(shape: [2, 2, 5], size: [12], scale: nil, mode: .linear, alignCorners: false),
    UpsampleCase(shape: [2, 2, 5], size: [3], scale: nil, mode: .linear, alignCorners: true),
    UpsampleCase(shape: [0, 2, 3, 3], size: [6, 6], scale: nil, mode: .bilinear, alignCorners: false),
]

@Suite struct UpsampleTests {
    @Test func gradientsMatchFiniteDifferences() {
        for (i, c) in upsampleCases.enumerated() {
            expectGradients("upsample case \(i) (\(c.torch))", [sample(c.shape, seed: 1500 + UInt64(i))], secondOrder: true) {
                c.apply($0[0]).squared()
            }
        }
    }

    /// Exact values: nearest repeats samples; bilinear with aligned corners reproduces a linear ramp exactly
    /// and keeps the corners; the adjoint sums the gradient of each repeated sample.
    @Test func valuesAndAdjointAreExact() {
        let x = Tensor(shape: [1, 1, 2, 2], scalars: [1.0, 2, 3, 4])
        #expect(mismatch(x.upsample(scaleFactor: 2), shape: [1, 1, 4, 4], [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], atol: 0, rtol: 0) == nil)
        let g = gradients([x]) { $0[0].upsample(size: [4, 6]) }
        #expect(mismatch(g[0], shape: [1, 1, 2, 2], [6, 6, 6, 6], atol: 0, rtol: 0) == nil)
        let ramp = Tensor(shape: [1, 1, 2, 3], scalars: [0.0, 1, 2, 10, 11, 12])
        let fine = ramp.upsample(size: [3, 5], mode: .bilinear, alignCorners: true)
        #expect(mismatch(fine, shape: [1, 1, 3, 5], [0, 0.5, 1, 1.5, 2, 5, 5.5, 6, 6.5, 7, 10, 10.5, 11, 11.5, 12], atol: 1e-14) == nil)
        // Without aligned corners, the first output sits at source −¼, clamped to the first sample.
        let line = Tensor(shape: [1, 1, 2], scalars: [0.0, 4])
        #expect(mismatch(line.upsample(size: [4], mode: .linear), shape: [1, 1, 4], [0, 1, 3, 4], atol: 1e-14) == nil)
        // Nearest reads no neighbour: an infinite sample next to a read one does not leak.
        let spike = Tensor(shape: [1, 1, 3], scalars: [1.0, .infinity, 2])
        #expect(spike.upsample(size: [6]).doubles == [1, 1, .infinity, .infinity, 2, 2])
        #expect(spike.upsample(size: [4]).doubles == [1, 1, .infinity, 2])
        #expect(Variable(x, requiresGrad: true).upsample(scaleFactor: 2).opName == "Upsample")
        let grad = OpInventoryTests.gradientGraph([Variable(x, requiresGrad: true)]) { $0[0].upsample(scaleFactor: 2, mode: .bilinear).squared() }
        #expect(OpInventoryTests.recordedOps(grad[0]).contains { $0 is UpsampleAdjoint })
    }

    @Test(.enabled(if: TorchReference.isAvailable, TorchReference.skipReason))
    func matchesTorch() throws {
        try compareWithTorch(upsampleCases.enumerated().map { i, c in
            TorchComparison(c.torch, [sample(c.shape, seed: 1600 + UInt64(i))], seed: 1650 + UInt64(i)) { c.apply($0[0]) }
        })
    }

    @Test func badArgumentsTrapNamingTheModeAndShape() async {
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 1, 4]).upsample(size: [8], mode: .bilinear)
        }, mentions: ["upsample(bilinear)", "[N, C, H, W]", "[1, 1, 4]"])
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 1, 4, 4]).upsample(size: [8], mode: .nearest)
        }, mentions: ["upsample(nearest)", "[8]", "[1, 1, 4, 4]"])
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 1, 4, 4]).upsample(size: [8, 8], alignCorners: true)
        }, mentions: ["upsample(nearest)", "alignCorners"])
        expectTrapMessage(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 1, 4, 4]).upsample(scaleFactor: -2)
        }, mentions: ["upsample(nearest)", "scale factors [-2.0, -2.0]"])
    }
}
