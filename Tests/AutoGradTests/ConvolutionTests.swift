import AutoGradTestSupport
import Testing
@testable import AutoGrad

// conv2d and convTranspose2d against direct loops written from PyTorch's definitions, gradients
// by finite differences (first and second order), the adjoint identities that tie the three
// primitives together, and the traps for bad shapes.

// MARK: Configurations

/// One conv2d configuration: input `[n, c, h, w]`, weight `[o, c/groups, kernel]`.
private struct ConvCase: CustomTestStringConvertible, Sendable {
    let label: String
    var n = 2, c = 2, o = 3, h = 6, w = 5
    var kernel = (3, 3), stride = (1, 1), padding: Conv2dPadding = .valid, dilation = (1, 1), groups = 1

    var inputShape: [Int] { [n, c, h, w] }
    var weightShape: [Int] { [o, c / groups, kernel.0, kernel.1] }
    var testDescription: String { label }

    /// Padding on (top, bottom, left, right), written out from PyTorch's definition of "same".
    var pads: (Int, Int, Int, Int) {
        switch padding {
        case .explicit(let ph, let pw): return (ph, ph, pw, pw)
        case .valid: return (0, 0, 0, 0)
        case .same:
            let th = dilation.0 * (kernel.0 - 1), tw = dilation.1 * (kernel.1 - 1)
            return (th / 2, th - th / 2, tw / 2, tw - tw / 2)
        }
    }

    func conv(_ x: Variable, _ weight: Variable, _ bias: Variable?) -> Variable {
        Variable.conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}

private let convCases: [ConvCase] = [
    ConvCase(label: "3×3, no padding"),
    ConvCase(label: "padding 1, stride (2, 3), non-square kernel, odd sizes",
             h: 7, w: 7, kernel: (3, 2), stride: (2, 3), padding: 1),
    ConvCase(label: "padding (2, 0), stride 2", n: 1, h: 5, w: 6, kernel: (2, 3), stride: (2, 2), padding: .explicit(2, 0)),
    ConvCase(label: "dilation (2, 1), padding (1, 0)", n: 1, h: 7, w: 5, kernel: (2, 3), padding: .explicit(1, 0), dilation: (2, 1)),
    ConvCase(label: "groups 2, padding 1, stride (1, 2)", c: 4, o: 4, h: 5, w: 5, stride: (1, 2), padding: 1, groups: 2),
    ConvCase(label: "depthwise (groups = channels), stride 2", c: 3, o: 3, h: 5, w: 6, stride: (2, 2), padding: 1, groups: 3),
    ConvCase(label: "same, odd kernel, dilation 2", n: 1, h: 6, w: 5, padding: .same, dilation: (2, 2)),
    ConvCase(label: "same, even kernel (asymmetric)", n: 1, h: 5, w: 4, kernel: (4, 2), padding: .same),
    ConvCase(label: "1×1 kernel, batch 1", n: 1, c: 3, o: 2, h: 4, w: 3, kernel: (1, 1)),
    ConvCase(label: "kernel as large as the input", n: 2, h: 3, w: 4, kernel: (3, 4)),
    // Stride 1 without padding takes input-width rows when the patch has at least as many rows as there are
    // output channels (Conv2dGeometry.usesWideRows): both sides of that choice, with groups and dilation.
    ConvCase(label: "wide rows, groups 2, dilation (2, 1)", n: 3, c: 4, o: 2, h: 7, w: 6, dilation: (2, 1), groups: 2),
    ConvCase(label: "stride 1, no padding, fewer patch rows than outputs", n: 2, c: 1, o: 5, h: 5, w: 6, kernel: (2, 2)),
    // Strided windows read phase planes (Im2Col.swift): kernel offsets whose a·d falls in every residue mod s.
    ConvCase(label: "stride (2, 3), dilation (3, 2), padding (3, 1)", n: 2, h: 9, w: 10, stride: (2, 3), padding: .explicit(3, 1),
             dilation: (3, 2)),
    // Output planes of 128 or more positions (not wide rows): the forward pass writes image by image in place.
    ConvCase(label: "padding 1, groups 2, 12×11 output planes", c: 4, o: 4, h: 12, w: 11, padding: 1, groups: 2),
]

/// One convTranspose2d configuration: input `[n, cIn, h, w]`, weight `[cIn, cOut/groups, kernel]`.
private struct TransposedCase: CustomTestStringConvertible, Sendable {
    let label: String
    var n = 2, cIn = 2, cOut = 3, h = 3, w = 4
    var kernel = (3, 3), stride = (1, 1), padding = (0, 0), outputPadding = (0, 0), dilation = (1, 1), groups = 1

    var inputShape: [Int] { [n, cIn, h, w] }
    var weightShape: [Int] { [cIn, cOut / groups, kernel.0, kernel.1] }
    var testDescription: String { label }

    /// `(H − 1)·s − 2p + d·(k − 1) + outputPadding + 1`.
    var outputSize: (Int, Int) {
        ((h - 1) * stride.0 - 2 * padding.0 + dilation.0 * (kernel.0 - 1) + outputPadding.0 + 1,
         (w - 1) * stride.1 - 2 * padding.1 + dilation.1 * (kernel.1 - 1) + outputPadding.1 + 1)
    }

