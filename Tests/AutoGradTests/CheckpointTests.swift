import Testing
@testable import AutoGrad

@Suite struct CheckpointTests {
    let g = RandomGenerator(seed: 11)

    /// Two layers of a small network: its intermediate results are what a checkpoint does not keep.
    func block(_ x: Variable, _ w1: Variable, _ w2: Variable) -> Variable {
        x.matmul(w1).tanh().matmul(w2).sigmoid()
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        let x = Tensor.uniform([3, 4], low: -1, high: 1, dtype: .float64, generator: g)
        let w1 = Tensor.uniform([4, 5], low: -1, high: 1, dtype: .float64, generator: g)
        let w2 = Tensor.uniform([5, 2], low: -1, high: 1, dtype: .float64, generator: g)
        try gradcheck({ v in checkpoint(v[0], parameters: [v[1], v[2]]) { block($0, v[1], v[2]) } }, inputs: [x, w1, w2])
        // Two inputs, one parameter.
        try gradcheck({ v in checkpoint([v[0], v[1]], parameters: [v[2]]) { ($0[0] * $0[1]).matmul(v[2]).exp() } },
                      inputs: [x, x * 0.5, w1])
    }

    @Test func gradientsEqualThoseWithoutTheCheckpoint() {
        let x = Variable(Tensor.randn([8, 4], dtype: .float64, generator: g), requiresGrad: true)
        let w1 = Variable(Tensor.randn([4, 6], dtype: .float64, generator: g), requiresGrad: true)
        let w2 = Variable(Tensor.randn([6, 3], dtype: .float64, generator: g), requiresGrad: true)
        let direct = block(x, w1, w2)
        direct.squared().sum().backward()
        let expected = [x, w1, w2].map { $0.grad! }
        for v in [x, w1, w2] { v.zeroGrad() }
        let checkpointed = checkpoint(x, parameters: [w1, w2]) { block($0, w1, w2) }
        #expect(checkpointed.value == direct.value && checkpointed.opName == "Checkpoint")
        checkpointed.squared().sum().backward()
        #expect([x, w1, w2].map { $0.grad! } == expected)
    }

    @Test func theRecomputationDrawsTheSameRandomNumbers() {
        let x = Variable(Tensor.ones([5], dtype: .float64), requiresGrad: true)
        RandomGenerator.global.reseed(3)
        let y = checkpoint(x, parameters: []) { $0 * Variable(Tensor.uniform([5], dtype: .float64, generator: .global)) }
        // Draws between forward and backward must not change the mask the backward uses.
        _ = Tensor.uniform([7], generator: .global)
        y.sum().backward()
        #expect(x.grad! == y.value)
    }

    @Test func aSegmentWithNoGradientNeededRecordsNothing() {
        let y = checkpoint(Variable(Tensor.ones([2])), parameters: []) { $0 * 2 }
        #expect(y.record == nil && y.value.doubles == [2, 2])
    }
}
