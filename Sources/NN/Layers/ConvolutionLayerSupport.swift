// What Conv2d and ConvTranspose2d share: the checks of channel counts, PyTorch's default parameter
// initialisation and the handling of unbatched inputs.

enum ConvolutionLayerSupport {
    /// Traps, naming `layer`, unless the channel counts and kernel size are positive and `groups`
    /// divides both channel counts.
    static func checkChannels(_ inChannels: Int, _ outChannels: Int, kernelSize: (Int, Int), groups: Int, layer: String) {
        precondition(inChannels >= 1 && outChannels >= 1 && kernelSize.0 >= 1 && kernelSize.1 >= 1,
                     "\(layer): channels \(inChannels) → \(outChannels) and kernel size \(kernelSize) must be positive")
        precondition(groups >= 1 && inChannels % groups == 0 && outChannels % groups == 0,
                     "\(layer): groups \(groups) must divide both \(inChannels) input and \(outChannels) output channels")
    }

    /// A weight of `weightShape` drawn by Kaiming uniform with `a = √5`, which is U(−1/√fanIn, 1/√fanIn),
    /// and, when `bias`, a bias of `biasCount` elements from U(−1/√fanIn, 1/√fanIn), drawn in that
    /// order (PyTorch's `_ConvNd.reset_parameters`). `fanIn` is `weightShape[1] · kH · kW`, as
    /// PyTorch computes it for both layouts.
    static func parameters(weightShape: [Int], biasCount: Int, bias: Bool, dtype: DType,
                           generator: RandomGenerator) -> (weight: Variable, bias: Variable?) {
        let weight = Variable(Tensor.zeros(weightShape, dtype: dtype))
        Init.kaimingUniform(weight, nonlinearity: .leakyReLU(negativeSlope: 5.0.squareRoot()), generator: generator)
        guard bias else { return (weight, nil) }
        let bound = 1 / Double(Init.fans(of: weightShape).fanIn).squareRoot()
        return (weight, Variable(Tensor.uniform([biasCount], low: -bound, high: bound, dtype: dtype, generator: generator)))
    }

    /// Applies `body` to a batched `[N, C, spatial…]` input, or to an unbatched `[C, spatial…]` one as a batch
    /// of one (the result then loses its batch dimension again), as PyTorch's layers accept both.
    static func batched(_ x: Variable, channels: Int, spatialDimensions: Int = 2, layer: String,
                        _ body: (Variable) -> Variable) -> Variable {
        let spatial = spatialDimensions == 1 ? "L" : "H, W"
        precondition((x.rank == spatialDimensions + 2 || x.rank == spatialDimensions + 1) && x.shape[x.rank - spatialDimensions - 1] == channels,
                     "\(layer): input of shape \(x.shape) is not [N, \(channels), \(spatial)] or [\(channels), \(spatial)]")
        guard x.rank == spatialDimensions + 1 else { return body(x) }
        return body(x.unsqueezed(axis: 0)).squeezed(axis: 0)
    }
}