    func convTranspose(_ x: Variable, _ weight: Variable, _ bias: Variable?) -> Variable {
        Variable.convTranspose2d(x, weight: weight, bias: bias, stride: stride, padding: padding,
                                 outputPadding: outputPadding, dilation: dilation, groups: groups)
    }
}

private let transposedCases: [TransposedCase] = [
    TransposedCase(label: "3×3, stride 1"),
    TransposedCase(label: "4×4, stride 2, padding 1 (the DCGAN upsampler)", n: 1, h: 3, w: 3, kernel: (4, 4), stride: (2, 2), padding: (1, 1)),
    TransposedCase(label: "stride (2, 3), output padding (1, 2), non-square kernel", kernel: (3, 2), stride: (2, 3), outputPadding: (1, 2)),
    TransposedCase(label: "dilation (1, 2), padding (1, 1)", h: 4, w: 3, padding: (1, 1), dilation: (1, 2)),
    TransposedCase(label: "output padding 1 below the dilation, stride 1", n: 1, h: 3, w: 3, kernel: (2, 2), outputPadding: (1, 1), dilation: (2, 2)),
    TransposedCase(label: "groups 2, stride 2", cIn: 4, cOut: 2, h: 3, w: 3, stride: (2, 2), padding: (1, 0), groups: 2),
    TransposedCase(label: "1×1 kernel, batch 1", n: 1, cIn: 3, cOut: 2, kernel: (1, 1)),
]

// MARK: Naive references

/// conv2d by its definition: `y[n,o,i,j] = b[o] + Σ W[o,c,a,b']·x[n, g·C/G + c, i·s − pTop + a·d, j·s − pLeft + b'·d]`.
private func naiveConv2d(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?, _ k: ConvCase) -> Tensor {
    let (pt, pb, pl, pr) = k.pads
    let (kh, kw) = k.kernel
    let ho = (k.h + pt + pb - k.dilation.0 * (kh - 1) - 1) / k.stride.0 + 1
    let wo = (k.w + pl + pr - k.dilation.1 * (kw - 1) - 1) / k.stride.1 + 1
    let (xs, ws, bs) = (x.doubles, weight.doubles, bias?.doubles)
    let cg = k.c / k.groups, og = k.o / k.groups
    var out = [Double](repeating: 0, count: k.n * k.o * ho * wo)
    for n in 0..<k.n {
        for o in 0..<k.o {
            let group = o / og
            for i in 0..<ho {
                for j in 0..<wo {
                    var sum = bs?[o] ?? 0
                    for c in 0..<cg {
                        for a in 0..<kh {
                            for b in 0..<kw {
                                let ih = i * k.stride.0 - pt + a * k.dilation.0, iw = j * k.stride.1 - pl + b * k.dilation.1
                                guard ih >= 0 && ih < k.h && iw >= 0 && iw < k.w else { continue }
                                sum += ws[ravel([o, c, a, b], k.weightShape)] * xs[ravel([n, group * cg + c, ih, iw], k.inputShape)]
                            }
                        }
                    }
                    out[ravel([n, o, i, j], [k.n, k.o, ho, wo])] = sum
                }
            }
        }
    }
    return Tensor(shape: [k.n, k.o, ho, wo], scalars: out, dtype: x.dtype)
}

/// convTranspose2d by scattering: each input pixel adds `x[n,ci,i,j]·W[ci,c,a,b]` at output
/// `(i·s − p + a·d, j·s − p + b·d)` of channel `g·Cout/G + c`, dropping positions outside the output.
private func naiveConvTranspose2d(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?, _ k: TransposedCase) -> Tensor {
    let (ho, wo) = k.outputSize
    let (kh, kw) = k.kernel
    let (xs, ws) = (x.doubles, weight.doubles)
    let cig = k.cIn / k.groups, cog = k.cOut / k.groups
    var out = [Double](repeating: 0, count: k.n * k.cOut * ho * wo)
    for n in 0..<k.n {
        for ci in 0..<k.cIn {
            let group = ci / cig
            for i in 0..<k.h {
                for j in 0..<k.w {
                    let v = xs[ravel([n, ci, i, j], k.inputShape)]
                    for c in 0..<cog {
                        for a in 0..<kh {
                            for b in 0..<kw {
                                let oh = i * k.stride.0 - k.padding.0 + a * k.dilation.0
                                let ow = j * k.stride.1 - k.padding.1 + b * k.dilation.1
                                guard oh >= 0 && oh < ho && ow >= 0 && ow < wo else { continue }
                                out[ravel([n, group * cog + c, oh, ow], [k.n, k.cOut, ho, wo])] += v * ws[ravel([ci, c, a, b], k.weightShape)]
                            }
                        }
                    }
                }
            }
        }
    }
    if let bias {
        let bs = bias.doubles
        for index in out.indices { out[index] += bs[unravel(index, [k.n, k.cOut, ho, wo])[1]] }
    }
    return Tensor(shape: [k.n, k.cOut, ho, wo], scalars: out, dtype: x.dtype)
}

/// `Σ a·b` over all elements.
private func inner(_ a: Tensor, _ b: Tensor) -> Double { (a * b).sum().item }

@Suite struct ConvolutionTests {
    // MARK: Forward

