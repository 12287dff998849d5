import AutoGrad
import CKernels
import Foundation

/// How ``gelu(_:approximate:)`` evaluates the Gaussian CDF.
public enum GELUApproximation: Sendable {
    /// The exact form `x·Φ(x) = x/2·(1 + erf(x/√2))` (PyTorch's default, `approximate='none'`).
    case none
    /// `x/2·(1 + tanh(√(2/π)·(x + 0.044715x³)))` (`approximate='tanh'`).
    case tanh
}

/// The Gaussian error linear unit `x·Φ(x)`, exact by default. Smooth: no kink.
///
/// One fused op with first and second derivatives: `∂/∂x = Φ(x) + x·φ(x)` (φ the standard normal density), or
/// for the tanh form `s + x·s(1 − s)·2u′` with `s = σ(2u) = ½(1 + tanh u)`, `u = √(2/π)·(x + 0.044715x³)`.
/// Any shape; the output has the input's shape and dtype.
public func gelu(_ x: Variable, approximate: GELUApproximation = .none) -> Variable {
    GELUOp(approximate: approximate)(x)
}

/// GELU as one op: a single pass over the elements forward and one backward (CKernels' `ck_gelu_f32` for Float,
/// at the CPU's level, split over threads; plain loops with Foundation's `erfc` for Double). A recorded backward
/// (`createGraph`) builds the derivative from differentiable ops instead, so gradients of gradients work.
struct GELUOp: FusedBackwardOp {
    let approximate: GELUApproximation
    var name: String { "GELU" }

    func forward(_ inputs: [Tensor]) -> Tensor {
        let x = inputs[0]
        var y = Tensor.empty(x.shape, dtype: x.dtype)
        switch x.dtype {
        case .float32:
            y.withUnsafeMutableBufferPointer(as: Float.self) { y in
                x.withUnsafeBufferPointer(as: Float.self) { x in
                    forEachPart(x.count) { ck_gelu_f32(x.baseAddress! + $0.lowerBound, y.baseAddress! + $0.lowerBound, $0.count, tanhForm) }
                }
            }
        case .float64:
            y.withUnsafeMutableBufferPointer(as: Double.self) { y in
                x.withUnsafeBufferPointer(as: Double.self) { x in
                    for i in x.indices { y[i] = value(x[i]) }
                }
            }
        }
        return y
    }

    func fusedBackward(_ g: Variable, inputs: [Variable], needed: [Bool], dtype: DType) -> [Variable?] {
        let x = inputs[0].value.to(dtype), upstream = g.value.to(dtype)
        precondition(upstream.shape == x.shape, "GELU backward: gradient of shape \(upstream.shape) for input \(x.shape)")
        var gx = Tensor.empty(x.shape, dtype: dtype)
        switch dtype {
        case .float32:
            gx.withUnsafeMutableBufferPointer(as: Float.self) { gx in
                x.withUnsafeBufferPointer(as: Float.self) { x in
                    upstream.withUnsafeBufferPointer(as: Float.self) { g in
                        forEachPart(x.count) {
                            ck_gelu_backward_f32(g.baseAddress! + $0.lowerBound, x.baseAddress! + $0.lowerBound,
                                                 gx.baseAddress! + $0.lowerBound, $0.count, tanhForm)
                        }
                    }
                }
            }
        case .float64:
            gx.withUnsafeMutableBufferPointer(as: Double.self) { gx in
                x.withUnsafeBufferPointer(as: Double.self) { x in
                    upstream.withUnsafeBufferPointer(as: Double.self) { g in
                        for i in x.indices { gx[i] = g[i] * derivative(x[i]) }
                    }
                }
            }
        }
        return [Variable(gx)]
    }

    /// The same derivative from differentiable ops (`erf`, exponentials, the logistic), for a recorded backward.
    func differentiableBackward(_ g: Variable, inputs: [Variable], needed: [Bool]) -> [Variable?] {
        let x = inputs[0]
        switch approximate {
        case .none:
            let cdf = (erf(x * (1 / 2.0.squareRoot())) + 1) * 0.5
            let density = (x.squared() * -0.5).exp() * (1 / (2 * Double.pi).squareRoot())
            return [g * (cdf + x * density)]
        case .tanh:
            let c = Self.twiceTanhScale
            let s = ((x + x * x * x * 0.044715) * c).sigmoid()
            let slope = (x.squared() * (3 * 0.044715) + 1) * c
            return [g * (s + x * s * (1 - s) * slope)]
        }
    }

    /// `2√(2/π)`: `2u = 2√(2/π)·(x + 0.044715x³)` in the tanh form.
    private static let twiceTanhScale = 2 * (2 / Double.pi).squareRoot()

    private var tanhForm: Int32 { approximate == .tanh ? 1 : 0 }

    /// GELU of one Double, `x·Φ(x)` (or `x·σ(2u)`): the tail `Φ(−|x|) = ½·erfc(|x|/√2)` is taken directly, as the Float
    /// kernels do.
    private func value(_ x: Double) -> Double {
        switch approximate {
        case .none: return x * 0.5 * Foundation.erfc(-x / 2.0.squareRoot())
        case .tanh: return x * logisticOfTwiceU(x)
        }
    }

    /// GELU′ of one Double.
    private func derivative(_ x: Double) -> Double {
        switch approximate {
        case .none:
            return 0.5 * Foundation.erfc(-x / 2.0.squareRoot()) + x * Foundation.exp(-0.5 * x * x) / (2 * Double.pi).squareRoot()
        case .tanh:
            let s = logisticOfTwiceU(x), c = Self.twiceTanhScale
            return s + x * s * (1 - s) * c * (1 + 3 * 0.044715 * x * x)
        }
    }

    /// `σ(2u) = ½(1 + tanh u)`, `u = √(2/π)·(x + 0.044715x³)`.
    private func logisticOfTwiceU(_ x: Double) -> Double {
        1 / (1 + Foundation.exp(-Self.twiceTanhScale * (x + 0.044715 * x * x * x)))
    }

    /// Splits `count` elements over threads; GELU's exponentials make each element worth several of a plain add.
    private func forEachPart(_ count: Int, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        Parallel.forEachPart(count, work: 4 * count, body)
    }
}
