import Testing
@testable import NN

// BatchNorm1d/2d against the formulas written out here per channel, running statistics over several
// steps (momentum 0.1 and the cumulative average), the modes, the buffers, and gradient checks.

/// Per-channel statistics of a `[N, C, …]` tensor computed by plain loops: mean, biased and unbiased variance.
private func channelStats(_ x: Tensor) -> (mean: [Double], biased: [Double], unbiased: [Double]) {
    let c = x.shape[1], inner = x.shape.dropFirst(2).reduce(1, *), v = x.doubles
    var values = [[Double]](repeating: [], count: c)
    for (i, e) in v.enumerated() { values[(i / inner) % c].append(e) }
    let mean = values.map { $0.reduce(0, +) / Double($0.count) }
    let squares = zip(values, mean).map { vs, m in vs.reduce(0) { $0 + ($1 - m) * ($1 - m) } }
    return (mean, zip(squares, values).map { $0 / Double($1.count) }, zip(squares, values).map { $0 / Double($1.count - 1) })
}

/// `(x − mean_c) / √(var_c + eps) · w_c + b_c` elementwise, by loops.
private func normalized(_ x: Tensor, mean: [Double], variance: [Double], weight: [Double], bias: [Double], eps: Double = 1e-5) -> Tensor {
    let c = x.shape[1], inner = x.shape.dropFirst(2).reduce(1, *)
    let out = x.doubles.enumerated().map { i, e in
        let k = (i / inner) % c
        return (e - mean[k]) / (variance[k] + eps).squareRoot() * weight[k] + bias[k]
    }
    return Tensor(shape: x.shape, scalars: out)
}

/// A float64 tensor with per-channel offsets, so channel statistics differ.
private func input(_ shape: [Int], seed: UInt64) -> Tensor {
    let channel = Tensor(shape: [1, shape[1]] + Array(repeating: 1, count: shape.count - 2),
                         scalars: (0..<shape[1]).map { Double($0) * 1.5 - 1 })
    return Tensor.randn(shape, dtype: .float64, generator: RandomGenerator(seed: seed)) * 2 + channel
}

private func makeLayer(_ shape: [Int], momentum: Double? = 0.1, affine: Bool = true, trackRunningStats: Bool = true) -> BatchNorm {
    let c = shape[1]
    let layer: BatchNorm = shape.count == 4
        ? BatchNorm2d(c, momentum: momentum, affine: affine, trackRunningStats: trackRunningStats, dtype: .float64)
        : BatchNorm1d(c, momentum: momentum, affine: affine, trackRunningStats: trackRunningStats, dtype: .float64)
    if affine {
        layer.weight!.value = Tensor(shape: [c], scalars: (0..<c).map { 0.5 + Double($0) })
        layer.bias!.value = Tensor(shape: [c], scalars: (0..<c).map { Double($0) * -0.25 })
    }
    return layer
}

@Suite struct BatchNormTests {
    static let shapes: [[Int]] = [[6, 3], [4, 3, 5], [3, 2, 4, 5]]

    @Test func trainingNormalisesWithBatchMeanAndBiasedVariance() {
        for (k, shape) in Self.shapes.enumerated() {
            let layer = makeLayer(shape)
            let x = input(shape, seed: UInt64(k))
            let s = channelStats(x)
            let expected = normalized(x, mean: s.mean, variance: s.biased,
                                      weight: layer.weight!.value.doubles, bias: layer.bias!.value.doubles)
            #expect(isClose(layer(Variable(x)).value, expected, tolerance: 1e-12), "\(shape)")
        }
        // Without affine parameters each channel comes out with mean 0 and biased variance 1 − ε-ish.
        let x = input([8, 4, 3, 3], seed: 9)
        let y = makeLayer([8, 4, 3, 3], affine: false)(Variable(x)).value
        let s = channelStats(y)
        #expect(s.mean.allSatisfy { Swift.abs($0) < 1e-12 } && s.biased.allSatisfy { Swift.abs($0 - 1) < 1e-3 })
    }

    @Test func runningStatisticsFollowMomentumWithUnbiasedVariance() {
        for (k, shape) in Self.shapes.enumerated() {
            let layer = makeLayer(shape)
            var mean = [Double](repeating: 0, count: shape[1]), variance = [Double](repeating: 1, count: shape[1])
            for step in 0..<4 {
                let s = channelStats(input(shape, seed: UInt64(10 * k + step)))
                _ = layer(Variable(input(shape, seed: UInt64(10 * k + step))))
                mean = zip(mean, s.mean).map { 0.9 * $0 + 0.1 * $1 }
                variance = zip(variance, s.unbiased).map { 0.9 * $0 + 0.1 * $1 }
                #expect(isClose(layer.runningMean!, Tensor(shape: [shape[1]], scalars: mean), tolerance: 1e-13), "\(shape) step \(step)")
                #expect(isClose(layer.runningVar!, Tensor(shape: [shape[1]], scalars: variance), tolerance: 1e-13), "\(shape) step \(step)")
                #expect(layer.numBatchesTracked == step + 1)
            }
        }
    }