    @Test(arguments: convCases)
    fileprivate func conv2dMatchesTheDefinition(_ k: ConvCase) throws {
        for dtype in [DType.float64, .float32] {
            let x = sample(k.inputShape, seed: 1).to(dtype), w = sample(k.weightShape, seed: 2).to(dtype)
            let b = sample([k.o], seed: 3).to(dtype)
            let y = k.conv(Variable(x), Variable(w), Variable(b)).value
            let tolerance = dtype == .float64 ? 1e-12 : 1e-5
            #expect(y.dtype == dtype)
            let expected = naiveConv2d(x, w, b, k)
            #expect(mismatch(y, expected, atol: tolerance, rtol: tolerance) == nil, "\(k.label), \(dtype)")
            // Without bias, and through the Tensor API.
            let plain = Tensor.conv2d(x, weight: w, stride: k.stride, padding: k.padding, dilation: k.dilation, groups: k.groups)
            #expect(mismatch(plain, naiveConv2d(x, w, nil, k), atol: tolerance, rtol: tolerance) == nil, "\(k.label), \(dtype), no bias")
        }
    }

    @Test func samePaddingKeepsTheSizeAndPutsTheOddZeroAtTheBottomRight() {
        // Kernel (4, 2): 3 rows of padding (1 above, 2 below) and 1 column (0 left, 1 right), as PyTorch.
        let x = sample([1, 2, 5, 4], seed: 4), w = sample([3, 2, 4, 2], seed: 5)
        let same = Tensor.conv2d(x, weight: w, padding: .same)
        let manual = Tensor.conv2d(x.padded([(0, 0), (0, 0), (1, 2), (0, 1)], value: 0), weight: w)
        #expect(same.shape == [1, 3, 5, 4])
        #expect(mismatch(same, manual, atol: 1e-12) == nil)
        #expect(Tensor.conv2d(x, weight: w, padding: 0) == Tensor.conv2d(x, weight: w, padding: .valid))
    }

    @Test(arguments: transposedCases)
    fileprivate func convTranspose2dMatchesTheDefinition(_ k: TransposedCase) {
        for dtype in [DType.float64, .float32] {
            let x = sample(k.inputShape, seed: 6).to(dtype), w = sample(k.weightShape, seed: 7).to(dtype)
            let b = sample([k.cOut], seed: 8).to(dtype)
            let y = k.convTranspose(Variable(x), Variable(w), Variable(b)).value
            #expect(y.shape == [k.n, k.cOut, k.outputSize.0, k.outputSize.1], "\(k.label)")
            let tolerance = dtype == .float64 ? 1e-12 : 1e-5
            #expect(mismatch(y, naiveConvTranspose2d(x, w, b, k), atol: tolerance, rtol: tolerance) == nil, "\(k.label), \(dtype)")
        }
    }

