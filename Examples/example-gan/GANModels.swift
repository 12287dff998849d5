import NN
import ONNX

/// The length of the generator's noise vector z.
let latentSize = 100

/// Reshapes `[N, C·H·W]` to `[N, C, H, W]` (PyTorch's `nn.Unflatten(1, (C, H, W))`).
final class Unflatten: Module {
    let shape: [Int]

    init(_ shape: [Int]) {
        self.shape = shape
        super.init()
    }

    override func forward(_ x: Variable) -> Variable {
        precondition(x.rank == 2 && x.shape[1] == shape.reduce(1, *),
                     "Unflatten: input of shape \(x.shape) does not hold [N, \(shape.map(String.init).joined(separator: ", "))]")
        return x.reshaped([x.shape[0]] + shape)
    }

    override var summary: String { "shape: \(shape)" }
}

extension Unflatten: ONNXExportable {
    /// A `Reshape` that keeps the batch axis.
    func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        guard input.rank == 2 else { throw graph.invalidInput(self, "rank \(input.rank), expected [N, \(shape.reduce(1, *))]") }
        return graph.reshape(input, [0] + shape)
    }
}

/// W4's generator: z [N, 100] → Linear 6272 → BatchNorm1d → ReLU → 128×7×7 → ConvTranspose2d(128→64, 4, s2, p1)
/// → BatchNorm2d → ReLU → ConvTranspose2d(64→1, 4, s2, p1) → Tanh: images [N, 1, 28, 28] in (−1, 1).
///
/// `batchNorm: false` leaves out both batch norms, for tests that compare data-parallel training with one process:
/// batch statistics taken per rank make the two differ by design.
func makeGenerator(batchNorm: Bool = true) -> Sequential {
    Sequential {
        Linear(latentSize, 128 * 7 * 7)
        if batchNorm { BatchNorm1d(128 * 7 * 7) }
        ReLU()
        Unflatten([128, 7, 7])
        ConvTranspose2d(128, 64, kernelSize: 4, stride: 2, padding: 1)
        if batchNorm { BatchNorm2d(64) }
        ReLU()
        ConvTranspose2d(64, 1, kernelSize: 4, stride: 2, padding: 1)
        Tanh()
    }
}

/// W4's discriminator, images [N, 1, 28, 28] → one logit per image [N, 1]: Conv2d(1→64, 4, s2, p1) → LeakyReLU 0.2
/// → Conv2d(64→128, 4, s2, p1) → BatchNorm2d → LeakyReLU 0.2 → Flatten → Linear 6272→1.
///
/// With `batchNorm: false` it is the WGAN-GP critic: the gradient penalty is taken per sample, which batch
/// normalisation would couple across the batch, so the critic has no normalisation (as in Gulrajani et al. 2017).
/// Its last layer has no bias either: the Wasserstein losses see D only through differences `D(fake) − D(real)`
/// and input gradients, so a bias would never get a gradient.
/// `width` (the first convolution's channels) and `imageSize` shrink it for tests; both halvings need
/// `imageSize` divisible by 4.
func makeDiscriminator(batchNorm: Bool = true, width: Int = 64, imageSize: Int = 28) -> Sequential {
    precondition(width > 0 && imageSize > 0 && imageSize % 4 == 0,
                 "makeDiscriminator: width \(width) and image size \(imageSize) (a multiple of 4) are invalid")
    return Sequential {
        Conv2d(1, width, kernelSize: 4, stride: 2, padding: 1)
        LeakyReLU(negativeSlope: 0.2)
        Conv2d(width, 2 * width, kernelSize: 4, stride: 2, padding: 1)
        if batchNorm { BatchNorm2d(2 * width) }
        LeakyReLU(negativeSlope: 0.2)
        Flatten()
        Linear(2 * width * (imageSize / 4) * (imageSize / 4), 1, bias: batchNorm)
    }
}

/// The DCGAN paper's initialisation (Radford et al. 2016, as in PyTorch's DCGAN example): convolution,
/// transposed-convolution and linear weights from N(0, 0.02), batch-norm scales from N(1, 0.02), biases 0.
func initializeDCGANWeights(_ network: Module, generator: RandomGenerator = .global) {
    for module in network.modules() {
        switch module {
        case let layer as Conv2d:
            Init.normal(layer.weight, std: 0.02, generator: generator)
            if let bias = layer.bias { Init.zeros(bias) }
        case let layer as ConvTranspose2d:
            Init.normal(layer.weight, std: 0.02, generator: generator)
            if let bias = layer.bias { Init.zeros(bias) }
        case let layer as Linear:
            Init.normal(layer.weight, std: 0.02, generator: generator)
            if let bias = layer.bias { Init.zeros(bias) }
        case let layer as BatchNorm:
            if let weight = layer.weight { Init.normal(weight, mean: 1, std: 0.02, generator: generator) }
            if let bias = layer.bias { Init.zeros(bias) }
        default:
            continue
        }
    }
}
