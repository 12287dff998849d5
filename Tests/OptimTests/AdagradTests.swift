import Testing
@testable import Optim

/// References written from the published Adagrad rule (PyTorch's Adagrad):
/// g ← g + λθ; γₜ = γ / (1 + (t − 1)η); s ← s + g²; θ ← θ − γₜ g / (√s + ε).
func adagradReference(steps: Int, lr: Double = 1e-2, lrDecay: Double = 0, weightDecay: Double = 0,
                      initialAccumulator: Double = 0, eps: Double = 1e-10) -> [[Double]] {
    var theta = Quadratic.start
    var s = [Double](repeating: initialAccumulator, count: theta.count)
    var out: [[Double]] = []
    for t in 1...steps {
        let g0 = Quadratic.standard.gradient(theta)
        let clr = lr / (1 + Double(t - 1) * lrDecay)
        for i in theta.indices {
            let g = g0[i] + weightDecay * theta[i]
            s[i] += g * g
            theta[i] -= clr * g / (s[i].squareRoot() + eps)
        }
        out.append(theta)
    }
    return out
}

@Suite struct AdagradTests {
    @Test func defaults() {
        let options = AdagradOptions()
        #expect(options.learningRate == 1e-2 && options.learningRateDecay == 0 && options.weightDecay == 0)
        #expect(options.initialAccumulatorValue == 0 && options.eps == 1e-10)
        let p = startParameter()
        expectClose(trajectory(Adagrad([p]), p, steps: 6), adagradReference(steps: 6))
    }

    @Test func learningRateDecayAccumulatorAndWeightDecay() {
        let p = startParameter()
        let adagrad = Adagrad([p], learningRate: 0.5, learningRateDecay: 0.3, weightDecay: 0.1,
                              initialAccumulatorValue: 0.7, eps: 1e-6)
        expectClose(trajectory(adagrad, p, steps: 8),
                    adagradReference(steps: 8, lr: 0.5, lrDecay: 0.3, weightDecay: 0.1, initialAccumulator: 0.7, eps: 1e-6))
    }

    @Test func float32Parameters() {
        let p = startParameter(dtype: .float32)
        expectClose(trajectory(Adagrad([p], learningRate: 0.3, learningRateDecay: 0.1, initialAccumulatorValue: 0.2), p, steps: 5),
                    adagradReference(steps: 5, lr: 0.3, lrDecay: 0.1, initialAccumulator: 0.2), tolerance: 1e-5)
    }
}
