import Testing
@testable import NN

private func stats(_ v: Variable) -> (mean: Double, std: Double) {
    let x = v.value.doubles
    let mean = x.reduce(0, +) / Double(x.count)
    return (mean, (x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.count)).squareRoot())
}

@Suite struct InitTests {
    @Test func gainsAreTorchs() {
        #expect(Init.calculateGain(.linear) == 1 && Init.calculateGain(.sigmoid) == 1 && Init.calculateGain(.conv) == 1)
        #expect(Init.calculateGain(.tanh) == 5.0 / 3)
        #expect(Init.calculateGain(.relu) == 2.0.squareRoot())
        #expect(Init.calculateGain(.selu) == 0.75)
        #expect(Init.calculateGain(.leakyReLU(negativeSlope: 0.2)) == (2 / 1.04).squareRoot())
        #expect(Init.calculateGain(.leakyReLU(negativeSlope: 0)) == 2.0.squareRoot())
    }

    @Test func fansOfLinearAndConvolutionWeights() {
        #expect(Init.fans(of: [30, 20]) == (20, 30))
        #expect(Init.fans(of: [16, 3, 5, 5]) == (75, 400))
        #expect(Init.fans(of: [8, 4, 3]) == (12, 24))
    }

    @Test func constantZerosOnesKeepShapeAndDType() {
        let v = Variable(Tensor.randn([3, 2], dtype: .float64))
        Init.constant(v, 0.25)
        #expect(v.value == Tensor.full([3, 2], 0.25, dtype: .float64))
        Init.zeros(v); #expect(v.value == Tensor.zeros([3, 2], dtype: .float64))
        Init.ones(v); #expect(v.value == Tensor.ones([3, 2], dtype: .float64))
    }

    @Test func uniformAndNormalFollowTheirParameters() {
        let g = RandomGenerator(seed: 5)
        let v = Variable(Tensor.zeros([200, 500]))
        Init.uniform(v, low: -2, high: 1, generator: g)
        #expect(v.value.doubles.allSatisfy { $0 >= -2 && $0 < 1 })
        #expect(Swift.abs(stats(v).mean + 0.5) < 0.01)
        Init.normal(v, mean: 3, std: 0.5, generator: g)
        #expect(Swift.abs(stats(v).mean - 3) < 0.01 && Swift.abs(stats(v).std - 0.5) < 0.01)
    }

    @Test func xavierAndKaimingStandardDeviations() {
        let g = RandomGenerator(seed: 9)
        let w = Variable(Tensor.zeros([400, 600]))
        func expectStd(_ expected: Double, _ label: String) {
            let s = stats(w)
            #expect(Swift.abs(s.std / expected - 1) < 0.02, "\(label): std \(s.std), expected \(expected)")
            #expect(Swift.abs(s.mean) < 0.02 * expected, "\(label): mean \(s.mean)")
        }
        Init.xavierUniform(w, gain: 2, generator: g)
        let xavierBound = 2 * (6.0 / 1000).squareRoot()
        #expect(w.value.doubles.allSatisfy { Swift.abs($0) <= xavierBound })
        expectStd(2 * (2.0 / 1000).squareRoot(), "xavierUniform")
        Init.xavierNormal(w, generator: g)
        expectStd((2.0 / 1000).squareRoot(), "xavierNormal")
        Init.kaimingUniform(w, generator: g)
        #expect(w.value.doubles.allSatisfy { Swift.abs($0) <= (6.0 / 600).squareRoot() })
        expectStd((2.0 / 600).squareRoot(), "kaimingUniform")
        Init.kaimingNormal(w, mode: .fanOut, nonlinearity: .relu, generator: g)
        expectStd((2.0 / 400).squareRoot(), "kaimingNormal fanOut")
        Init.kaimingNormal(w, nonlinearity: .tanh, generator: g)
        expectStd(5.0 / 3 / 600.0.squareRoot(), "kaimingNormal tanh")
        // Convolution-shaped weights use the receptive field.
        let conv = Variable(Tensor.zeros([64, 32, 3, 3]))
        Init.kaimingNormal(conv, nonlinearity: .relu, generator: g)
        let s = stats(conv)
        #expect(Swift.abs(s.std / (2.0 / 288).squareRoot() - 1) < 0.02)
    }
}