    @Test func nilMomentumKeepsACumulativeAverage() {
        let shape = [5, 3, 2, 2]
        let layer = makeLayer(shape, momentum: nil)
        var means: [[Double]] = [], variances: [[Double]] = []
        for step in 0..<3 {
            let x = input(shape, seed: UInt64(100 + step))
            let s = channelStats(x)
            means.append(s.mean)
            variances.append(s.unbiased)
            _ = layer(Variable(x))
            // The plain average of every batch so far (the initial 0 and 1 are forgotten at the first step).
            let averageMean = (0..<3).map { c in means.map { $0[c] }.reduce(0, +) / Double(means.count) }
            let averageVar = (0..<3).map { c in variances.map { $0[c] }.reduce(0, +) / Double(variances.count) }
            #expect(isClose(layer.runningMean!, Tensor(shape: [3], scalars: averageMean), tolerance: 1e-13))
            #expect(isClose(layer.runningVar!, Tensor(shape: [3], scalars: averageVar), tolerance: 1e-13))
        }
        #expect(layer.numBatchesTracked == 3)
    }

    @Test func evaluationUsesRunningStatisticsAndLeavesThemAlone() {
        for (k, shape) in Self.shapes.enumerated() {
            let layer = makeLayer(shape)
            for step in 0..<2 { _ = layer(Variable(input(shape, seed: UInt64(200 + 10 * k + step)))) }
            layer.eval()
            let (mean, variance, count) = (layer.runningMean!, layer.runningVar!, layer.numBatchesTracked)
            let x = input(shape, seed: UInt64(300 + k))
            let expected = normalized(x, mean: mean.doubles, variance: variance.doubles,
                                      weight: layer.weight!.value.doubles, bias: layer.bias!.value.doubles)
            #expect(isClose(layer(Variable(x)).value, expected, tolerance: 1e-12), "\(shape)")
            #expect(layer.runningMean! == mean && layer.runningVar! == variance && layer.numBatchesTracked == count)
            // Batch statistics would give a different result: the modes really differ.
            let s = channelStats(x)
            #expect(!isClose(expected, normalized(x, mean: s.mean, variance: s.biased, weight: layer.weight!.value.doubles,
                                                  bias: layer.bias!.value.doubles), tolerance: 1e-3))
        }
    }

    @Test func withoutTrackedStatisticsBatchStatisticsAreUsedInBothModesAndNoBuffersExist() {
        let shape = [4, 3, 5]
        let layer = makeLayer(shape, trackRunningStats: false)
        #expect(layer.runningMean == nil && layer.runningVar == nil && layer.numBatchesTracked == nil)
        #expect(layer.namedBuffers().isEmpty && Set(layer.stateDict().keys) == ["weight", "bias"])
        let x = input(shape, seed: 7)
        let training = layer(Variable(x)).value
        layer.eval()
        #expect(layer(Variable(x)).value == training)
        let s = channelStats(x)
        #expect(isClose(training, normalized(x, mean: s.mean, variance: s.biased, weight: layer.weight!.value.doubles,
                                             bias: layer.bias!.value.doubles), tolerance: 1e-12))
    }

    @Test func buffersAreStateButNotParameters() throws {
        let layer = BatchNorm2d(3)
        #expect(layer.namedParameters().map(\.name) == ["weight", "bias"])
        #expect(layer.namedBuffers().map(\.name) == ["running_mean", "running_var", "num_batches_tracked"])
        #expect(Set(layer.stateDict().keys) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
        #expect(layer.weight!.value.doubles == [1, 1, 1] && layer.bias!.value.doubles == [0, 0, 0])
        #expect(layer.runningMean!.doubles == [0, 0, 0] && layer.runningVar!.doubles == [1, 1, 1] && layer.numBatchesTracked == 0)
        #expect(layer.eps == 1e-5 && layer.momentum == 0.1 && layer.trackRunningStats)
        #expect(BatchNorm1d(2, affine: false).parameters().isEmpty)

        // A state dictionary restores the running statistics of a trained layer.
        let trained = BatchNorm2d(3, dtype: .float64)
        for step in 0..<3 { _ = trained(Variable(input([2, 3, 2, 2], seed: UInt64(400 + step)))) }
        try layer.loadStateDict(trained.stateDict())
        #expect(isClose(layer.runningMean!, trained.runningMean!, tolerance: 1e-6) && layer.numBatchesTracked == 3)
        #expect(layer.runningMean!.dtype == .float32)
        // The statistics do not reach the optimiser: only weight and bias get gradients.
        layer(Variable(Tensor.randn([2, 3, 2, 2]))).sum().backward()
        #expect(layer.parameters().allSatisfy { $0.grad != nil })
    }

    @Test func gradientsMatchFiniteDifferencesInTrainingAndEvaluation() throws {
        for (k, shape) in Self.shapes.enumerated() {
            let c = shape[1]
            let inputs = [input(shape, seed: UInt64(500 + k)), Tensor(shape: [c], scalars: (0..<c).map { 0.7 + 0.3 * Double($0) }),
                          Tensor(shape: [c], scalars: (0..<c).map { 0.1 * Double($0) })]
            for training in [true, false] {
                let layer = makeLayer(shape)
                if !training {
                    layer.runningMean = Tensor(shape: [c], scalars: (0..<c).map { 0.2 * Double($0) })
                    layer.runningVar = Tensor(shape: [c], scalars: (0..<c).map { 0.5 + Double($0) })
                    layer.eval()
                }
                let function = { (xs: [Variable]) -> Variable in
                    layer.weight = xs[1]
                    layer.bias = xs[2]
                    return layer(xs[0])
                }
                _ = try gradcheck(function, inputs: inputs, name: "BatchNorm \(shape) training \(training)")
                if training || k == 2 {
                    _ = try gradgradcheck(function, inputs: inputs, name: "BatchNorm \(shape) second order, training \(training)")
                }
            }
        }
    }

    @Test func trainingNeedsMoreThanOneValuePerChannel() async {
        await #expect(processExitsWith: .failure) {
            _ = BatchNorm1d(3)(Variable(Tensor.zeros([1, 3])))
        }
    }

    @Test func summaryNamesTheConfiguration() {
        #expect(BatchNorm2d(8, momentum: nil).description
                == "BatchNorm2d(8, eps: 1e-05, momentum: nil, affine: true, trackRunningStats: true)")
    }
}

