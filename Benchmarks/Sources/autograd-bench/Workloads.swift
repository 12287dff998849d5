import NN
import Optim

/// One training step of a reference workload, ready to be timed.
typealias Step = () -> Void

/// The workloads of WORKLOADS.md that this build can run, by id.
enum Workload: String, CaseIterable {
    case w1 = "W1", w2 = "W2", w3 = "W3", w4 = "W4", w4b = "W4b", w5 = "W5", w7 = "W7", w8 = "W8"

    var summary: String {
        switch self {
        case .w1: return "MLP 784-512-256-10, Adam, batch 64"
        case .w2: return "CNN-small on 1x28x28, Adam, batch 64"
        case .w3: return "LeNet-5 on 3x32x32, SGD momentum 0.9, batch 64"
        case .w4: return "DCGAN-28: one D update (real + fake) and one G update, batch 64"
        case .w4b: return "WGAN-GP critic update (real + fake + gradient penalty), batch 64"
        case .w5: return "matmul n = 256, 1024, 2048 (GFLOP/s)"
        case .w7: return "GPT 4 layers x 128, 4 heads, context 64, vocabulary 113, AdamW, clip 1.0, batch 12"
        case .w8: return "LSTM 2 x 128 over embeddings of 113 tokens, sequence 50, Adam, clip 5.0, batch 50"
        }
    }

    /// The FLOP of one step's matrix products (a multiply-add counts 2), for the sequence workloads, whose targets sit
    /// near the floor these set; nil for the others. Counted from the models below: every Linear, the LSTM's input
    /// and recurrent products, and attention's `q·kᵀ` and `P·v` over the causal half (query i sees i + 1 keys). The
    /// backward takes two products per forward product: a weight's gradient and its input's (the embeddings need
    /// the first layer's; the recurrent product's input gradient is ∂h), and for attention ∂v, ∂P, ∂q and ∂k (the
    /// least: the scores not recomputed).
    var productFlops: Double? {
        switch self {
        case .w7:
            let (tokens, width, hidden, layers, vocabulary) = (12.0 * 64, 128.0, 512.0, 4.0, 113.0)
            let visibleKeys = 64.0 * 65 / 2, problems = 12.0 * 4, headWidth = 32.0
            let linears = layers * 2 * tokens * width * (3 * width + width + 2 * hidden) + 2 * tokens * width * vocabulary
            let attention = layers * 2 * 2 * problems * visibleKeys * headWidth
            return 3 * linears + 3 * attention
        case .w8:
            let (steps, width, layers, vocabulary) = (50.0 * 50, 128.0, 2.0, 113.0)
            // Per layer and direction of the data: the input projection and the recurrent product, each `4H × H`.
            let projection = 2 * steps * 4 * width * width
            let head = 2 * steps * width * vocabulary
            return 3 * (layers * 2 * projection + head)
        default: return nil
        }
    }

    /// The W2 CNN (example-cnn's model): also the model of the ONNX latency comparison.
    static func w2Model() -> Sequential {
        Sequential(Conv2d(1, 32, kernelSize: 3), ReLU(), MaxPool2d(kernelSize: 2), Flatten(), Linear(5408, 128), ReLU(), Linear(128, 10))
    }

    /// Builds the model, optimiser and fixed random inputs, and returns one training step.
    func makeStep() -> Step {
        let generator = RandomGenerator(seed: 0)
        switch self {
        case .w1:
            let model = Sequential(Linear(784, 512), ReLU(), Linear(512, 256), ReLU(), Linear(256, 10))
            let optimizer = Adam(model.parameters(), learningRate: 1e-3)
            let x = Variable(Tensor.rand([64, 784], generator: generator))
            let y = (0..<64).map { _ in Int(generator.nextBelow(10)) }
            return {
                optimizer.zeroGrad()
                crossEntropy(model(x), y).backward()
                optimizer.step()
            }
        case .w2:
            let model = Workload.w2Model()
            return classifierStep(model, Adam(model.parameters(), learningRate: 1e-3), input: [64, 1, 28, 28], generator: generator)
        case .w3:
            let model = Sequential(Conv2d(3, 6, kernelSize: 5), ReLU(), MaxPool2d(kernelSize: 2),
                                   Conv2d(6, 16, kernelSize: 5), ReLU(), MaxPool2d(kernelSize: 2), Flatten(),
                                   Linear(400, 120), ReLU(), Linear(120, 84), ReLU(), Linear(84, 10))
            return classifierStep(model, SGD(model.parameters(), learningRate: 1e-3, momentum: 0.9),
                                  input: [64, 3, 32, 32], generator: generator)
        case .w4:
            return dcganStep(generator: generator)
        case .w4b:
            return wganCriticStep(generator: generator)
        case .w5:
            preconditionFailure("W5 is measured in GFLOP/s, not as a training step")
        case .w7:
            return gptStep(generator: generator)
        case .w8:
            return lstmStep(generator: generator)
        }
    }
}

