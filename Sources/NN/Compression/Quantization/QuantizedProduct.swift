import AutoGrad
import CKernels

/// How the exact 32-bit sums `Σₚ q·values[j, p]` of an int8 product become Float outputs:
/// `y = max(s·scales[j]·(sum − z·rowSums[j]) + bias[j], floor)` for activations of scale `s` and zero point `z`
/// (`floor` is −∞, or 0 for a fused ReLU), with the per-output factors formed once. The dynamic Linear forms it per call (its activation map changes with each
/// batch); the static convolution once, when its activation map is fixed.
struct ProductDequantization {
    /// `s·scales[j]`.
    let scales: [Float]
    /// `z·rowSums[j]`: the zero point's share of each output, subtracted once per output, not once per product.
    let offsets: [Int32]
    /// The bias, zeros for a layer without one.
    let shifts: [Float]
    /// The least output: −∞, or 0 where a ReLU is fused.
    let floor: Float

    init(activation: ActivationQuantization, weights: Int8Weights, bias: [Float]?, floor: Float = -.infinity) {
        scales = weights.scales.map { $0 * activation.scale }
        offsets = weights.rowSums.map { activation.zeroPoint * $0 }
        shifts = bias ?? [Float](repeating: 0, count: weights.rows)
        self.floor = floor
    }

    /// Writes `y[i·rowStride + c]` for rows `i < m` and the outputs `j = outputs.lowerBound + c` from `sums`
    /// (`[m, outputs.count]`, row-major). Row-major on both sides, so the loop over outputs vectorises; a
    /// convolution, whose outputs are planes, takes ``applyToPlanes(_:height:width:outputs:maxPool2x2:into:)``.
    func apply(_ sums: UnsafePointer<Int32>, rows m: Int, outputs: Range<Int>, into y: UnsafeMutablePointer<Float>,
               rowStride: Int) {
        let width = outputs.count
        scales.withUnsafeBufferPointer { s in
            offsets.withUnsafeBufferPointer { o in
                shifts.withUnsafeBufferPointer { b in
                    let (s, o, b) = (s.baseAddress! + outputs.lowerBound, o.baseAddress! + outputs.lowerBound,
                                     b.baseAddress! + outputs.lowerBound)
                    let floor = floor
                    for i in 0..<m {
                        let (row, target) = (sums + i * width, y + i * rowStride)
                        for c in 0..<width { target[c] = Swift.max(s[c] * Float(row[c] &- o[c]) + b[c], floor) }
                    }
                }
            }
        }
    }

    /// Writes the planes `planes[c·P + p]` of the outputs `j = outputs.lowerBound + c` from the sums of a
    /// convolution's `height × width` output positions (`sums`: `[height·width, outputs.count]`, row-major), or with
    /// `maxPool2x2` their 2 × 2 max pooling at stride 2 (P = ⌊height/2⌋·⌊width/2⌋), which is taken on the sums (the
    /// scales are positive, so the map is non-decreasing and the result is the pooling of the outputs, exactly).
    /// CKernels' `ck_dequantize_planes_s32` transposes in registers; each element is what ``apply(_:rows:outputs:into:rowStride:)`` gives.
    func applyToPlanes(_ sums: UnsafePointer<Int32>, height: Int, width: Int, outputs: Range<Int>, maxPool2x2: Bool,
                       into planes: UnsafeMutablePointer<Float>) {
        scales.withUnsafeBufferPointer { s in
            offsets.withUnsafeBufferPointer { o in
                shifts.withUnsafeBufferPointer { b in
                    ck_dequantize_planes_s32(sums, outputs.count, height, width, outputs.count, s.baseAddress! + outputs.lowerBound,
                                             o.baseAddress! + outputs.lowerBound, b.baseAddress! + outputs.lowerBound, floor,
                                             maxPool2x2 ? 1 : 0, planes)
                }
            }
        }
    }
}

/// `y[i, j] = s·scales[j]·(Σₚ q[i, p]·values[j, p] − z·rowSums[j]) + bias[j]` for `m` rows of `x` (row stride
/// `weights.columns`) quantised to `q` by `activation` (scale `s`, zero point `z`): the dynamic Linear's product.
/// The integer part runs in CKernels' `ck_gemm_u7s8s32` for a 7-bit map, else `ck_gemm_u8s8s32`, exactly; the rest is
/// one multiply-add per output.
func quantizedProduct(_ x: UnsafePointer<Float>, rows m: Int, activation: ActivationQuantization,
                      weights: Int8Weights, bias: [Float]?, into y: UnsafeMutablePointer<Float>) {
    let (n, k) = (weights.rows, weights.columns)
    guard m > 0, n > 0 else { return }
    var codes = [UInt8](repeating: 0, count: m * k)
    var sums = [Int32](repeating: 0, count: m * n)
    codes.withUnsafeMutableBufferPointer { q in
        activation.quantize(x, q.baseAddress!, count: m * k)
        weights.values.withUnsafeBufferPointer { w in
            sums.withUnsafeMutableBufferPointer { c in
                if activation.largestCode <= 127 {
                    ck_gemm_u7s8s32(m, n, k, q.baseAddress!, k, w.baseAddress!, k, c.baseAddress!, n)
                } else {
                    ck_gemm_u8s8s32(m, n, k, q.baseAddress!, k, w.baseAddress!, k, c.baseAddress!, n)
                }
            }
        }
    }
    let dequantization = ProductDequantization(activation: activation, weights: weights, bias: bias)
    sums.withUnsafeBufferPointer { c in
        dequantization.apply(c.baseAddress!, rows: m, outputs: 0..<n, into: y, rowStride: n)
    }
}
