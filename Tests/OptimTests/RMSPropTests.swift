import Foundation
import Testing
@testable import Optim

/// References written from the published RMSProp rule (PyTorch's RMSprop):
/// g ← g + λθ; v ← αv + (1 − α)g²; ḡ ← αḡ + (1 − α)g (centered); d ← √(v − ḡ²) + ε or √v + ε;
/// b ← μb + g/d, θ ← θ − γb (μ > 0), else θ ← θ − γg/d.
func rmsPropReference(steps: Int, lr: Double = 1e-2, alpha: Double = 0.99, eps: Double = 1e-8,
                      weightDecay: Double = 0, momentum: Double = 0, centered: Bool = false) -> [[Double]] {
    var theta = Quadratic.start
    let n = theta.count
    var v = [Double](repeating: 0, count: n), gAvg = v, b = v
    var out: [[Double]] = []
    for _ in 0..<steps {
        let g0 = Quadratic.standard.gradient(theta)
        for i in 0..<n {
            let g = g0[i] + weightDecay * theta[i]
            v[i] = alpha * v[i] + (1 - alpha) * g * g
            gAvg[i] = alpha * gAvg[i] + (1 - alpha) * g
            let d = (centered ? v[i] - gAvg[i] * gAvg[i] : v[i]).squareRoot() + eps
            if momentum > 0 {
                b[i] = momentum * b[i] + g / d
                theta[i] -= lr * b[i]
            } else {
                theta[i] -= lr * g / d
            }
        }
        out.append(theta)
    }
    return out
}

@Suite struct RMSPropTests {
    @Test func defaults() {
        let options = RMSPropOptions()
        #expect(options.learningRate == 1e-2 && options.alpha == 0.99 && options.eps == 1e-8)
        #expect(options.momentum == 0 && options.weightDecay == 0 && !options.centered)
        let p = startParameter()
        expectClose(trajectory(RMSProp([p]), p, steps: 6), rmsPropReference(steps: 6))
        #expect(Set(RMSProp([p]).stateNames(for: options)) == ["square_avg"])
    }

    @Test func momentumAndWeightDecay() {
        let p = startParameter()
        expectClose(trajectory(RMSProp([p], learningRate: 0.01, alpha: 0.9, weightDecay: 0.1, momentum: 0.8), p, steps: 8),
                    rmsPropReference(steps: 8, lr: 0.01, alpha: 0.9, weightDecay: 0.1, momentum: 0.8))
    }

    @Test func centered() {
        let p = startParameter()
        expectClose(trajectory(RMSProp([p], learningRate: 0.01, alpha: 0.8, centered: true), p, steps: 8),
                    rmsPropReference(steps: 8, lr: 0.01, alpha: 0.8, centered: true))
    }

    @Test func centeredWithMomentum() {
        let p = startParameter()
        let rms = RMSProp([p], learningRate: 0.02, alpha: 0.7, eps: 1e-4, weightDecay: 0.05, momentum: 0.5, centered: true)
        expectClose(trajectory(rms, p, steps: 8),
                    rmsPropReference(steps: 8, lr: 0.02, alpha: 0.7, eps: 1e-4, weightDecay: 0.05, momentum: 0.5,
                                     centered: true))
        #expect(Set(rms.stateDict().keys.filter { $0.hasPrefix("state.0.") })
                == ["state.0.step", "state.0.square_avg", "state.0.momentum_buffer", "state.0.grad_avg"])
    }

    @Test func float32Parameters() {
        let p = startParameter(dtype: .float32)
        expectClose(trajectory(RMSProp([p], momentum: 0.9, centered: true), p, steps: 5),
                    rmsPropReference(steps: 5, momentum: 0.9, centered: true), tolerance: 1e-5)
    }
}