    @Test func convTranspose2dOutputSizeRule() {
        // (H − 1)·s − 2p + d·(k − 1) + outputPadding + 1, for a few hand-computed cases.
        let x = Tensor.zeros([1, 2, 7, 5], dtype: .float64)
        #expect(Tensor.convTranspose2d(x, weight: .zeros([2, 1, 4, 4], dtype: .float64), stride: (2, 2), padding: (1, 1)).shape
                == [1, 1, 14, 10])
        #expect(Tensor.convTranspose2d(x, weight: .zeros([2, 3, 3, 3], dtype: .float64), stride: (2, 2), padding: (1, 1),
                                       outputPadding: (1, 0)).shape == [1, 3, 14, 9])
        #expect(Tensor.convTranspose2d(x, weight: .zeros([2, 3, 3, 2], dtype: .float64), dilation: (2, 3)).shape == [1, 3, 11, 8])
        #expect(Tensor.convTranspose2d(x, weight: .zeros([2, 2, 5, 1], dtype: .float64), stride: (3, 1), padding: (2, 0)).shape
                == [1, 2, 19, 5])
    }

    @Test func anEmptyBatchGivesAnEmptyOutputAndZeroWeightGradient() {
        let w = Variable(sample([3, 2, 3, 3], seed: 36), requiresGrad: true)
        let y = Variable.conv2d(Variable(Tensor.zeros([0, 2, 5, 5], dtype: .float64)), weight: w, padding: 1)
        #expect(y.shape == [0, 3, 5, 5])
        y.sum().backward()
        #expect(w.grad == Tensor.zeros([3, 2, 3, 3], dtype: .float64))
        #expect(Tensor.convTranspose2d(Tensor.zeros([0, 3, 2, 2]), weight: Tensor.zeros([3, 1, 2, 2]), stride: (2, 2)).shape
                == [0, 1, 4, 4])
    }

    @Test func batchChunksGiveTheSameResultAsOneFoldedProduct() {
        // A column budget of two images' columns splits a batch of 5 into chunks of 2, 2 and 1.
        let op = Conv2dOp(options: Conv2dOptions(stride: (2, 1), padding: 1, dilation: (1, 2), groups: 2,
                                                 kernelSize: (3, 2), op: "test"), outputSize: nil)
        let x = sample([5, 4, 6, 5], seed: 9), w = sample([6, 2, 3, 2], seed: 10)
        let whole = op.geometry(x.shape, w.shape)
        var chunked = whole
        chunked.columnBudget = 2 * 4 * 3 * 2 * whole.outputPlane
        chunked.minimumProductWidth = 0
        #expect(chunked.batchChunk == 2 && whole.batchChunk == 5)
        // A minimum width of three images' outputs overrides the budget, a limit of one image overrides both.
        var wide = chunked, narrow = chunked
        wide.minimumProductWidth = 3 * whole.outputPlane
        narrow.minimumProductWidth = 3 * whole.outputPlane
        narrow.columnLimit = 4 * 3 * 2 * whole.outputPlane
        #expect(wide.batchChunk == 3 && narrow.batchChunk == 1)
        let y = ConvolutionKernels.forward(x, w, whole)
        #expect(mismatch(ConvolutionKernels.forward(x, w, chunked), y, atol: 1e-12) == nil)
        let gy = sample(y.shape, seed: 11)
        #expect(mismatch(ConvolutionKernels.inputGradient(gy, w, chunked), ConvolutionKernels.inputGradient(gy, w, whole), atol: 1e-12) == nil)
        #expect(mismatch(ConvolutionKernels.weightGradient(x, gy, chunked), ConvolutionKernels.weightGradient(x, gy, whole), atol: 1e-12) == nil)
        #expect(mismatch(ConvolutionKernels.forward(x, w, wide), y, atol: 1e-12) == nil)
        #expect(mismatch(ConvolutionKernels.weightGradient(x, gy, wide), ConvolutionKernels.weightGradient(x, gy, whole), atol: 1e-12) == nil)
        // A budget of one channel's rows (6) of a two-image chunk: the input gradient runs its product and col2im
        // channel by channel, four blocks over the two groups, in Double (loops) and in Float (AVX-512 col2im,
        // where the CPU has it, writing one channel plane of each image).
        var blocked = whole
        blocked.columnBudget = 6 * 2 * whole.outputPlane
        blocked.minimumProductWidth = 2 * whole.outputPlane
        #expect(blocked.batchChunk == 2)
        #expect(mismatch(ConvolutionKernels.inputGradient(gy, w, blocked), ConvolutionKernels.inputGradient(gy, w, whole), atol: 1e-12) == nil)
        let (gyFloat, wFloat) = (gy.to(.float32), w.to(.float32))
        #expect(mismatch(ConvolutionKernels.inputGradient(gyFloat, wFloat, blocked),
                         ConvolutionKernels.inputGradient(gyFloat, wFloat, whole), atol: 1e-6) == nil)
        // The bias of the transposed convolution goes in once per chunk, after all of its blocks.
        let bias = sample([4], seed: 12)
        #expect(mismatch(ConvolutionKernels.inputGradient(gy, w, bias: bias, blocked),
                         ConvolutionKernels.inputGradient(gy, w, whole) + bias.reshaped([1, 4, 1, 1]), atol: 1e-12) == nil)
    }

    /// The Float paths that differ from Double's: the transposed weight gradient (groups with at least 32
    /// output channels and patch rows, output gradient staged position-major); for wide rows (stride 1, no
    /// padding), the forward pass and weight gradient that read the input in place (WindowRows.swift); for
    /// wide padded or strided layers, the ones that gather their windows (GatheredWindows.swift); and the
    /// input gradient of each — against the Double results, with strides and padding, groups, dilation, a
    /// 1×1 kernel and a kernel as large as the input.
    @Test func floatConvolutionPathsMatchDouble() {
        let cases: [(label: String, x: [Int], w: [Int], stride: (Int, Int), padding: Int, dilation: (Int, Int), groups: Int,
                     transposed: Bool, inPlace: Bool, gathered: Bool)] = [
            ("transposed, stride 2, padding 1", [3, 4, 7, 6], [32, 4, 3, 3], (2, 2), 1, (1, 1), 1, true, false, false),
            ("transposed, groups 2", [2, 8, 5, 5], [64, 4, 3, 3], (1, 2), 1, (1, 1), 2, true, false, false),
            ("transposed, wide rows", [2, 8, 6, 7], [32, 8, 3, 3], (1, 1), 0, (1, 1), 1, true, true, false),
            ("in place, LeNet's 3→6 5×5", [3, 3, 12, 11], [6, 3, 5, 5], (1, 1), 0, (1, 1), 1, false, true, false),
            ("in place, groups 2, dilation (2, 1)", [3, 4, 7, 6], [2, 2, 3, 3], (1, 1), 0, (2, 1), 2, false, true, false),
            ("in place, 1×1 kernel", [2, 5, 4, 3], [3, 5, 1, 1], (1, 1), 0, (1, 1), 1, false, true, false),
            ("in place, kernel as large as the input", [2, 2, 3, 4], [3, 2, 3, 4], (1, 1), 0, (1, 1), 1, false, true, false),
            // Gathered windows (GatheredWindows.swift): two parts of two chunks each with two threads; output
            // channels past a 32-wide tile; edge row tiles; filters deeper than a product slice; a weight
            // gradient over more positions than a slice.
            ("gathered, DCGAN's 4×4 stride 2 padding 1", [70, 8, 8, 7], [40, 8, 4, 4], (2, 2), 1, (1, 1), 1, true, false, true),
            ("gathered, dilation (2, 1), stride (1, 2), padding 2", [5, 4, 9, 10], [33, 4, 4, 4], (1, 2), 2, (2, 1), 1, true, false, true),
            ("gathered, filter of 1152", [2, 72, 6, 6], [32, 72, 4, 4], (2, 2), 1, (1, 1), 1, true, false, true),
            ("gathered, 2691 positions", [1, 4, 70, 40], [32, 4, 4, 4], (1, 1), 1, (1, 1), 1, true, false, true),
            // Output planes of at least 128 positions: the im2col forward pass writes image by image in place.
            ("image by image, padding 1, groups 2", [3, 4, 12, 11], [6, 2, 3, 3], (1, 1), 1, (1, 1), 2, false, false, false),
        ]
        for c in cases {
            let x = sample(c.x, seed: 30), w = sample(c.w, seed: 31)
            let op = Conv2dOp(options: Conv2dOptions(stride: c.stride, padding: .explicit(c.padding, c.padding), dilation: c.dilation,
                                                     groups: c.groups, kernelSize: (c.w[2], c.w[3]), op: "test"), outputSize: nil)
            let g = op.geometry(x.shape, w.shape)
            let (plan, doublePlan) = (ConvolutionPlan.automatic(Float.self, g), ConvolutionPlan.automatic(Double.self, g))
            #expect(g.usesWideRows == c.inPlace, "\(c.label)")
            if BLAS.floatProductRoute != .openBLAS {
                #expect((plan.weightGradient == .columnsTransposed) == (c.transposed && !c.gathered), "\(c.label): \(plan)")
                #expect((plan.forward == .windowRows) == c.inPlace, "\(c.label): \(plan)")
                #expect((plan.forward == .gatheredWindows) == c.gathered, "\(c.label): \(plan)")
                #expect((plan.weightGradient == .gatheredWindows) == c.gathered, "\(c.label): \(plan)")
            }
            #expect([.columns, .columnsPerImage].contains(doublePlan.forward) && doublePlan.inputGradient == .columns
                    && doublePlan.weightGradient == .columns, "\(c.label): Double \(doublePlan)")
            // Each path adds the bias as it writes a chunk of output.
            let gy = sample(g.outputShape, seed: 32), b = sample([g.outChannels], seed: 33), bIn = sample([g.inChannels], seed: 34)
            let (y, gw) = (ConvolutionKernels.forward(x, w, bias: b, g), ConvolutionKernels.weightGradient(x, gy, g))
            let floatY = ConvolutionKernels.forward(x.to(.float32), w.to(.float32), bias: b.to(.float32), g)
            let floatGW = ConvolutionKernels.weightGradient(x.to(.float32), gy.to(.float32), g)
            #expect(floatY.dtype == .float32 && floatGW.dtype == .float32)
            #expect(mismatch(floatY, y, atol: 1e-4, rtol: 1e-4) == nil, "\(c.label): forward")
            #expect(mismatch(floatGW, gw, atol: 1e-4, rtol: 1e-4) == nil, "\(c.label): weight gradient")
            let gx = ConvolutionKernels.inputGradient(gy, w, bias: bIn, g)
            let floatGX = ConvolutionKernels.inputGradient(gy.to(.float32), w.to(.float32), bias: bIn.to(.float32), g)
            #expect(mismatch(floatGX, gx, atol: 1e-4, rtol: 1e-4) == nil, "\(c.label): input gradient")
        }
    }

    /// The input gradient by stride phases (StridePhases.swift, Float) against Double's column matrix and col2im,
    /// with a bias: the DCGAN's shape over two parts of several chunks, stride 1 (one phase), strides (2, 1) with
    /// odd sizes and unequal padding, stride 3 with input rows no output reaches, a 33-channel edge tile; and a
    /// transposed convolution with output padding through the public API.
    @Test func stridePhasesMatchDouble() {
        let cases: [(label: String, x: [Int], w: [Int], stride: (Int, Int), padding: (Int, Int))] = [
            ("DCGAN's 4×4 stride 2 padding 1", [70, 40, 14, 14], [48, 40, 4, 4], (2, 2), (1, 1)),
            ("stride 1, 3×3, padding 1", [3, 33, 9, 8], [20, 33, 3, 3], (1, 1), (1, 1)),
            ("stride (2, 1), 4×3, padding (1, 2), odd sizes", [2, 32, 11, 9], [16, 32, 4, 3], (2, 1), (1, 2)),
            ("stride 3, 3×3, a row and column no output reaches", [2, 32, 10, 10], [64, 32, 3, 3], (3, 3), (0, 0)),
        ]
        for c in cases {
            let op = Conv2dOp(options: Conv2dOptions(stride: c.stride, padding: .explicit(c.padding.0, c.padding.1),
                                                     dilation: (1, 1), groups: 1, kernelSize: (c.w[2], c.w[3]), op: "test"),
                              outputSize: nil)
            let g = op.geometry(c.x, c.w)
            if BLAS.floatProductRoute != .openBLAS {
                #expect(ConvolutionPlan.automatic(Float.self, g).inputGradient == .stridePhases, "\(c.label)")
            }
            #expect(!ConvolutionPlan.admits(ConvolutionPlan.InputGradient.stridePhases, Double.self, g))
            let gy = sample(g.outputShape, seed: 40), w = sample(c.w, seed: 41), b = sample([c.x[1]], seed: 42)
            let expected = ConvolutionKernels.inputGradient(gy, w, bias: b, g)
            let float = ConvolutionKernels.inputGradient(gy.to(.float32), w.to(.float32), bias: b.to(.float32), g)
            #expect(float.dtype == .float32)
            #expect(mismatch(float, expected, atol: 1e-4, rtol: 1e-4) == nil, "\(c.label)")
        }
        let y = sample([3, 40, 5, 5], seed: 43), w = sample([40, 32, 4, 4], seed: 44), b = sample([32], seed: 45)
        let expected = Tensor.convTranspose2d(y, weight: w, bias: b, stride: (2, 2), padding: (1, 1), outputPadding: (1, 1))
        let float = Tensor.convTranspose2d(y.to(.float32), weight: w.to(.float32), bias: b.to(.float32), stride: (2, 2),
                                           padding: (1, 1), outputPadding: (1, 1))
        #expect(expected.shape == [3, 32, 11, 11])
        #expect(mismatch(float, expected, atol: 1e-4, rtol: 1e-4) == nil, "transposed convolution, output padding 1")
    }

    // MARK: Adjoint identities

    @Test(arguments: transposedCases)
    fileprivate func convTransposeIsTheAdjointOfConv(_ k: TransposedCase) {
        // ⟨conv(x, W), y⟩ = ⟨x, convᵀ(y, W)⟩ with one weight, stride, padding, dilation and groups.
        let w = sample(k.weightShape, seed: 12), y = sample(k.inputShape, seed: 13)
        let x = sample([k.n, k.cOut, k.outputSize.0, k.outputSize.1], seed: 14)
        let convX = Tensor.conv2d(x, weight: w, stride: k.stride, padding: .explicit(k.padding.0, k.padding.1),
                                  dilation: k.dilation, groups: k.groups)
        let transposedY = Tensor.convTranspose2d(y, weight: w, stride: k.stride, padding: k.padding,
                                                 outputPadding: k.outputPadding, dilation: k.dilation, groups: k.groups)
        if k.outputPadding.0 < k.stride.0 && k.outputPadding.1 < k.stride.1 {
            #expect(convX.shape == y.shape, "\(k.label)")
        }
        // With output padding at or above the stride, conv(x) is larger than y: the pairing covers y's extent.
        let paired = convX.sliced(axis: 2, start: 0, end: k.h, step: 1).sliced(axis: 3, start: 0, end: k.w, step: 1)
        #expect(Swift.abs(inner(paired, y) - inner(x, transposedY)) <= 1e-12 * Swift.max(1, Swift.abs(inner(paired, y))), "\(k.label)")
    }

    @Test(arguments: convCases)
    fileprivate func weightGradientIsTheAdjointInTheWeight(_ k: ConvCase) {
        // ⟨conv(x, W), y⟩ = ⟨W, weightGrad(x, y)⟩: the weight gradient of Σ conv(x, W)·y.
        let x = sample(k.inputShape, seed: 15), w = sample(k.weightShape, seed: 16)
        let out = Tensor.conv2d(x, weight: w, stride: k.stride, padding: k.padding, dilation: k.dilation, groups: k.groups)
        let y = sample(out.shape, seed: 17)
        let gw = gradients([w]) { k.conv(Variable(x), $0[0], nil) * Variable(y) }[0]
        #expect(Swift.abs(inner(out, y) - inner(w, gw)) <= 1e-12 * Swift.max(1, Swift.abs(inner(out, y))), "\(k.label)")
    }

    // MARK: Gradients

    @Test(arguments: convCases)
    fileprivate func conv2dGradients(_ k: ConvCase) {
        let inputs = [sample(k.inputShape, seed: 18), sample(k.weightShape, seed: 19), sample([k.o], seed: 20)]
        expectGradients("conv2d \(k.label)", inputs) { k.conv($0[0], $0[1], $0[2]) }
    }

    @Test(arguments: transposedCases)
    fileprivate func convTranspose2dGradients(_ k: TransposedCase) {
        let inputs = [sample(k.inputShape, seed: 21), sample(k.weightShape, seed: 22), sample([k.cOut], seed: 23)]
        expectGradients("convTranspose2d \(k.label)", inputs) { k.convTranspose($0[0], $0[1], $0[2]) }
    }

    @Test func secondOrderGradients() {
        // gradgradcheck covers all three primitives: the gradient of conv2d is a ConvTranspose2d and a
        // Conv2dWeightGrad, whose own gradients must be right for this to pass.
        let conv = ConvCase(label: "groups 2, stride (2, 1), dilation (1, 2), padding 1",
                            n: 2, c: 2, o: 2, h: 4, w: 5, kernel: (2, 2), stride: (2, 1), padding: 1, dilation: (1, 2), groups: 2)
        let convInputs = [sample(conv.inputShape, seed: 24), sample(conv.weightShape, seed: 25), sample([conv.o], seed: 26)]
        expectGradients("conv2d", convInputs, secondOrder: true) { conv.conv($0[0], $0[1], $0[2]) }
        let same = ConvCase(label: "same, even kernel", n: 1, c: 1, o: 2, h: 3, w: 4, kernel: (2, 3), padding: .same)
        expectGradients("conv2d", [sample(same.inputShape, seed: 27), sample(same.weightShape, seed: 28)], secondOrder: true) {
            same.conv($0[0], $0[1], nil)
        }
        let transposed = TransposedCase(label: "stride 2, output padding 1", n: 1, cIn: 2, cOut: 2, h: 2, w: 3,
                                        kernel: (3, 2), stride: (2, 2), padding: (1, 0), outputPadding: (1, 1))
        let transposedInputs = [sample(transposed.inputShape, seed: 29), sample(transposed.weightShape, seed: 30),
                                sample([transposed.cOut], seed: 31)]
        expectGradients("convTranspose2d", transposedInputs, secondOrder: true) { transposed.convTranspose($0[0], $0[1], $0[2]) }
        let dilated = TransposedCase(label: "groups 2, output padding below the dilation", n: 1, cIn: 2, cOut: 2, h: 2, w: 2,
                                     kernel: (2, 2), outputPadding: (1, 0), dilation: (2, 1), groups: 2)
        expectGradients("convTranspose2d", [sample(dilated.inputShape, seed: 32), sample(dilated.weightShape, seed: 33)],
                        secondOrder: true) { dilated.convTranspose($0[0], $0[1], nil) }
    }

    @Test func gradientPenaltyThroughAConvolutionMatchesFiniteDifferences() {
        // WGAN-GP's term: ‖∂D/∂x‖² for D(x) = Σ tanh(conv(x, W)), differentiated in W.
        let x = sample([1, 2, 4, 4], seed: 34)
        expectGradients("gradient penalty", [sample([2, 2, 3, 3], seed: 35)]) { w in
            let input = Variable(x, requiresGrad: true)
            let d = Variable.conv2d(input, weight: w[0], stride: (2, 2), padding: 1).tanh().sum()
            let gx = Graph.gradients(of: d, withRespectTo: [input], createGraph: true)[0]
            return gx.squared().sum()
        }
    }

    // MARK: Traps

    @Test func channelMismatchTraps() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor.conv2d(Tensor.zeros([1, 3, 5, 5]), weight: Tensor.zeros([4, 2, 3, 3]))
        }
    }

    @Test func kernelLargerThanThePaddedInputTraps() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor.conv2d(Tensor.zeros([1, 1, 2, 5]), weight: Tensor.zeros([1, 1, 3, 3]), padding: .explicit(0, 1))
        }
    }

    @Test func outputPaddingNotBelowStrideOrDilationTraps() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor.convTranspose2d(Tensor.zeros([1, 2, 3, 3]), weight: Tensor.zeros([2, 1, 3, 3]), stride: (2, 2),
                                       outputPadding: (2, 0))
        }
    }
}

