import AutoGrad
import CKernels

/// The integer part of a quantised 2-D convolution: the input quantised to unsigned bytes, padded with the code of 0,
/// unfolded into one row per output position (im2row), and multiplied with the int8 filters of each group in
/// CKernels' `ck_gemm_u8s8s32`, which sums exactly in 32 bits. PyTorch's geometry: see ``Conv2d``.
///
/// Rows, not im2col's columns: the kernel takes the activations as `[m, k]` rows and the weights as `[n, k]` rows,
/// so a row per output position with its `k = inChannels/groups · kH · kW` taps contiguous is what it reads.
struct Int8Convolution {
    /// Every tap's hyper-parameter, as the Float layer has it.
    let inChannels: Int, outChannels: Int, groups: Int
    let kernelSize: (Int, Int), stride: (Int, Int), dilation: (Int, Int)
    let padding: Conv2dPadding
    /// `[outChannels, inChannels/groups · kH · kW]`.
    private(set) var weights: Int8Weights
    /// ``weights`` with rows padded to ``weightPitch``.
    private(set) var paddedWeights: [Int8]
    /// The weight rows' pitch: the depth rounded up to the widest step of `ck_gemm_u8s8s32` (VNNI's 64 bytes), so one
    /// copy serves the step of every level (a narrower level reads a prefix of each row).
    let weightPitch: Int

    /// The depth `k` of the product: the taps of one group.
    var depth: Int { inChannels / groups * kernelSize.0 * kernelSize.1 }

    /// `conv`'s geometry with `weights` (`[outChannels, inChannels/groups · kH · kW]`).
    init(_ conv: Conv2d, weights: Int8Weights) {
        (inChannels, outChannels, groups) = (conv.inChannels, conv.outChannels, conv.groups)
        (kernelSize, stride, dilation, padding) = (conv.kernelSize, conv.stride, conv.dilation, conv.padding)
        self.weights = weights
        weightPitch = (weights.columns + 63) / 64 * 64
        paddedWeights = weights.paddedValues(pitch: weightPitch)
    }

    /// Replaces the weights with others of the same shape (loaded ones).
    mutating func replaceWeights(_ weights: Int8Weights) {
        precondition(weights.rows == self.weights.rows && weights.columns == self.weights.columns,
                     "Int8Convolution.replaceWeights: \(weights.rows)×\(weights.columns) weights for a \(self.weights.rows)×\(self.weights.columns) layer")
        self.weights = weights
        paddedWeights = weights.paddedValues(pitch: weightPitch)
    }

    /// The convolution of `batch` images `[inChannels, height, width]` at `x` (`g` from ``geometry(height:width:layer:)``),
    /// quantised by `activation`, with the sums dequantised by `dequantization` into `y` (`[batch, outChannels, Ho, Wo]`,
    /// or with `maxPool2x2` the maxima of its 2 × 2 windows at stride 2, `[batch, outChannels, ⌊Ho/2⌋, ⌊Wo/2⌋]`; every
    /// element written): each image's and group's `[positions, outputs]` block is dequantised row-major into scratch,
    /// where it vectorises, and transposed into the output planes — or, to be pooled, into planes in scratch that
    /// CKernels' 2 × 2 max pool reads into the output, so the full-size output is never written.
    func convolve(_ x: UnsafePointer<Float>, batch: Int, height: Int, width: Int, _ g: Geometry,
                  activation: ActivationQuantization, dequantization: ProductDequantization, maxPool2x2: Bool = false,
                  into y: UnsafeMutablePointer<Float>) {
        let groupOutputs = outChannels / groups
        let (pooledHeight, pooledWidth) = (g.outputHeight / 2, g.outputWidth / 2)
        forEachProduct(x, batch: batch, height: height, width: width, g, activation: activation) { image, group, sums, scratch in
            dequantization.apply(sums, rows: g.positions, outputs: group * groupOutputs..<(group + 1) * groupOutputs,
                                 into: scratch, rowStride: groupOutputs)
            let firstPlane = image * outChannels + group * groupOutputs
            guard maxPool2x2 else {
                ck_transpose_f32(g.positions, groupOutputs, scratch, groupOutputs, y + firstPlane * g.positions, g.positions)
                return
            }
            let planes = scratch + g.positions * groupOutputs
            ck_transpose_f32(g.positions, groupOutputs, scratch, groupOutputs, planes, g.positions)
            let pooled = ck_max_pool_2x2_f32(planes, groupOutputs, g.outputHeight, g.outputWidth, pooledHeight, pooledWidth,
                                             y + firstPlane * pooledHeight * pooledWidth, nil)
            precondition(pooled != 0, "Int8Convolution: an output plane of \(g.outputHeight)×\(g.outputWidth) is too large to pool")
        }
    }

    /// The sizes of a convolution of a `height × width` input.
    struct Geometry {
        let top: Int, left: Int
        /// The padded input plane.
        let paddedHeight: Int, paddedWidth: Int
        let outputHeight: Int, outputWidth: Int
        var positions: Int { outputHeight * outputWidth }
    }

