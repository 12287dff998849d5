import NN
import Optim

/// What one call of a micro-benchmark does, to turn its time into a rate.
enum MicroWork {
    /// Bytes read and written by the kernel (the minimum traffic: each input read once, the output written once).
    case bytes(Double)
    /// Floating-point operations (a multiply-add counts 2).
    case flops(Double)

    /// The rate at `seconds` per call, with its unit: GB/s or GFLOP/s.
    func rate(seconds: Double) -> String {
        switch self {
        case .bytes(let b): return formatted(b / seconds / 1e9) + " GB/s"
        case .flops(let f): return formatted(f / seconds / 1e9) + " GFLOP/s"
        }
    }

    /// The FLOP per call, for the kernels counted in FLOP.
    var flops: Double? {
        if case .flops(let f) = self { return f }
        return nil
    }
}

/// One hot kernel timed through the public API, on a shape from the reference workloads (WORKLOADS.md).
///
/// The `id` names the same measurement in `pytorch/micro.py`; keep the two tables in step.
struct MicroCase {
    /// Stable name, matched by `--filter` and by the PyTorch side.
    let id: String
    /// The shapes involved, for the table.
    let shape: String
    /// Work per call, when a rate means something.
    let work: MicroWork?
    /// The fewest FLOP any implementation of the call needs, where that is less than `work` counts (a backward that
    /// makes again what a forward could have kept): the floors table's count. nil: `work`'s FLOP.
    var minimumFlops: Double? = nil

    /// The FLOP a floor counts for this kernel, nil when its work is not counted in FLOP.
    var floorFlops: Double? { minimumFlops ?? work?.flops }
    /// Builds the inputs (outside the timing) and returns the call to time.
    let make: () -> () -> Void
}

/// Keeps a result alive so that the optimiser cannot drop the call that made it.
@inline(never) func consume<T>(_ value: T) { withExtendedLifetime(value) {} }

private let float32Bytes = 4.0

private func randn(_ shape: [Int], requiresGrad: Bool = false) -> Variable {
    Variable(Tensor.randn(shape, generator: microGenerator), requiresGrad: requiresGrad)
}

/// One generator for all inputs; the values do not matter, only that they are ordinary (no NaN, no denormals).
private let microGenerator = RandomGenerator(seed: 0)

private func count(_ shape: [Int]) -> Double { Double(shape.reduce(1, *)) }

// MARK: - Case builders (one per kind of kernel; the table below lists the shapes)

/// A binary elementwise Tensor operation; `b` may broadcast into `a`.
private func binary(_ id: String, _ a: [Int], _ b: [Int], _ op: @escaping (Tensor, Tensor) -> Tensor) -> MicroCase {
    MicroCase(id: id, shape: "\(a) · \(b)", work: .bytes((2 * count(a) + count(b)) * float32Bytes)) {
        let x = randn(a).value, y = randn(b).value
        return { consume(op(x, y)) }
    }
}

/// A unary Tensor → Tensor kernel (elementwise, or a reduction when `outputShape` is smaller).
private func unary(_ id: String, _ shape: [Int], output: [Int]? = nil, _ op: @escaping (Tensor) -> Tensor) -> MicroCase {
    MicroCase(id: id, shape: "\(shape)" + (output.map { " → \($0)" } ?? ""),
              work: .bytes((count(shape) + count(output ?? shape)) * float32Bytes)) {
        let x = randn(shape).value
        return { consume(op(x)) }
    }
}

/// A layer's forward pass without recording (`Graph.noGrad`), as in inference.
private func forward(_ id: String, _ shape: [Int], work: MicroWork?, _ layer: @escaping () -> Module) -> MicroCase {
    MicroCase(id: id, shape: "\(shape)", work: work) {
        let module = layer(), x = randn(shape)
        return { Graph.noGrad { consume(module(x)) } }
    }
}

/// A layer's forward and backward pass from a fixed output gradient, gradients cleared (set to nil) after each call.
/// `inputGrad` says whether the input needs a gradient (false for a network's first layer).
private func forwardBackward(_ id: String, _ shape: [Int], inputGrad: Bool, work: MicroWork?,
                             _ layer: @escaping () -> Module) -> MicroCase {
    MicroCase(id: id, shape: "\(shape)", work: work) {
        let module = layer(), x = randn(shape, requiresGrad: inputGrad)
        let seed = Graph.noGrad { randn(module(x).shape).value }
        return {
            module(x).backward(seed: seed)
            module.zeroGrad()
            x.zeroGrad()
        }
    }
}

/// Multiply-adds ×2 of a convolution producing `[n, cOut, hOut, wOut]` from `cIn` channels with a `k × k` kernel.
private func convFlops(n: Int, cIn: Int, cOut: Int, k: Int, hOut: Int, wOut: Int) -> Double {
    2 * Double(n * cOut * hOut * wOut) * Double(cIn * k * k)
}

