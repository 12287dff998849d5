import Testing
@testable import NN

@Suite struct ChannelPruningTests {
    /// Conv → BatchNorm → ReLU → MaxPool → Conv → ReLU → Flatten → Dropout → Linear in Double, with running statistics
    /// that are not the initial ones, in evaluation mode.
    static func model(_ generator: RandomGenerator) -> Sequential {
        let model = Sequential(
            Conv2d(2, 6, kernelSize: 3, padding: 1, dtype: .float64, generator: generator), BatchNorm2d(6, dtype: .float64),
            ReLU(), MaxPool2d(kernelSize: 2), Conv2d(6, 5, kernelSize: 3, padding: 1, dtype: .float64, generator: generator),
            ReLU(), Flatten(), Dropout(p: 0.5), Linear(5 * 4 * 4, 3, dtype: .float64, generator: generator))
        let batchNorm = model[1] as! BatchNorm2d
        batchNorm.weight!.value = Tensor.randn([6], dtype: .float64, generator: generator)
        batchNorm.bias!.value = Tensor.randn([6], dtype: .float64, generator: generator)
        _ = model(Variable(Tensor.randn([4, 2, 8, 8], dtype: .float64, generator: generator)))   // running statistics
        return model.eval()
    }

    /// The original's output with the channels of `model[index]` outside `kept` zeroed where the layer `consumer` reads them.
    static func masked(_ model: Sequential, _ x: Variable, index: Int, kept: [Int], consumer: Int) -> Tensor {
        let channels = (model[index] as! Conv2d).outChannels
        let mask = Variable(Tensor(shape: [1, channels, 1, 1], scalars: (0..<channels).map { kept.contains($0) ? 1.0 : 0.0 }))
        let handle = model[consumer].registerForwardPreHook { _, input in input * mask }
        defer { handle.remove() }
        return model(x).value
    }

    static func kept(_ model: Sequential, _ index: Int, keep: Int, norm: StructuredPruning.Norm) -> [Int] {
        let weight = (model[index] as! Conv2d).weight.value
        return StructuredPruning.strongestRows(weight.reshaped([weight.shape[0], weight.count / weight.shape[0]]), keep: keep, norm: norm)
    }

    /// The first convolution's channels: its BatchNorm is cut down and the second convolution loses input channels.
    @Test func prunedConvolutionFeedingAConvolutionMatchesTheMaskedOriginal() {
        let generator = RandomGenerator(seed: 51)
        let model = Self.model(generator)
        let small = StructuredPruning.removeChannels(of: model, at: 0, keep: 4, norm: .l2)
        let (first, batchNorm, next) = (small[0] as! Conv2d, small[1] as! BatchNorm2d, small[4] as! Conv2d)
        #expect(first.outChannels == 4 && batchNorm.numFeatures == 4 && next.inChannels == 4 && next.outChannels == 5)
        #expect(small[2] === model[2] && small[8] === model[8] && !batchNorm.isTraining)
        #expect(batchNorm.numBatchesTracked == (model[1] as! BatchNorm2d).numBatchesTracked)
        #expect(small.parameterCount == model.parameterCount - 2 * (2 * 9 + 1) - 2 * 2 - 5 * 2 * 9)
        let kept = Self.kept(model, 0, keep: 4, norm: .l2)
        let x = Variable(Tensor.randn([3, 2, 8, 8], dtype: .float64, generator: generator))
        #expect(isClose(small(x).value, Self.masked(model, x, index: 0, kept: kept, consumer: 4), tolerance: 1e-12))
    }

    /// The second convolution's channels: the Linear after the Flatten loses each dropped channel's 4×4 block.
    @Test func prunedConvolutionFeedingALinearMatchesTheMaskedOriginal() {
        let generator = RandomGenerator(seed: 52)
        let model = Self.model(generator)
        let small = StructuredPruning.removeChannels(of: model, at: 4, keep: 2, norm: .l1)
        #expect((small[4] as! Conv2d).outChannels == 2 && (small[8] as! Linear).inFeatures == 2 * 16)
        #expect(small[0] === model[0] && small[1] === model[1])
        let kept = Self.kept(model, 4, keep: 2, norm: .l1)
        let x = Variable(Tensor.randn([3, 2, 8, 8], dtype: .float64, generator: generator))
        #expect(isClose(small(x).value, Self.masked(model, x, index: 4, kept: kept, consumer: 6), tolerance: 1e-12))
        // Both in turn: still the original with both sets of channels masked.
        let smaller = StructuredPruning.removeChannels(of: small, at: 0, keep: 3)
        let keptFirst = Self.kept(model, 0, keep: 3, norm: .l1)
        let mask = Variable(Tensor(shape: [1, 6, 1, 1], scalars: (0..<6).map { keptFirst.contains($0) ? 1.0 : 0.0 }))
        let handle = model[4].registerForwardPreHook { _, input in input * mask }
        defer { handle.remove() }
        #expect(isClose(smaller(x).value, Self.masked(model, x, index: 4, kept: kept, consumer: 6), tolerance: 1e-12))
    }

    /// The W2 teacher's shape in Float: Conv2d(1, 8, 3), ReLU, MaxPool2d(2), Flatten, Linear.
    @Test func w2TeacherShrinksAndKeepsItsFunction() {
        let generator = RandomGenerator(seed: 53)
        let model = Sequential(Conv2d(1, 8, kernelSize: 3, generator: generator), ReLU(), MaxPool2d(kernelSize: 2), Flatten(),
                               Linear(8 * 13 * 13, 10, generator: generator)).eval()
        let small = StructuredPruning.removeChannels(of: model, at: 0, keep: 5)
        #expect((small[4] as! Linear).inFeatures == 5 * 169 && small.parameterCount == 5 * 10 + 5 * 169 * 10 + 10)
        let x = Variable(Tensor.randn([2, 1, 28, 28], generator: generator))
        let expected = Self.masked(model, x, index: 0, kept: Self.kept(model, 0, keep: 5, norm: .l1), consumer: 3)
        #expect((small(x).value - expected).abs().max().item < 1e-5)
    }

    @Test func unsupportedNeighboursTrap() async {
        await #expect(processExitsWith: .failure) {   // no Flatten before the Linear
            _ = StructuredPruning.removeChannels(of: Sequential(Conv2d(1, 4, kernelSize: 3), ReLU(), Linear(3, 2)), at: 0, keep: 2)
        }
        await #expect(processExitsWith: .failure) {   // a layer that mixes channels
            _ = StructuredPruning.removeChannels(of: Sequential(Conv2d(1, 4, kernelSize: 3), GroupNorm(numGroups: 2, numChannels: 4),
                                                                Conv2d(4, 2, kernelSize: 1)), at: 0, keep: 2)
        }
        await #expect(processExitsWith: .failure) {   // grouped convolution
            _ = StructuredPruning.removeChannels(of: Sequential(Conv2d(2, 4, kernelSize: 3, groups: 2), Conv2d(4, 2, kernelSize: 1)), at: 0, keep: 2)
        }
        await #expect(processExitsWith: .failure) {
            _ = StructuredPruning.removeChannels(of: Sequential(Conv2d(1, 4, kernelSize: 3), Conv2d(4, 2, kernelSize: 1)), at: 0, keep: 0)
        }
    }
}