extension ConvolutionTests {
    /// Geometries that between them admit every route (ConvolutionPlan): wide rows, gathered windows with
    /// dilation and uneven strides, stride phases with unequal padding, groups, output planes past 128 positions.
    static let routeCases: [(label: String, x: [Int], w: [Int], stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int),
                             groups: Int)] = [
        ("DCGAN's 4×4 stride 2 padding 1", [5, 8, 8, 7], [40, 8, 4, 4], (2, 2), (1, 1), (1, 1), 1),
        ("dilation (2, 1), stride (1, 2), padding 2", [3, 4, 9, 10], [33, 4, 4, 4], (1, 2), (2, 2), (2, 1), 1),
        ("stride (2, 1), 4×3, padding (1, 2)", [2, 32, 11, 9], [16, 32, 4, 3], (2, 1), (1, 2), (1, 1), 1),
        ("wide rows, LeNet's 3→6 5×5", [3, 3, 12, 11], [6, 3, 5, 5], (1, 1), (0, 0), (1, 1), 1),
        ("wide rows, groups 2, dilation (2, 1)", [3, 4, 7, 6], [2, 2, 3, 3], (1, 1), (0, 0), (2, 1), 2),
        ("planes of 132, padding 1, groups 2", [3, 4, 12, 11], [6, 2, 3, 3], (1, 1), (1, 1), (1, 1), 2),
        ("stride 3, rows no output reaches", [2, 6, 10, 10], [8, 6, 3, 3], (3, 3), (0, 0), (1, 1), 1),
    ]

    /// Every route each geometry admits, in Float at the calling thread's instruction-set level, against the
    /// Double result (which takes the column-matrix routes), each with a bias.
    static func everyRouteMatchesDouble() {
        for c in routeCases {
            let op = Conv2dOp(options: Conv2dOptions(stride: c.stride, padding: .explicit(c.padding.0, c.padding.1),
                                                     dilation: c.dilation, groups: c.groups, kernelSize: (c.w[2], c.w[3]),
                                                     op: "test"), outputSize: nil)
            let g = op.geometry(c.x, c.w)
            let x = sample(c.x, seed: 50), w = sample(c.w, seed: 51), gy = sample(g.outputShape, seed: 52)
            let b = sample([g.outChannels], seed: 53), bIn = sample([g.inChannels], seed: 54)
            let (xf, wf, gyf) = (x.to(.float32), w.to(.float32), gy.to(.float32))
            let y = ConvolutionKernels.forward(x, w, bias: b, g), gx = ConvolutionKernels.inputGradient(gy, w, bias: bIn, g)
            let gw = ConvolutionKernels.weightGradient(x, gy, g)
            var base = ConvolutionPlan(forward: .columns, inputGradient: .columns, weightGradient: .columns)
            var routes = 0
            for route in ConvolutionPlan.Forward.allCases where ConvolutionPlan.admits(route, Float.self, g) {
                base.forward = route
                let result = ConvolutionKernels.forward(xf, wf, bias: b.to(.float32), g, plan: base)
                #expect(mismatch(result, y, atol: 1e-4, rtol: 1e-4) == nil, "\(c.label): forward \(route) at \(InstructionSet.active)")
                routes += 1
            }
            for route in ConvolutionPlan.InputGradient.allCases where ConvolutionPlan.admits(route, Float.self, g) {
                base.inputGradient = route
                let result = ConvolutionKernels.inputGradient(gyf, wf, bias: bIn.to(.float32), g, plan: base)
                #expect(mismatch(result, gx, atol: 1e-4, rtol: 1e-4) == nil,
                        "\(c.label): input gradient \(route) at \(InstructionSet.active)")
                routes += 1
            }
            for route in ConvolutionPlan.WeightGradient.allCases where ConvolutionPlan.admits(route, Float.self, g) {
                base.weightGradient = route
                let result = ConvolutionKernels.weightGradient(xf, gyf, g, plan: base)
                #expect(mismatch(result, gw, atol: 1e-4, rtol: 1e-4) == nil,
                        "\(c.label): weight gradient \(route) at \(InstructionSet.active)")
                routes += 1
            }
            #expect(routes >= 5, "\(c.label): \(routes) routes")
        }
    }

    /// Every forward route is admitted by some geometry of ``routeCases``, and so is every gradient route.
    @Test func routeCasesCoverEveryRoute() {
        let geometries = Self.routeCases.map { c in
            Conv2dOp(options: Conv2dOptions(stride: c.stride, padding: .explicit(c.padding.0, c.padding.1), dilation: c.dilation,
                                            groups: c.groups, kernelSize: (c.w[2], c.w[3]), op: "test"), outputSize: nil)
                .geometry(c.x, c.w)
        }
        for route in ConvolutionPlan.Forward.allCases {
            #expect(geometries.contains { ConvolutionPlan.admits(route, Float.self, $0) }, "\(route)")
        }
        for route in ConvolutionPlan.InputGradient.allCases {
            #expect(geometries.contains { ConvolutionPlan.admits(route, Float.self, $0) }, "\(route)")
        }
        for route in ConvolutionPlan.WeightGradient.allCases {
            #expect(geometries.contains { ConvolutionPlan.admits(route, Float.self, $0) }, "\(route)")
        }
    }

    /// A plan that the geometry does not admit traps with the plan and the geometry in the message.
    @Test func aPlanTheGeometryDoesNotAdmitTraps() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let g = Conv2dOp(options: Conv2dOptions(stride: (1, 1), padding: .explicit(1, 1), dilation: (1, 1), groups: 1,
                                                    kernelSize: (3, 3), op: "test"), outputSize: nil).geometry([1, 2, 5, 5], [4, 2, 3, 3])
            let plan = ConvolutionPlan(forward: .windowRows, inputGradient: .columns, weightGradient: .columns)
            _ = ConvolutionKernels.forward(Tensor.zeros([1, 2, 5, 5], dtype: .float32), Tensor.zeros([4, 2, 3, 3], dtype: .float32),
                                           g, plan: plan)
        }
        let text = result.map { String(decoding: $0.standardErrorContent, as: UTF8.self) } ?? ""
        #expect(text.contains("conv2d: plan (forward windowRows") && text.contains("does not fit Float"), "\(text)")
    }
}
