import Testing
@testable import NN

// The pooling layers forward their configuration to the Variable operations (whose values and gradients
// are tested in AutoGradTests/PoolingTests), hold no parameters, and compose in models.

@Suite struct PoolingLayerTests {
    private let x = Variable(Tensor.randn([2, 3, 7, 6], dtype: .float64, generator: RandomGenerator(seed: 11)))

    @Test func maxPoolLayerIsTheOperationWithItsConfiguration() {
        #expect(MaxPool2d(kernelSize: 2)(x).value == x.value.maxPool2d(kernelSize: (2, 2), stride: (2, 2), padding: (0, 0)))
        #expect(MaxPool2d(kernelSize: 3, stride: 2, padding: 1)(x).value == x.value.maxPool2d(kernelSize: 3, stride: 2, padding: 1))
        let layer = MaxPool2d(kernelSize: (3, 2), stride: (1, 2), padding: (1, 0))
        #expect(layer(x).value == x.value.maxPool2d(kernelSize: (3, 2), stride: (1, 2), padding: (1, 0)))
        #expect(layer(x).shape == [2, 3, 7, 3])
        #expect(layer.stride == (1, 2) && MaxPool2d(kernelSize: (3, 2)).stride == (3, 2))
        #expect(layer.description == "MaxPool2d(kernelSize: (3, 2), stride: (1, 2), padding: (1, 0))")
    }

    @Test func avgPoolLayerIsTheOperationWithItsConfiguration() {
        let layer = AvgPool2d(kernelSize: 3, stride: 2, padding: 1, countIncludePad: false)
        #expect(layer(x).value == x.value.avgPool2d(kernelSize: 3, stride: 2, padding: 1, countIncludePad: false))
        #expect(layer(x).shape == [2, 3, 4, 3])
        let override = AvgPool2d(kernelSize: (2, 3), divisorOverride: 4)
        #expect(override(x).value == x.value.avgPool2d(kernelSize: (2, 3), stride: (2, 3), divisorOverride: 4))
        #expect(layer.description == "AvgPool2d(kernelSize: (3, 3), stride: (2, 2), padding: (1, 1), countIncludePad: false)")
    }

    @Test func adaptiveLayerIsTheOperation() {
        #expect(AdaptiveAvgPool2d(outputSize: (3, 2))(x).value == x.value.adaptiveAvgPool2d(outputSize: (3, 2)))
        let gap = AdaptiveAvgPool2d(outputSize: 1)
        #expect(isClose(gap(x).value, x.value.mean(axes: [2, 3], keepDims: true), tolerance: 1e-14))
        #expect(gap.description == "AdaptiveAvgPool2d(outputSize: (1, 1))")
    }

    @Test func layersHaveNoStateAndWorkInAModel() {
        let model = Sequential(
            BatchNorm2d(3, dtype: .float64), MaxPool2d(kernelSize: 2), Dropout2d(p: 0.2),
            AvgPool2d(kernelSize: 2, stride: 1), AdaptiveAvgPool2d(outputSize: 1), Flatten()
        )
        #expect(model.namedParameters().map(\.name) == ["0.weight", "0.bias"])
        #expect(model.namedBuffers().map(\.name) == ["0.running_mean", "0.running_var", "0.num_batches_tracked"])
        let input = Variable(x.value, requiresGrad: true)
        let y = model(input)
        #expect(y.shape == [2, 3])
        y.sum().backward()
        #expect(input.grad!.shape == x.shape && model.parameters().allSatisfy { $0.grad != nil })
        model.eval()
        #expect(model(x).shape == [2, 3])
    }
}
