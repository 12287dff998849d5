import AutoGrad
import CKernels

/// `y[i, j] = s·scales[j]·(Σₚ q[i, p]·values[j, p] − z·rowSums[j]) + bias[j]` for `m` rows of `x` (row stride
/// `weights.columns`) quantised to `q` by `activation` (scale `s`, zero point `z`): the one int8 product that the
/// dynamic Linear and the static convolution share. The integer part runs in CKernels' `ck_gemm_u8s8s32`, exactly;
/// the rest is one multiply-add per output.
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
                ck_gemm_u8s8s32(m, n, k, q.baseAddress!, k, w.baseAddress!, k, c.baseAddress!, n)
            }
        }
    }
    let zero = activation.zeroPoint
    let outScales = weights.scales.map { $0 * activation.scale }
    let offsets = weights.rowSums.map { zero * $0 }
    let shift = bias ?? [Float](repeating: 0, count: n)
    sums.withUnsafeBufferPointer { c in
        outScales.withUnsafeBufferPointer { s in
            offsets.withUnsafeBufferPointer { o in
                shift.withUnsafeBufferPointer { b in
                    for i in 0..<m {
                        for j in 0..<n { y[i * n + j] = s[j] * Float(c[i * n + j] &- o[j]) + b[j] }
                    }
                }
            }
        }
    }
}
