import Testing
@testable import Optim

/// References written from PyTorch's published SGD rule:
/// g ← g + λθ; b ← g (first step) or μb + (1 − τ)g; g ← g + μb (Nesterov) or b; θ ← θ − γg.
func sgdReference(steps: Int, lr: Double, momentum: Double = 0, dampening: Double = 0, weightDecay: Double = 0,
                  nesterov: Bool = false, problem: Quadratic = .standard, start: [Double] = Quadratic.start) -> [[Double]] {
    var theta = start
    var buffer: [Double]? = nil
    var out: [[Double]] = []
    for _ in 0..<steps {
        var g = problem.gradient(theta)
        for i in g.indices { g[i] += weightDecay * theta[i] }
        if momentum != 0 {
            if let old = buffer {
                buffer = (0..<g.count).map { momentum * old[$0] + (1 - dampening) * g[$0] }
            } else {
                buffer = g
            }
            g = nesterov ? (0..<g.count).map { g[$0] + momentum * buffer![$0] } : buffer!
        }
        for i in theta.indices { theta[i] -= lr * g[i] }
        out.append(theta)
    }
    return out
}

@Suite struct SGDTests {
    @Test func plainGradientDescent() {
        let p = startParameter()
        expectClose(trajectory(SGD([p], learningRate: 0.1), p, steps: 5), sgdReference(steps: 5, lr: 0.1))
    }

    @Test func defaultsArePyTorchs() {
        let options = SGDOptions()
        #expect(options.learningRate == 1e-3 && options.momentum == 0 && options.dampening == 0)
        #expect(options.weightDecay == 0 && !options.nesterov)
        let p = startParameter()
        expectClose(trajectory(SGD([p]), p, steps: 2), sgdReference(steps: 2, lr: 1e-3))
    }

    @Test func momentumStartsFromTheGradient() {
        let p = startParameter()
        let sgd = SGD([p], learningRate: 0.1, momentum: 0.9)
        let expected = sgdReference(steps: 6, lr: 0.1, momentum: 0.9)
        expectClose(trajectory(sgd, p, steps: 6), expected)
        // First step: the buffer is the gradient itself, not (1 − τ) times it.
        let g0 = Quadratic.standard.gradient(Quadratic.start)
        #expect(expected[0] == (0..<3).map { Quadratic.start[$0] - 0.1 * g0[$0] })
    }

    @Test func momentumWithDampeningAndWeightDecay() {
        let p = startParameter()
        let sgd = SGD([p], learningRate: 0.05, momentum: 0.8, dampening: 0.3, weightDecay: 0.1)
        expectClose(trajectory(sgd, p, steps: 6),
                    sgdReference(steps: 6, lr: 0.05, momentum: 0.8, dampening: 0.3, weightDecay: 0.1))
    }

    @Test func nesterov() {
        let p = startParameter()
        let sgd = SGD([p], learningRate: 0.05, momentum: 0.9, weightDecay: 0.01, nesterov: true)
        expectClose(trajectory(sgd, p, steps: 6),
                    sgdReference(steps: 6, lr: 0.05, momentum: 0.9, weightDecay: 0.01, nesterov: true))
    }

    @Test func float32Parameters() {
        let p = startParameter(dtype: .float32)
        let sgd = SGD([p], learningRate: 0.05, momentum: 0.9, nesterov: true)
        let actual = trajectory(sgd, p, steps: 5)
        #expect(p.dtype == .float32)
        expectClose(actual, sgdReference(steps: 5, lr: 0.05, momentum: 0.9, nesterov: true), tolerance: 1e-5)
    }

    @Test func parametersWithoutGradientAreSkipped() {
        let p = startParameter()
        let idle = Variable(Tensor([5.0, 6.0]), requiresGrad: true)
        let sgd = SGD([idle, p], learningRate: 0.1, momentum: 0.9)
        expectClose(trajectory(sgd, p, steps: 3), sgdReference(steps: 3, lr: 0.1, momentum: 0.9))
        #expect(idle.value.doubles == [5, 6])
        #expect(sgd.stateDict()["state.0.momentum_buffer"] == nil)
        #expect(sgd.stateDict()["state.1.momentum_buffer"] != nil)
    }

    @Test func zeroGradClearsEveryGradient() {
        let p = startParameter(), q = Variable(Tensor([1.0]), requiresGrad: true)
        let sgd = SGD([p, q])
        Quadratic.standard.backward(p)
        (q * q).sum().backward()
        #expect(p.grad != nil && q.grad != nil)
        sgd.zeroGrad()
        #expect(p.grad == nil && q.grad == nil)
        sgd.step()
        #expect(p.value.doubles == Quadratic.start && q.value.doubles == [1])
    }

    @Test func parameterGroupsOverrideDefaults() {
        let p = startParameter(), q = startParameter(), r = startParameter()
        let sgd = SGD(groups: [
            ParameterGroup(parameters: [p]),
            ParameterGroup(parameters: [q], learningRate: 0.02, weightDecay: 0.5),
            ParameterGroup(parameters: [r]) { $0.momentum = 0; $0.learningRate = 0.3 },
        ], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        #expect(sgd.learningRates == [0.1, 0.02, 0.3])
        #expect(sgd.parameterGroups[1].options.momentum == 0.9)
        #expect(sgd.parameters().map(ObjectIdentifier.init) == [p, q, r].map(ObjectIdentifier.init))
        var actual: [[[Double]]] = [[], [], []]
        for _ in 0..<4 {
            sgd.zeroGrad()
            for v in [p, q, r] { Quadratic.standard.backward(v) }
            sgd.step()
            for (k, v) in [p, q, r].enumerated() { actual[k].append(v.value.doubles) }
        }
        expectClose(actual[0], sgdReference(steps: 4, lr: 0.1, momentum: 0.9, weightDecay: 0.01))
        expectClose(actual[1], sgdReference(steps: 4, lr: 0.02, momentum: 0.9, weightDecay: 0.5))
        expectClose(actual[2], sgdReference(steps: 4, lr: 0.3, weightDecay: 0.01))
    }

    @Test func learningRateSetterAppliesToAllGroups() {
        let p = startParameter(), q = startParameter()
        let sgd = SGD(groups: [ParameterGroup(parameters: [p]), ParameterGroup(parameters: [q], learningRate: 0.5)],
                      learningRate: 0.1)
        #expect(sgd.learningRate == 0.1)
        sgd.learningRate = 0.01
        #expect(sgd.learningRates == [0.01, 0.01])
        sgd.learningRates = [0.2, 0.3]
        #expect(sgd.parameterGroups.map(\.options.learningRate) == [0.2, 0.3])
    }

    @Test func addedGroupTakesDefaults() {
        let p = startParameter(), q = startParameter()
        let sgd = SGD([p], learningRate: 0.1, momentum: 0.9)
        sgd.addParameterGroup(ParameterGroup(parameters: [q], learningRate: 0.2))
        #expect(sgd.parameterGroups[1].options.momentum == 0.9)
        #expect(sgd.parameterGroups[1].options.learningRate == 0.2)
    }
}