/// One cross-entropy training step of `model` on fixed random images of shape `input`.
private func classifierStep(_ model: Module, _ optimizer: Optimizer, input: [Int], generator: RandomGenerator) -> Step {
    let x = Variable(Tensor.rand(input, generator: generator))
    let y = (0..<input[0]).map { _ in Int(generator.nextBelow(10)) }
    return {
        optimizer.zeroGrad()
        crossEntropy(model(x), y).backward()
        optimizer.step()
    }
}

/// W4: the DCGAN of WORKLOADS.md; one step is a discriminator update on real and fake images, then a
/// generator update, both with Adam(2e-4, betas (0.5, 0.999)) and BCE-with-logits.
private func dcganStep(generator: RandomGenerator) -> Step {
    let head = Sequential(Linear(100, 6272), BatchNorm1d(6272), ReLU())
    let tail = Sequential(ConvTranspose2d(128, 64, kernelSize: 4, stride: 2, padding: 1), BatchNorm2d(64), ReLU(),
                          ConvTranspose2d(64, 1, kernelSize: 4, stride: 2, padding: 1), Tanh())
    let discriminator = Sequential(Conv2d(1, 64, kernelSize: 4, stride: 2, padding: 1), LeakyReLU(negativeSlope: 0.2),
                                   Conv2d(64, 128, kernelSize: 4, stride: 2, padding: 1), BatchNorm2d(128),
                                   LeakyReLU(negativeSlope: 0.2), Flatten(), Linear(6272, 1))
    func generate(_ z: Variable) -> Variable { tail(head(z).reshaped([-1, 128, 7, 7])) }
    let optimizerG = Adam(head.parameters() + tail.parameters(), learningRate: 2e-4, betas: (0.5, 0.999))
    let optimizerD = Adam(discriminator.parameters(), learningRate: 2e-4, betas: (0.5, 0.999))
    let real = Variable(Tensor.rand([64, 1, 28, 28], generator: generator) * 2 - 1)
    let ones = Variable(Tensor.ones([64, 1])), zeros = Variable(Tensor.zeros([64, 1]))
    return {
        let fake = generate(Variable(Tensor.randn([64, 100], generator: generator)))
        optimizerD.zeroGrad()
        let lossD = binaryCrossEntropyWithLogits(discriminator(real), ones)
            + binaryCrossEntropyWithLogits(discriminator(fake.detach()), zeros)
        lossD.backward()
        optimizerD.step()
        optimizerG.zeroGrad()
        binaryCrossEntropyWithLogits(discriminator(fake), ones).backward()
        optimizerG.step()
    }
}

