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
    /// element written): each image's and group's `[positions, outputs]` block of sums goes straight into its output
    /// planes (``ProductDequantization/applyToPlanes(_:height:width:outputs:maxPool2x2:into:)``), pooled on the sums,
    /// so the full-size output is never written.
    func convolve(_ x: UnsafePointer<Float>, batch: Int, height: Int, width: Int, _ g: Geometry,
                  activation: ActivationQuantization, dequantization: ProductDequantization, maxPool2x2: Bool = false,
                  into y: UnsafeMutablePointer<Float>) {
        let groupOutputs = outChannels / groups
        let planeSize = maxPool2x2 ? (g.outputHeight / 2) * (g.outputWidth / 2) : g.positions
        forEachProduct(x, batch: batch, height: height, width: width, g, activation: activation) { image, group, sums in
            dequantization.applyToPlanes(sums, height: g.outputHeight, width: g.outputWidth,
                                         outputs: group * groupOutputs..<(group + 1) * groupOutputs, maxPool2x2: maxPool2x2,
                                         into: y + (image * outChannels + group * groupOutputs) * planeSize)
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
    /// `body(image, group, sums)` with each image's and group's sums `Σ q·w` (`[positions, outChannels/groups]`,
    /// row-major; padding reads the code of 0). The zero point's share is still in the sums: subtract
    /// `zeroPoint · rowSums` (``ProductDequantization`` does). Images are split over threads; `body` must only
    /// write what belongs to its image.
    func forEachProduct(_ x: UnsafePointer<Float>, batch: Int, height: Int, width: Int, _ g: Geometry,
                        activation: ActivationQuantization,
                        _ body: (_ image: Int, _ group: Int, _ sums: UnsafePointer<Int32>) -> Void) {
        let plane = g.paddedHeight * g.paddedWidth
        // With the slack ``unfold(_:_:kernelRows:into:pitch:)``'s 8-byte reads run into past the last plane.
        var codes = [UInt8](repeating: UInt8(activation.zeroPoint), count: batch * inChannels * plane + Self.unfoldSlack)
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
        let kernelRows = kernelRowOffsets(g)
        codes.withUnsafeBufferPointer { codes in
            paddedWeights.withUnsafeBufferPointer { w in
                Parallel.forEachPart(batch, work: batch * g.positions * (depth + outChannels)) { images in
                    // Zeroed once; the columns past the depth meet zero weights, so what ``unfold(_:_:kernelRows:into:pitch:)``
                    // writes there adds nothing. The slack takes its last 8-byte copy's overrun.
                    var rows = [UInt8](repeating: 0, count: g.positions * pitch + Self.unfoldSlack)
                    var sums = [Int32](repeating: 0, count: g.positions * groupOutputs)
                    rows.withUnsafeMutableBufferPointer { rows in
                        sums.withUnsafeMutableBufferPointer { sums in
                            for image in images {
                                for group in 0..<groups {
                                    let channels = codes.baseAddress! + (image * inChannels + group * (inChannels / groups)) * plane
                                    unfold(channels, g, kernelRows: kernelRows, into: rows.baseAddress!, pitch: pitch)
                                    ck_gemm_u8s8s32(g.positions, groupOutputs, pitch, rows.baseAddress!, pitch,
                                                    w.baseAddress! + group * groupOutputs * weightPitch, weightPitch,
                                                    sums.baseAddress!, groupOutputs)
                                    body(image, group, sums.baseAddress!)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Where each kernel row `(c, a)` of a group starts in its padded planes, relative to a window's origin:
    /// `c·plane + a·d₀·paddedWidth`, in the order of the row's columns.
    private func kernelRowOffsets(_ g: Geometry) -> [Int] {
        let plane = g.paddedHeight * g.paddedWidth
        return (0..<(inChannels / groups)).flatMap { c in
            (0..<kernelSize.0).map { a in c * plane + a * dilation.0 * g.paddedWidth }
        }
    }

    /// The bytes past the codes and the rows that ``unfold(_:_:kernelRows:into:pitch:)``'s 8-byte copies may read or write.
    private static let unfoldSlack = 8

    /// im2row of one group's padded planes at `codes`: row `i·Wo + j` gets the tap `(c, a, b)` at column
    /// `(c·kH + a)·kW + b`, read at `(i·s₀ + a·d₀, j·s₁ + b·d₁)` of plane `c`. The padding is in the planes, so no
    /// read needs a bounds test. Columns past the depth may be written (they meet zero weights), and the 8 bytes after
    /// the last plane and after the last row may be read and written.
    ///
    /// `kernelRows` is ``kernelRowOffsets(_:)`` of `g`.
    private func unfold(_ codes: UnsafePointer<UInt8>, _ g: Geometry, kernelRows: [Int], into rows: UnsafeMutablePointer<UInt8>,
                        pitch: Int) {
        if dilation.1 == 1 && kernelSize.1 <= Self.unfoldSlack {
            // A kernel row's taps are adjacent in the plane and in the row, so each goes as one 8-byte copy. Rows are
            // written in order and each row's kernel rows in order, so the bytes a copy writes past its taps are
            // overwritten by the next copy, or fall in the columns past the depth or in the slack. The offsets below
            // are all inside the planes and the rows, so the loop does without overflow checks.
            let (source, target, width) = (UnsafeRawPointer(codes), UnsafeMutableRawPointer(rows), kernelSize.1)
            kernelRows.withUnsafeBufferPointer { kernelRows in
                var row = 0
                for i in 0..<g.outputHeight {
                    var origin = i &* stride.0 &* g.paddedWidth
                    for _ in 0..<g.outputWidth {
                        var column = row
                        for start in kernelRows {
                            target.storeBytes(of: source.loadUnaligned(fromByteOffset: origin &+ start, as: UInt64.self),
                                              toByteOffset: column, as: UInt64.self)
                            column &+= width
                        }
                        origin &+= stride.1
                        row &+= pitch
                    }
                }
            }
            return
        }
        for c in 0..<(inChannels / groups) {
            for a in 0..<kernelSize.0 {
                for b in 0..<kernelSize.1 {
                    let column = (c * kernelSize.0 + a) * kernelSize.1 + b
                    let tap = codes + kernelRows[c * kernelSize.0 + a] + b * dilation.1
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