/// Forward, and forward + backward, of one convolution layer; backward costs a product per gradient
/// (weight, and input when it needs one).
private func convolution(_ name: String, _ shape: [Int], inputGrad: Bool, flops: Double,
                         _ layer: @escaping () -> Module) -> [MicroCase] {
    [forward("\(name)-fwd", shape, work: .flops(flops), layer),
     forwardBackward("\(name)-fwd-bwd", shape, inputGrad: inputGrad, work: .flops(flops * (inputGrad ? 3 : 2)), layer)]
}

/// `optimizer.step()` over parameters of `shapes` whose gradients are fixed random tensors.
/// `bytesPerParameter` counts the Float32 traffic of one update (parameter, gradient and state, read and written).
private func optimizerStep(_ id: String, _ label: String, shapes: [[Int]], floatsPerParameter: Double,
                           _ make: @escaping ([Variable]) -> Optimizer) -> MicroCase {
    let total = shapes.map(count).reduce(0, +)
    return MicroCase(id: id, shape: "\(label) (\(Int(total)) parameters)", work: .bytes(total * floatsPerParameter * float32Bytes)) {
        let parameters = shapes.map { randn($0, requiresGrad: true) }
        for p in parameters { p.grad = randn(p.shape).value }
        let optimizer = make(parameters)
        return { optimizer.step() }
    }
}

/// The parameter shapes of W1 (Linear 784→512→256→10, weights and biases).
private let w1Parameters = [[512, 784], [512], [256, 512], [256], [10, 256], [10]]

// MARK: - The table

extension MicroCase {
    /// Every micro-benchmark, in table order.
    static let all: [MicroCase] = elementwise + reductions + softmax + convolutions + pooling + batchNorm + optimizers + products
        + attention + layerNorm + sequenceOps + recurrent

    static let elementwise: [MicroCase] = [
        binary("add", [64, 128, 14, 14], [64, 128, 14, 14], +),
        binary("add-channel-broadcast", [64, 64, 14, 14], [1, 64, 1, 1], +),
        binary("mul", [64, 128, 14, 14], [64, 128, 14, 14], *),
        unary("relu", [64, 128, 14, 14]) { $0.relu() },
        unary("exp", [64, 128, 14, 14]) { $0.exp() },
        unary("tanh", [64, 128, 14, 14]) { $0.tanh() },
        unary("sigmoid", [64, 128, 14, 14]) { $0.sigmoid() },
        unary("leaky-relu", [64, 128, 14, 14]) { x in Graph.noGrad { leakyReLU(Variable(x), negativeSlope: 0.2).value } },
    ]

    static let reductions: [MicroCase] = [
        unary("sum-all", [64, 128, 14, 14], output: []) { $0.sum() },
        unary("sum-axes-0-2-3", [64, 64, 14, 14], output: [64]) { $0.sum(axes: [0, 2, 3]) },
        unary("sum-to-shape-channel", [64, 64, 14, 14], output: [1, 64, 1, 1]) { $0.sum(toShape: [1, 64, 1, 1]) },
        unary("sum-to-shape-bias", [64, 512], output: [512]) { $0.sum(toShape: [512]) },
        unary("mean-last-axis", [256, 1000], output: [256]) { $0.mean(axes: [1]) },
    ]

    static let softmax: [MicroCase] = [
        unary("softmax-64x10", [64, 10]) { $0.softmax(axis: -1) },
        unary("softmax-256x1000", [256, 1000]) { $0.softmax(axis: -1) },
        unary("log-softmax-64x10", [64, 10]) { $0.logSoftmax(axis: -1) },
        unary("log-softmax-256x1000", [256, 1000]) { $0.logSoftmax(axis: -1) },
        MicroCase(id: "cross-entropy-fwd-bwd", shape: "[64, 10]", work: nil) {
            let logits = randn([64, 10], requiresGrad: true)
            let targets = (0..<64).map { _ in Int(microGenerator.nextBelow(10)) }
            return {
                crossEntropy(logits, targets).backward()
                logits.zeroGrad()
            }
        },
    ]