    /// The geometry for an input plane of `height × width`.
    ///
    /// - Precondition: the padded input is at least as large as the dilated kernel.
    func geometry(height: Int, width: Int, layer: String) -> Geometry {
        let output = padding.outputSize(inputSize: (height, width), kernelSize: kernelSize, stride: stride,
                                        dilation: dilation, op: layer)
        let pads = output.pads
        return Geometry(top: pads.top, left: pads.left, paddedHeight: height + pads.top + pads.bottom,
                        paddedWidth: width + pads.left + pads.right, outputHeight: output.height, outputWidth: output.width)
    }

    /// Quantises `batch` images `[inChannels, height, width]` at `x` (`g` from ``geometry(height:width:layer:)``) by
    /// `activation` and calls
    /// `body(image, group, sums, scratch)` with each image's and group's sums `Σ q·w` (`[positions,
    /// outChannels/groups]`, row-major; padding reads the code of 0) and Float scratch of twice that size. The zero point's share is still in the sums: subtract
    /// `zeroPoint · rowSums` (``ProductDequantization`` does). Images are split over threads; `body` must only
    /// write what belongs to its image.
    func forEachProduct(_ x: UnsafePointer<Float>, batch: Int, height: Int, width: Int, _ g: Geometry,
                        activation: ActivationQuantization,
                        _ body: (_ image: Int, _ group: Int, _ sums: UnsafePointer<Int32>, _ scratch: UnsafeMutablePointer<Float>) -> Void) {
        let plane = g.paddedHeight * g.paddedWidth
        var codes = [UInt8](repeating: UInt8(activation.zeroPoint), count: batch * inChannels * plane)
        codes.withUnsafeMutableBufferPointer { codes in
            let q = codes.baseAddress!
            if g.paddedHeight == height && g.paddedWidth == width {
                activation.quantize(x, q, count: batch * inChannels * plane)
            } else {
                for p in 0..<(batch * inChannels) {
                    for r in 0..<height {
                        activation.quantize(x + (p * height + r) * width, q + p * plane + (g.top + r) * g.paddedWidth + g.left,
                                            count: width)
                    }
                }
            }
        }
        // Rounded up to the kernel's step on this thread: the rest of a row would run a byte at a time.
        let pitch = Swift.min(ck_gemm_u8s8s32_padded_depth(depth), weightPitch)
        let groupOutputs = outChannels / groups
        codes.withUnsafeBufferPointer { codes in
            paddedWeights.withUnsafeBufferPointer { w in
                Parallel.forEachPart(batch, work: batch * g.positions * (depth + outChannels)) { images in
                    // Zeroed once: the columns past the depth are never written and meet zero weights.
                    var rows = [UInt8](repeating: 0, count: g.positions * pitch)
                    var sums = [Int32](repeating: 0, count: g.positions * groupOutputs)
                    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * g.positions * groupOutputs)
                    defer { scratch.deallocate() }
                    rows.withUnsafeMutableBufferPointer { rows in
                        sums.withUnsafeMutableBufferPointer { sums in
                            for image in images {
                                for group in 0..<groups {
                                    let channels = codes.baseAddress! + (image * inChannels + group * (inChannels / groups)) * plane
                                    unfold(channels, g, into: rows.baseAddress!, pitch: pitch)
                                    ck_gemm_u8s8s32(g.positions, groupOutputs, pitch, rows.baseAddress!, pitch,
                                                    w.baseAddress! + group * groupOutputs * weightPitch, weightPitch,
                                                    sums.baseAddress!, groupOutputs)
                                    body(image, group, sums.baseAddress!, scratch)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// im2row of one group's padded planes at `codes`: row `i·Wo + j` gets the tap `(c, a, b)` at column
    /// `(c·kH + a)·kW + b`, read at `(i·s₀ + a·d₀, j·s₁ + b·d₁)` of plane `c`. The padding is in the planes, so no
    /// read needs a bounds test.
    private func unfold(_ codes: UnsafePointer<UInt8>, _ g: Geometry, into rows: UnsafeMutablePointer<UInt8>, pitch: Int) {
        let plane = g.paddedHeight * g.paddedWidth
        for c in 0..<(inChannels / groups) {
            for a in 0..<kernelSize.0 {
                for b in 0..<kernelSize.1 {
                    let column = (c * kernelSize.0 + a) * kernelSize.1 + b
                    let tap = codes + c * plane + a * dilation.0 * g.paddedWidth + b * dilation.1
                    for i in 0..<g.outputHeight {
                        let source = tap + i * stride.0 * g.paddedWidth
                        let target = rows + i * g.outputWidth * pitch + column
                        for j in 0..<g.outputWidth { target[j * pitch] = source[j * stride.1] }
                    }
                }
            }
        }
    }
}
