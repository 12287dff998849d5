import Testing
@testable import NN

// Conv2d and ConvTranspose2d: PyTorch's default initialisation (bounds from the right fan-in),
// forward equal to the functional API with the layer's parameters, unbatched inputs, gradients.

/// Every element of `t` lies within ±`bound`, and the extremes come within 10% of it (so a wrong,
/// larger fan-in, which shrinks the bound by √2 or more here, would show).
private func expectUniformWithin(_ t: Tensor, _ bound: Double, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let v = t.doubles
    #expect(v.allSatisfy { Swift.abs($0) <= bound }, "\(label): outside ±\(bound)", sourceLocation: sourceLocation)
    #expect(v.max()! > 0.9 * bound && v.min()! < -0.9 * bound, "\(label): extremes \(v.min()!), \(v.max()!) far from ±\(bound)",
            sourceLocation: sourceLocation)
}

@Suite struct ConvLayerTests {
    @Test func conv2dInitIsUniformWithinOneOverRootFanIn() {
        let conv = Conv2d(16, 32, kernelSize: 3, generator: RandomGenerator(seed: 1))
        #expect(conv.weight.shape == [32, 16, 3, 3] && conv.bias!.shape == [32])
        expectUniformWithin(conv.weight.value, 1 / 144.0.squareRoot(), "weight")   // fanIn = 16·3·3
        #expect(conv.bias!.value.doubles.allSatisfy { Swift.abs($0) <= 1 / 144.0.squareRoot() })
        // Groups divide the fan-in: 8/4 channels · 3 · 2 taps.
        let grouped = Conv2d(16, 16, kernelSize: (3, 2), groups: 8, generator: RandomGenerator(seed: 2))
        #expect(grouped.weight.shape == [16, 2, 3, 2])
        expectUniformWithin(grouped.weight.value, 1 / 12.0.squareRoot(), "grouped weight")
        #expect(Conv2d(3, 4, kernelSize: 3, bias: false).namedParameters().map(\.name) == ["weight"])
        #expect(Conv2d(3, 4, kernelSize: 3, generator: RandomGenerator(seed: 3)).weight.value
                == Conv2d(3, 4, kernelSize: 3, generator: RandomGenerator(seed: 3)).weight.value)
        #expect(Conv2d(3, 4, kernelSize: 3, dtype: .float64).weight.dtype == .float64)
    }

    @Test func convTranspose2dInitTakesTheFanInFromWeightDimensionOne() {
        // Weight [16, 8, 4, 4]: PyTorch's fan-in is 8·4·4 = 128, not inChannels·4·4 = 256.
        let up = ConvTranspose2d(16, 8, kernelSize: 4, stride: 2, padding: 1, generator: RandomGenerator(seed: 4))
        #expect(up.weight.shape == [16, 8, 4, 4] && up.bias!.shape == [8])
        expectUniformWithin(up.weight.value, 1 / 128.0.squareRoot(), "weight")
        #expect(up.bias!.value.doubles.allSatisfy { Swift.abs($0) <= 1 / 128.0.squareRoot() })
        let grouped = ConvTranspose2d(12, 8, kernelSize: (3, 2), groups: 4, generator: RandomGenerator(seed: 5))
        #expect(grouped.weight.shape == [12, 2, 3, 2])
        expectUniformWithin(grouped.weight.value, 1 / 12.0.squareRoot(), "grouped weight")   // fanIn = 8/4 · 3 · 2
    }

    @Test func forwardIsTheFunctionalOperationWithTheLayersParameters() {
        let g = RandomGenerator(seed: 6)
        let conv = Conv2d(4, 6, kernelSize: (3, 2), stride: (2, 1), padding: 1, dilation: (1, 2), groups: 2, dtype: .float64)
        let x = Variable(Tensor.randn([2, 4, 7, 6], dtype: .float64, generator: g))
        let y = conv(x)
        #expect(y.shape == [2, 6, 4, 6])
        #expect(y.value == Variable.conv2d(x, weight: conv.weight, bias: conv.bias, stride: (2, 1), padding: 1,
                                           dilation: (1, 2), groups: 2).value)
        // Unbatched [C, H, W] input gives the batch-of-one result without its batch dimension.
        let single = x.sliced(axis: 0, start: 1, end: 2, step: 1)
        #expect(conv(single.squeezed(axis: 0)).value == conv(single).value.squeezed(axis: 0))

        let up = ConvTranspose2d(6, 4, kernelSize: 4, stride: 2, padding: 1, outputPadding: 1, groups: 2, dtype: .float64)
        let z = Variable(Tensor.randn([2, 6, 3, 3], dtype: .float64, generator: g))
        #expect(up(z).shape == [2, 4, 7, 7])   // (3 − 1)·2 − 2 + 3 + 1 + 1
        #expect(up(z).value == Variable.convTranspose2d(z, weight: up.weight, bias: up.bias, stride: (2, 2), padding: (1, 1),
                                                        outputPadding: (1, 1), groups: 2).value)
        #expect(Conv2d(1, 32, kernelSize: 3, padding: .same)(Variable(Tensor.zeros([1, 1, 28, 28]))).shape == [1, 32, 28, 28])
    }

    @Test func gradientsThroughTheLayers() throws {
        let g = RandomGenerator(seed: 7)
        let conv = Conv2d(2, 3, kernelSize: 2, stride: 2, padding: 1, dtype: .float64)
        try gradcheck({ xs in
            conv.weight = xs[1]
            conv.bias = xs[2]
            return conv(xs[0])
        }, inputs: [Tensor.randn([2, 2, 4, 3], dtype: .float64, generator: g), Tensor.randn([3, 2, 2, 2], dtype: .float64, generator: g),
                    Tensor.randn([3], dtype: .float64, generator: g)])
        let up = ConvTranspose2d(2, 2, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1, dtype: .float64)
        try gradcheck({ xs in
            up.weight = xs[1]
            up.bias = xs[2]
            return up(xs[0])
        }, inputs: [Tensor.randn([1, 2, 2, 3], dtype: .float64, generator: g), Tensor.randn([2, 2, 3, 3], dtype: .float64, generator: g),
                    Tensor.randn([2], dtype: .float64, generator: g)])
    }

    @Test func summariesNameTheConfiguration() {
        #expect(Conv2d(1, 32, kernelSize: 3, padding: 1).summary == "1, 32, kernelSize: (3, 3), stride: (1, 1), padding: (1, 1), bias: true")
        #expect(ConvTranspose2d(8, 4, kernelSize: 4, stride: 2, padding: 1, groups: 2, bias: false).summary
                == "8, 4, kernelSize: (4, 4), stride: (2, 2), padding: (1, 1), groups: 2, bias: false")
    }

    @Test func wrongInputChannelsTrap() async {
        await #expect(processExitsWith: .failure) {
            _ = Conv2d(3, 4, kernelSize: 3)(Variable(Tensor.zeros([1, 2, 5, 5])))
        }
    }
}