    static let convolutions: [MicroCase] =
        convolution("conv-1-32-k3", [64, 1, 28, 28], inputGrad: false,
                    flops: convFlops(n: 64, cIn: 1, cOut: 32, k: 3, hOut: 26, wOut: 26)) { Conv2d(1, 32, kernelSize: 3) }
        + convolution("conv-3-6-k5", [64, 3, 32, 32], inputGrad: false,
                      flops: convFlops(n: 64, cIn: 3, cOut: 6, k: 5, hOut: 28, wOut: 28)) { Conv2d(3, 6, kernelSize: 5) }
        + convolution("conv-6-16-k5", [64, 6, 14, 14], inputGrad: true,
                      flops: convFlops(n: 64, cIn: 6, cOut: 16, k: 5, hOut: 10, wOut: 10)) { Conv2d(6, 16, kernelSize: 5) }
        // The DCGAN discriminator's first layer: one input channel, a 14×14 output plane per filter.
        + convolution("conv-1-64-k4s2p1", [64, 1, 28, 28], inputGrad: false,
                      flops: convFlops(n: 64, cIn: 1, cOut: 64, k: 4, hOut: 14, wOut: 14)) {
            Conv2d(1, 64, kernelSize: 4, stride: 2, padding: 1)
        }
        + convolution("conv-64-128-k4s2p1", [64, 64, 14, 14], inputGrad: true,
                      flops: convFlops(n: 64, cIn: 64, cOut: 128, k: 4, hOut: 7, wOut: 7)) {
            Conv2d(64, 128, kernelSize: 4, stride: 2, padding: 1)
        }
        // A transposed convolution does the multiply-adds of the convolution it transposes (64 ← 128 at 7×7).
        + convolution("conv-transpose-128-64-k4s2p1", [64, 128, 7, 7], inputGrad: true,
                      flops: convFlops(n: 64, cIn: 64, cOut: 128, k: 4, hOut: 7, wOut: 7)) {
            ConvTranspose2d(128, 64, kernelSize: 4, stride: 2, padding: 1)
        }

    static let pooling: [MicroCase] = [[64, 32, 26, 26], [64, 6, 28, 28]].flatMap { shape -> [MicroCase] in
        let name = "maxpool2-\(shape[1])x\(shape[2])"
        return [forward("\(name)-fwd", shape, work: .bytes(count(shape) * 1.25 * float32Bytes)) { MaxPool2d(kernelSize: 2) },
                forwardBackward("\(name)-fwd-bwd", shape, inputGrad: true, work: nil) { MaxPool2d(kernelSize: 2) }]
    }

    static let batchNorm: [MicroCase] = [
        forwardBackward("batchnorm2d-64-train-fwd-bwd", [64, 64, 14, 14], inputGrad: true, work: nil) { BatchNorm2d(64) },
    ]

    static let optimizers: [MicroCase] = [
        // Adam reads θ, g, m, v and writes θ, m, v; SGD with momentum reads θ, g, b and writes θ, b.
        optimizerStep("adam-step-w1", "W1", shapes: w1Parameters, floatsPerParameter: 7) { Adam($0, learningRate: 1e-3) },
        optimizerStep("adam-step-1m", "[1000, 1000]", shapes: [[1000, 1000]], floatsPerParameter: 7) { Adam($0, learningRate: 1e-3) },
        optimizerStep("sgd-momentum-step-w1", "W1", shapes: w1Parameters, floatsPerParameter: 5) {
            SGD($0, learningRate: 1e-3, momentum: 0.9)
        },
        optimizerStep("sgd-momentum-step-1m", "[1000, 1000]", shapes: [[1000, 1000]], floatsPerParameter: 5) {
            SGD($0, learningRate: 1e-3, momentum: 0.9)
        },
    ]

    static let products: [MicroCase] = [
        MicroCase(id: "matmul-64x784x512", shape: "[64, 784] × [784, 512]", work: .flops(2 * 64 * 784 * 512)) {
            let a = randn([64, 784]).value, b = randn([784, 512]).value
            return { consume(Tensor.matmul(a, b)) }
        },
    ]

    /// Sorting, sampling's topk over a GPT-2 vocabulary, upsampling, a 1-D convolution and an attention-score einsum.
    static let sequenceOps: [MicroCase] = [
        unary("topk-8x50257-k50", [8, 50257], output: [8, 50]) { $0.topk(k: 50).values },
        unary("sort-256x1000", [256, 1000]) { $0.sorted(axis: -1).values },
        unary("upsample-nearest-x2", [16, 64, 32, 32], output: [16, 64, 64, 64]) { $0.upsample(scaleFactor: 2) },
        unary("upsample-bilinear-x2", [16, 64, 32, 32], output: [16, 64, 64, 64]) { $0.upsample(scaleFactor: 2, mode: .bilinear) },
        MicroCase(id: "einsum-attention-scores", shape: "bhqd,bhkd->bhqk, [8, 8, 128, 64] twice", work: .flops(2 * 8 * 8 * 128 * 128 * 64)) {
            let q = randn([8, 8, 128, 64]).value, k = randn([8, 8, 128, 64]).value
            return { consume(Tensor.einsum("bhqd,bhkd->bhqk", q, k)) }
        },
    ] + convolution("conv1d-64-64-k3", [32, 64, 256], inputGrad: true, flops: 2 * 32 * 64 * 256 * 64 * 3) {
        Conv1d(64, 64, kernelSize: 3, padding: 1)
    }
}

// MARK: - Sequence models

