import Foundation
import Testing
@testable import Optim

/// References written from the published Adam/AdamW rules (PyTorch's form of the bias correction):
/// θ ← θ(1 − γλ) (AdamW) or g ← g + λθ (Adam); m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²;
/// v̂ ← max(v̂, v) (AMSGrad); θ ← θ − γ/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε).
func adamReference(steps: Int, lr: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8,
                   weightDecay: Double = 0, amsgrad: Bool = false, decoupled: Bool = false) -> [[Double]] {
    var theta = Quadratic.start
    let n = theta.count
    var m = [Double](repeating: 0, count: n), v = m, vMax = m
    var out: [[Double]] = []
    for t in 1...steps {
        var g = Quadratic.standard.gradient(theta)
        for i in 0..<n {
            if decoupled { theta[i] *= 1 - lr * weightDecay } else { g[i] += weightDecay * theta[i] }
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            vMax[i] = max(vMax[i], v[i])
            let second = amsgrad ? vMax[i] : v[i]
            let mHat = m[i] / (1 - pow(beta1, Double(t)))
            theta[i] -= lr * mHat / (second.squareRoot() / (1 - pow(beta2, Double(t))).squareRoot() + eps)
        }
        out.append(theta)
    }
    return out
}

@Suite struct AdamTests {
    @Test func adamDefaults() {
        let options = AdamOptions()
        #expect(options.learningRate == 1e-3 && options.betas == (0.9, 0.999) && options.eps == 1e-8)
        #expect(options.weightDecay == 0 && !options.amsgrad)
        let p = startParameter()
        expectClose(trajectory(Adam([p]), p, steps: 5), adamReference(steps: 5))
    }

    @Test func adamWithL2Penalty() {
        let p = startParameter()
        let adam = Adam([p], learningRate: 0.1, betas: (0.8, 0.99), eps: 1e-6, weightDecay: 0.2)
        expectClose(trajectory(adam, p, steps: 8),
                    adamReference(steps: 8, lr: 0.1, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.2))
    }

    @Test func amsgradUsesTheLargestSecondMoment() {
        // Gradients shrink along the trajectory, so v falls below its maximum and AMSGrad differs.
        let p = startParameter()
        let adam = Adam([p], learningRate: 0.3, betas: (0.5, 0.6), amsgrad: true)
        let expected = adamReference(steps: 10, lr: 0.3, beta1: 0.5, beta2: 0.6, amsgrad: true)
        expectClose(trajectory(adam, p, steps: 10), expected)
        let plain = adamReference(steps: 10, lr: 0.3, beta1: 0.5, beta2: 0.6)
        #expect(Swift.abs(plain[9][0] - expected[9][0]) > 1e-3)
        #expect(adam.stateDict()["state.0.max_exp_avg_sq"] != nil)
    }

    @Test func adamWDecaysDecoupled() {
        #expect(AdamW([startParameter()]).parameterGroups[0].options.weightDecay == 1e-2)
        let p = startParameter()
        expectClose(trajectory(AdamW([p], learningRate: 0.1), p, steps: 6),
                    adamReference(steps: 6, lr: 0.1, weightDecay: 1e-2, decoupled: true))
        // With a large decay the two rules differ clearly.
        let q = startParameter(), r = startParameter()
        let w = trajectory(AdamW([q], learningRate: 0.1, weightDecay: 0.5), q, steps: 4)
        let l2 = trajectory(Adam([r], learningRate: 0.1, weightDecay: 0.5), r, steps: 4)
        expectClose(w, adamReference(steps: 4, lr: 0.1, weightDecay: 0.5, decoupled: true))
        #expect(Swift.abs(w[3][1] - l2[3][1]) > 1e-3)
    }

    @Test func adamWWithAmsgrad() {
        let p = startParameter()
        let adamW = AdamW([p], learningRate: 0.3, betas: (0.5, 0.6), weightDecay: 0.1, amsgrad: true)
        expectClose(trajectory(adamW, p, steps: 10),
                    adamReference(steps: 10, lr: 0.3, beta1: 0.5, beta2: 0.6, weightDecay: 0.1, amsgrad: true,
                                  decoupled: true))
    }

    @Test func float32Parameters() {
        let p = startParameter(dtype: .float32)
        expectClose(trajectory(Adam([p], learningRate: 0.05, amsgrad: true), p, steps: 5),
                    adamReference(steps: 5, lr: 0.05, amsgrad: true), tolerance: 1e-5)
        // Each of the kernel's loops in Float: plain, with coupled decay, decoupled.
        let (q, r, s) = (startParameter(dtype: .float32), startParameter(dtype: .float32), startParameter(dtype: .float32))
        expectClose(trajectory(Adam([q], learningRate: 0.05), q, steps: 5), adamReference(steps: 5, lr: 0.05), tolerance: 1e-5)
        expectClose(trajectory(Adam([r], learningRate: 0.05, weightDecay: 0.2), r, steps: 5),
                    adamReference(steps: 5, lr: 0.05, weightDecay: 0.2), tolerance: 1e-5)
        expectClose(trajectory(AdamW([s], learningRate: 0.05, weightDecay: 0.2), s, steps: 5),
                    adamReference(steps: 5, lr: 0.05, weightDecay: 0.2, decoupled: true), tolerance: 1e-5)
    }

    @Test func stepCountsPerParameter() {
        // A parameter that first gets a gradient later starts its own bias correction at t = 1.
        let p = startParameter(), late = startParameter()
        let adam = Adam([p, late], learningRate: 0.1)
        _ = trajectory(adam, p, steps: 3)
        let lateTrajectory = trajectory(adam, late, steps: 2)
        expectClose(lateTrajectory, adamReference(steps: 2, lr: 0.1))
        #expect(adam.stateDict()["state.0.step"]?.item == 3)
        #expect(adam.stateDict()["state.1.step"]?.item == 2)
    }
}
