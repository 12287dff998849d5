import Testing
@testable import Optim

/// Updates of large parameters are split over the BLAS threads; every element must get exactly the
/// update one thread gives it (the split must neither skip nor repeat a range).
@Suite(.serialized) struct ParallelUpdateTests {
    private func trajectory(threads: Int, _ makeOptimizer: ([Variable]) -> Optimizer) -> [Float] {
        let saved = BLAS.threadCount
        defer { BLAS.threadCount = saved }
        BLAS.threadCount = threads
        let generator = RandomGenerator(seed: 5)
        // 3·Parallel.minimumWork + 7 elements: above the split threshold, and not divisible by the thread count.
        let count = 3 * Parallel.minimumWork + 7
        let parameter = Variable(Tensor.randn([count], generator: generator), requiresGrad: true)
        let optimizer = makeOptimizer([parameter])
        for _ in 0..<3 {
            parameter.grad = Tensor.randn([count], generator: generator)
            optimizer.step()
        }
        return parameter.value.floats
    }

    @Test(arguments: ["Adam", "AdamW", "SGD", "RMSProp", "Adagrad"])
    func splitUpdatesMatchOneThread(_ name: String) {
        let make: ([Variable]) -> Optimizer = { parameters in
            switch name {
            case "Adam": return Adam(parameters, learningRate: 1e-2, amsgrad: true)
            case "AdamW": return AdamW(parameters, learningRate: 1e-2)
            case "SGD": return SGD(parameters, learningRate: 1e-2, momentum: 0.9, nesterov: true)
            case "RMSProp": return RMSProp(parameters, learningRate: 1e-2, momentum: 0.5, centered: true)
            default: return Adagrad(parameters, learningRate: 1e-2)
            }
        }
        let single = trajectory(threads: 1, make), split = trajectory(threads: 2, make)
        #expect(single.count == split.count)
        let differing = zip(single, split).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(differing == nil, "\(name): element \(differing?.offset ?? -1) differs between 1 and 2 threads")
    }
}