/// Multiply-adds ×2 of attention over `[12, 4, t, 32]`: `q·kᵀ` and `P·v`, each `12·4·t·t·32`.
private func attentionFlops(_ t: Int) -> Double { 2 * 2 * Double(12 * 4 * t * t * 32) }

/// Scaled dot-product attention on q, k, v of `[12, 4, t, 32]` (batch 12, 4 heads, head width 32): the forward
/// unrecorded, and forward + backward from a fixed output gradient (the backward makes the weights again and runs
/// four products: 3 forward-sized products' worth more).
private func attentionCases(_ t: Int) -> [MicroCase] {
    let shape = [12, 4, t, 32]
    return [
        MicroCase(id: "attention-t\(t)-fwd", shape: "\(shape)", work: .flops(attentionFlops(t))) {
            let q = randn(shape), k = randn(shape), v = randn(shape)
            return { Graph.noGrad { consume(Variable.scaledDotProductAttention(query: q, key: k, value: v)) } }
        },
        // The least is 3× the forward: the scores' product is not needed again when the weights are kept.
        MicroCase(id: "attention-t\(t)-fwd-bwd", shape: "\(shape)", work: .flops(attentionFlops(t) * 3.5), minimumFlops: attentionFlops(t) * 3) {
            let q = randn(shape, requiresGrad: true), k = randn(shape, requiresGrad: true), v = randn(shape, requiresGrad: true)
            let seed = randn(shape).value
            return {
                Variable.scaledDotProductAttention(query: q, key: k, value: v).backward(seed: seed)
                for x in [q, k, v] { x.zeroGrad() }
            }
        },
    ]
}

/// The causal forward + backward of ``attentionCases(_:)``'s shape: a GPT block's attention (example-text trains
/// T = 64, batch 12, 4 heads of 32).
private func causalAttentionCase(_ t: Int) -> MicroCase {
    let shape = [12, 4, t, 32]
    // At least: 3× the forward over the visible scores, query i seeing i + 1 keys.
    let visible = Double(t + 1) / Double(2 * t)
    return MicroCase(id: "attention-t\(t)-causal-fwd-bwd", shape: "\(shape)", work: .flops(attentionFlops(t) * 3.5 / 2),
                     minimumFlops: attentionFlops(t) * 3 * visible) {
        let q = randn(shape, requiresGrad: true), k = randn(shape, requiresGrad: true), v = randn(shape, requiresGrad: true)
        let seed = randn(shape).value
        return {
            Variable.scaledDotProductAttention(query: q, key: k, value: v, isCausal: true).backward(seed: seed)
            for x in [q, k, v] { x.zeroGrad() }
        }
    }
}

extension MicroCase {
    static let attention: [MicroCase] = [64, 256, 1024].flatMap(attentionCases) + [64, 256].map(causalAttentionCase)

    static let layerNorm: [MicroCase] = [
        forward("layernorm-4096x128-fwd", [4096, 128], work: .bytes(2 * 4096 * 128 * float32Bytes)) { LayerNorm(normalizedShape: 128) },
        forwardBackward("layernorm-4096x128-fwd-bwd", [4096, 128], inputGrad: true, work: nil) { LayerNorm(normalizedShape: 128) },
        forwardBackward("layernorm-768x128-fwd-bwd", [768, 128], inputGrad: true, work: nil) { LayerNorm(normalizedShape: 128) },
        // The feed-forward activation of example-text's GPT: 12 windows of 64 tokens, 512 hidden units.
        forward("gelu-768x512-fwd", [768, 512], work: .bytes(2 * 768 * 512 * float32Bytes)) { GELU() },
        forwardBackward("gelu-768x512-fwd-bwd", [768, 512], inputGrad: true, work: .bytes(5 * 768 * 512 * float32Bytes)) { GELU() },
    ]
    /// A 2-layer LSTM of 128 units on 50 steps of a batch of 50 (input 128). Forward: per layer the input projection and
    /// the recurrent products, 2·T·B·4H·(I + H) FLOP; backward (the input needs no gradient): the weight gradients of
    /// both layers, the second layer's input gradient and the recurrent ∂h products.
    static let recurrent: [MicroCase] = {
        let (t, b, h) = (50, 50, 128), perLayer = 2.0 * Double(t * b * 4 * h)
        let forwardFlops = 2 * perLayer * Double(h + h)
        let backwardFlops = forwardFlops + perLayer * Double(h) + 2 * perLayer * Double(h)
        let make = { LSTM(inputSize: h, hiddenSize: h, numLayers: 2) }
        return [forward("lstm-2x128-t50-b50-fwd", [t, b, h], work: .flops(forwardFlops), make),
                forwardBackward("lstm-2x128-t50-b50-fwd-bwd", [t, b, h], inputGrad: false, work: .flops(forwardFlops + backwardFlops), make)]
    }()
}
