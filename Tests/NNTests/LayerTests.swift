import Testing
@testable import NN

@Suite struct LinearTests {
    @Test func forwardIsXTimesWTransposedPlusB() {
        let fc = Linear(3, 2, dtype: .float64)
        fc.weight.value = doubles([2, 3], [1, 2, 3, 4, 5, 6])
        fc.bias!.value = doubles([2], [0.5, -1])
        let y = fc(Variable(doubles([2, 3], [1, 0, -1, 2, 1, 0])))
        // Row 1: [1−3, 4−6] + b; row 2: [2+2, 8+5] + b.
        #expect(y.value == doubles([2, 2], [-1.5, -3, 4.5, 12]))
        // Leading batch dimensions are kept.
        #expect(fc(Variable(Tensor.randn([4, 5, 3], dtype: .float64))).shape == [4, 5, 2])
        #expect(Linear(3, 2, bias: false).namedParameters().map(\.name) == ["weight"])
    }

    @Test func defaultInitIsUniformWithinOneOverRootFanIn() {
        let fc = Linear(400, 300, generator: RandomGenerator(seed: 7))
        let bound = 1 / 400.0.squareRoot()
        let w = fc.weight.value.doubles, b = fc.bias!.value.doubles
        #expect(w.allSatisfy { Swift.abs($0) <= bound })
        #expect(b.allSatisfy { Swift.abs($0) <= bound })
        // Uniform on (−b, b): the extremes come near the bound and the variance is b²/3.
        #expect(w.max()! > 0.99 * bound && w.min()! < -0.99 * bound)
        let variance = w.reduce(0) { $0 + $1 * $1 } / Double(w.count)
        #expect(Swift.abs(variance / (bound * bound / 3) - 1) < 0.02)
        // Seeded: the same generator seed gives the same layer.
        #expect(Linear(5, 4, generator: RandomGenerator(seed: 1)).weight.value == Linear(5, 4, generator: RandomGenerator(seed: 1)).weight.value)
    }

    @Test func gradcheckInputWeightAndBias() throws {
        let fc = Linear(4, 3, dtype: .float64)
        let g = RandomGenerator(seed: 2)
        try gradcheck({ xs in
            fc.weight = xs[1]
            fc.bias = xs[2]
            return fc(xs[0])
        }, inputs: [Tensor.randn([2, 4], dtype: .float64, generator: g), Tensor.randn([3, 4], dtype: .float64, generator: g),
                    Tensor.randn([3], dtype: .float64, generator: g)])
        // A batched 3-D input and a single vector.
        try gradcheck({ xs in fc.weight = xs[1]; fc.bias = nil; return fc(xs[0]) },
                      inputs: [Tensor.randn([2, 2, 4], dtype: .float64, generator: g), Tensor.randn([3, 4], dtype: .float64, generator: g)])
        try gradcheck({ xs in fc.weight = xs[1]; return fc(xs[0]) },
                      inputs: [Tensor.randn([4], dtype: .float64, generator: g), Tensor.randn([3, 4], dtype: .float64, generator: g)])
    }
}

@Suite struct ShapeLayerTests {
    @Test func flattenAndIdentity() throws {
        let x = Variable(Tensor.zeros([2, 3, 4, 5]))
        #expect(Flatten()(x).shape == [2, 60])
        #expect(Flatten(startAxis: 0)(x).shape == [120])
        #expect(Flatten(startAxis: 1, endAxis: 2)(x).shape == [2, 12, 5])
        #expect(Flatten(startAxis: -2)(x).shape == [2, 3, 20])
        #expect(Identity()(x) === x)
        try gradcheck({ Flatten()($0[0]) }, inputs: [Tensor.randn([2, 3, 2], dtype: .float64)])
    }
}

@Suite struct DropoutTests {
    @Test func trainingZeroesAboutPAndScalesTheRest() {
        let drop = Dropout(p: 0.3, generator: RandomGenerator(seed: 11))
        let y = drop(Variable(Tensor.ones([100_000]))).value.doubles
        let zeros = y.filter { $0 == 0 }.count
        #expect(Swift.abs(Double(zeros) / 100_000 - 0.3) < 0.01)
        #expect(y.allSatisfy { $0 == 0 || Swift.abs($0 - 1 / 0.7) < 1e-6 })
        // The mean is preserved in expectation.
        #expect(Swift.abs(y.reduce(0, +) / 100_000 - 1) < 0.02)
    }

    @Test func evalIsTheIdentityAndEdgeProbabilities() {
        let x = Variable(Tensor.randn([50]))
        let drop = Dropout(p: 0.5)
        drop.eval()
        #expect(drop(x) === x)
        #expect(dropout(x, p: 0) === x)
        #expect(dropout(x, p: 1).value == Tensor.zeros([50]))
    }

    @Test func seededMasksRepeatAndGradientFollowsTheMask() {
        let x = Variable(Tensor.ones([20], dtype: .float64), requiresGrad: true)
        let a = dropout(x, p: 0.5, generator: RandomGenerator(seed: 4))
        let b = dropout(x, p: 0.5, generator: RandomGenerator(seed: 4))
        #expect(a.value == b.value)
        a.sum().backward()
        #expect(x.grad! == a.value)   // ∂/∂x is the scaled mask itself
    }
}