@Suite struct Dropout2dTests {
    @Test func trainingZeroesWholeChannelsAndScalesTheRest() {
        let x = Tensor.ones([8, 16, 3, 4], dtype: .float64) * Tensor.arange(1, 13, dtype: .float64).reshaped([3, 4])
        let input = Variable(x, requiresGrad: true)
        let drop = Dropout2d(p: 0.25, generator: RandomGenerator(seed: 3))
        let y = drop(input)
        let planes = y.value.reshaped([128, 12]).doubles
        var zeroed = 0
        for p in 0..<128 {
            let plane = Array(planes[(p * 12)..<((p + 1) * 12)])
            if plane.allSatisfy({ $0 == 0 }) { zeroed += 1 } else {
                #expect(plane == (1...12).map { Double($0) * (1 / 0.75) }, "plane \(p) is neither dropped nor scaled by 1/(1 − p)")
            }
        }
        #expect(zeroed > 16 && zeroed < 48, "\(zeroed) of 128 channels dropped with p = 0.25")
        // The gradient is the same mask: 1/(1 − p) on kept channels, 0 on dropped ones.
        y.sum().backward()
        #expect(input.grad! == y.value / x)
        // Seeded: the same generator state gives the same channels.
        #expect(Dropout2d(p: 0.25, generator: RandomGenerator(seed: 3))(Variable(x)).value == y.value)
    }

    @Test func unbatchedInputDropsPerChannel() {
        let y = dropout2d(Variable(Tensor.ones([32, 2, 2])), p: 0.5, generator: RandomGenerator(seed: 1)).value
        let planes = y.reshaped([32, 4]).doubles
        let kinds = Set((0..<32).map { Array(planes[($0 * 4)..<($0 * 4 + 4)]) })
        #expect(kinds == [[0, 0, 0, 0], [2, 2, 2, 2]])
    }

    @Test func evaluationAndZeroProbabilityAreTheIdentity() {
        let x = Variable(Tensor.randn([2, 3, 4, 4]))
        let drop = Dropout2d(p: 0.5)
        drop.eval()
        #expect(drop(x) === x)
        #expect(Dropout2d(p: 0)(x) === x)
        #expect(Dropout2d(p: 1)(x).value == Tensor.zeros([2, 3, 4, 4]))
        #expect(drop.description == "Dropout2d(p: 0.5)")
    }
}