/// W4b: one WGAN-GP critic update (Gulrajani et al. 2017) with W4's discriminator without BatchNorm (and, as
/// example-gan's critic, without the last layer's bias): `mean D(fake) − mean D(real) + λ·GP`, λ = 10, where the
/// penalty `mean (‖∇ₓ̂ D(x̂)‖₂ − 1)²` at `x̂ = ε·real + (1 − ε)·fake` differentiates the critic's input gradient
/// (taken with `createGraph: true`) once more. Adam(1e-4, betas (0.5, 0.9)); real and fake are fixed random images.
private func wganCriticStep(generator: RandomGenerator) -> Step {
    let critic = Sequential(Conv2d(1, 64, kernelSize: 4, stride: 2, padding: 1), LeakyReLU(negativeSlope: 0.2),
                            Conv2d(64, 128, kernelSize: 4, stride: 2, padding: 1), LeakyReLU(negativeSlope: 0.2),
                            Flatten(), Linear(6272, 1, bias: false))
    let optimizer = Adam(critic.parameters(), learningRate: 1e-4, betas: (0.5, 0.9))
    let real = Tensor.rand([64, 1, 28, 28], generator: generator) * 2 - 1
    let fake = Tensor.rand([64, 1, 28, 28], generator: generator) * 2 - 1
    return {
        let epsilon = Tensor.rand([64, 1, 1, 1], generator: generator)
        optimizer.zeroGrad()
        let interpolates = Variable(epsilon * real + (1 - epsilon) * fake, requiresGrad: true)
        let inputGradient = Graph.gradients(of: critic(interpolates).sum(), withRespectTo: [interpolates], createGraph: true)[0]
        let norms = (inputGradient.reshaped([64, -1]).squared().sum(axes: [1]) + 1e-12).sqrt()
        let penalty = (norms - 1).squared().mean() * 10
        let loss = critic(Variable(fake)).mean() - critic(Variable(real)).mean() + penalty
        loss.backward()
        optimizer.step()
    }
}

/// Random token windows `[batch, length]` and their targets over a vocabulary of 113 (the fortunes characters).
private func tokenBatch(batch: Int, length: Int, generator: RandomGenerator) -> (TensorIndices, [Int]) {
    let x = TensorIndices(shape: [batch, length], values: (0..<(batch * length)).map { _ in Int(generator.nextBelow(113)) })
    return (x, (0..<(batch * length)).map { _ in Int(generator.nextBelow(113)) })
}

/// W7: example-text's GPT (token + learned position embeddings, 4 pre-LayerNorm causal blocks with GELU, final
/// LayerNorm, head tied to the token embedding); one AdamW step (weight decay 0.1) with clipping at 1.0.
private func gptStep(generator: RandomGenerator) -> Step {
    let wte = Embedding(numEmbeddings: 113, embeddingDim: 128, generator: generator)
    let wpe = LearnedPositionalEmbedding(maxPositions: 64, embeddingDim: 128, generator: generator)
    let encoder = TransformerEncoder(numLayers: 4, norm: LayerNorm(normalizedShape: 128)) {
        TransformerEncoderLayer(dModel: 128, nhead: 4, dimFeedforward: 512, dropout: 0, activation: .gelu, batchFirst: true,
                                normFirst: true, generator: generator)
    }
    let parameters = wte.parameters() + wpe.parameters() + encoder.parameters()
    let optimizer = AdamW(parameters, learningRate: 1e-3, weightDecay: 0.1)
    let (x, y) = tokenBatch(batch: 12, length: 64, generator: generator)
    return {
        let h = encoder.forward(wpe(wte(x), offset: 0), isCausal: true).reshaped([12 * 64, 128])
        optimizer.zeroGrad()
        crossEntropy(Variable.matmul(h, wte.weight, transposeB: true), y).backward()
        clipGradNorm(parameters, maxNorm: 1)
        optimizer.step()
    }
}

/// W8: Embedding 113→128, LSTM 2 × 128, Linear 128→113 at every position; one Adam step with clipping at 5.0.
private func lstmStep(generator: RandomGenerator) -> Step {
    let embedding = Embedding(numEmbeddings: 113, embeddingDim: 128, generator: generator)
    let lstm = LSTM(inputSize: 128, hiddenSize: 128, numLayers: 2, batchFirst: true, generator: generator)
    let head = Linear(128, 113, generator: generator)
    let parameters = embedding.parameters() + lstm.parameters() + head.parameters()
    let optimizer = Adam(parameters, learningRate: 2e-3)
    let (x, y) = tokenBatch(batch: 50, length: 50, generator: generator)
    return {
        optimizer.zeroGrad()
        crossEntropy(head(lstm(embedding(x)).reshaped([50 * 50, 128])), y).backward()
        clipGradNorm(parameters, maxNorm: 5)
        optimizer.step()
    }
}
