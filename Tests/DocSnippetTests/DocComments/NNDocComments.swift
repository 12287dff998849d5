import NN
import Testing

// The swift snippets of the `///` comments of NN as the comments show them (scripts/sync-doc-snippets.py copies
// them here, DocSnippetSyncTests fails when they differ), one function per snippet, grouped by source file. A
// function's parameters are what its snippet assumes; the ones that need nothing from outside also run, in
// NNDocCommentRuns.

// MARK: Sources/NN/Compression

func distillationLossComment(student: Module, teacher: Module, x: Variable, labels: [Int]) {
    // snippet: Sources/NN/Compression/Distillation/DistillationLoss.swift#1
    let loss = distillationLoss(student(x), teacher(x).detach(), labels, temperature: 4, alpha: 0.9)
    // end snippet
    _ = loss
}

func parameterPruningComment(mask: Tensor) {
    // snippet: Sources/NN/Compression/Pruning/ParameterPruning.swift#1
    let fc = Linear(4, 3)
    fc.prune("weight", mask: mask)           // stateDict(): weight_orig, weight_mask, bias
    fc.removePruning("weight")               // stateDict(): weight (masked values), bias
    // end snippet
}

func dynamicQuantizedLinearComment() {
    // snippet: Sources/NN/Compression/Quantization/DynamicQuantizedLinear.swift#1
    let q = DynamicQuantizedLinear(Linear(784, 10))
    let logits = q(Variable(Tensor.randn([32, 784])))   // [32, 10]
    // end snippet
    _ = logits
}

func channelPruningComment(model: Sequential) {
    // snippet: Sources/NN/Compression/Pruning/ChannelPruning.swift#1
    // W2: Conv2d(1, 32, 3), ReLU, MaxPool2d(2), Flatten, Linear(5408, 128), ReLU, Linear(128, 10)
    let smaller = StructuredPruning.removeChannels(of: model, at: 0, keep: 16, norm: .l2)
    // Conv2d(1, 16, 3), …, Linear(2704, 128), …
    // end snippet
    _ = smaller
}

func minMaxObserverComment(calibration: [Tensor]) {
    // snippet: Sources/NN/Compression/Quantization/MinMaxObserver.swift#1
    var observer = MinMaxObserver()
    for batch in calibration { observer.observe(batch) }
    let map = observer.quantization   // scale and zero point for [min(low, 0), max(high, 0)]
    // end snippet
    _ = map
}

func quantizeStaticComment(model: Sequential, images: Tensor, test: Tensor) {
    // snippet: Sources/NN/Compression/Quantization/QuantizeStatic.swift#1
    let batches = (0..<8).map { images.sliced(axis: 0, start: $0 * 64, end: $0 * 64 + 64) }
    let int8 = quantizeStatic(model, calibration: batches)
    let logits = int8(Variable(test))
    // end snippet
    _ = logits
}

func staticQuantizedConv2dComment(images: Tensor) {
    // snippet: Sources/NN/Compression/Quantization/StaticQuantizedConv2d.swift#1
    let conv = Conv2d(1, 32, kernelSize: 3)
    var observer = MinMaxObserver()
    observer.observe(images)                                    // calibration
    let q = StaticQuantizedConv2d(conv, input: observer.quantization)
    let features = q(Variable(images))                          // [N, 32, 26, 26]
    // end snippet
    _ = features
}

// MARK: Sources/NN/Generation, Sources/NN/Init

func tokenSamplerComment(lastPositionLogits: [Double]) {
    // snippet: Sources/NN/Generation/TokenSampler.swift#1
    let sampler = TokenSampler(temperature: 0.8, topK: 40)
    let next = sampler.sample(logits: lastPositionLogits, generator: RandomGenerator(seed: 1))
    // end snippet
    _ = next
}

func initComment() {
    // snippet: Sources/NN/Init/Init.swift#1
    let layer = Linear(256, 128)
    Init.kaimingNormal(layer.weight, nonlinearity: .relu)
    Init.zeros(layer.bias!)
    // end snippet
}

// MARK: Sources/NN/Layers

func batchNorm1dComment() {
    // snippet: Sources/NN/Layers/BatchNorm.swift#1
    let bn = BatchNorm1d(64)
    let y = bn(Variable(Tensor.randn([32, 64])))   // per-feature zero mean, unit variance in training
    // end snippet
    _ = y
}

func batchNorm2dComment() {
    // snippet: Sources/NN/Layers/BatchNorm.swift#2
    let bn = BatchNorm2d(16)
    let y = bn(Variable(Tensor.randn([8, 16, 32, 32])))   // same shape, normalised per channel
    // end snippet
    _ = y
}

func conv1dComment() {
    // snippet: Sources/NN/Layers/Conv1d.swift#1
    let conv = Conv1d(16, 32, kernelSize: 3, padding: .same)
    let features = conv(Variable(Tensor.randn([8, 16, 100])))   // [8, 32, 100]
    // end snippet
    _ = features
}

func conv2dLayerComment() {
    // snippet: Sources/NN/Layers/Conv2d.swift#1
    let conv = Conv2d(1, 32, kernelSize: 3, padding: 1)
    let features = conv(Variable(Tensor.randn([64, 1, 28, 28])))   // [64, 32, 28, 28]
    // end snippet
    _ = features
}

func convTranspose2dLayerComment() {
    // snippet: Sources/NN/Layers/ConvTranspose2d.swift#1
    let up = ConvTranspose2d(128, 64, kernelSize: 4, stride: 2, padding: 1)
    let image = up(Variable(Tensor.randn([64, 128, 7, 7])))   // [64, 64, 14, 14]
    // end snippet
    _ = image
}

func dropoutComment() {
    // snippet: Sources/NN/Layers/Dropout.swift#1
    let drop = Dropout(p: 0.2)
    drop.eval()        // now drop(x) is x
    // end snippet
}

func dropout2dComment(features: Variable) {
    // snippet: Sources/NN/Layers/Dropout2d.swift#1
    let drop = Dropout2d(p: 0.1)
    let y = drop(features)      // whole feature maps zeroed
    // end snippet
    _ = y
}

func embeddingComment() {
    // snippet: Sources/NN/Layers/Embedding.swift#1
    let embed = Embedding(numEmbeddings: 10_000, embeddingDim: 256, paddingIndex: 0)
    let tokens = TensorIndices(shape: [2, 4], values: [5, 17, 3, 0, 42, 42, 0, 0])
    let vectors = embed(tokens)   // [2, 4, 256]; the 0 tokens read the zero row
    // end snippet
    _ = vectors
}

func groupNormComment() {
    // snippet: Sources/NN/Layers/GroupNorm.swift#1
    let norm = GroupNorm(numGroups: 4, numChannels: 32)
    let y = norm(Variable(Tensor.randn([8, 32, 16, 16])))   // each sample's 4 groups: mean 0, variance ≈ 1
    // end snippet
    _ = y
}

func keyValueCacheComment(encoder: TransformerEncoder, prompt: Variable, nextToken: Variable) {
    // snippet: Sources/NN/Layers/KeyValueCache.swift#1
    let caches = encoder.makeCaches()
    var y = encoder.forward(prompt, caches: caches)        // the prompt, causally
    y = encoder.forward(nextToken, caches: caches)         // one more position, against the cached ones
    // end snippet
    _ = y
}

func layerNormComment() {
    // snippet: Sources/NN/Layers/LayerNorm.swift#1
    let norm = LayerNorm(normalizedShape: [512])
    let y = norm(Variable(Tensor.randn([8, 100, 512])))   // each of the 800 rows: mean 0, variance ≈ 1
    // end snippet
    _ = y
}

func linearComment() {
    // snippet: Sources/NN/Layers/Linear.swift#1
    let fc = Linear(784, 10)
    let logits = fc(Variable(Tensor.randn([32, 784])))   // [32, 10]
    // end snippet
    _ = logits
}

func multiheadAttentionComment() {
    // snippet: Sources/NN/Layers/MultiheadAttention.swift#1
    let attention = MultiheadAttention(embedDim: 64, numHeads: 4, batchFirst: true)
    let x = Variable(Tensor.randn([8, 20, 64]))
    let (y, weights) = attention.forward(query: x, key: x, value: x)   // [8, 20, 64], [8, 20, 20]
    // end snippet
    _ = (y, weights)
}

func maxPoolComment() {
    // snippet: Sources/NN/Layers/Pooling.swift#1
    let pool = MaxPool2d(kernelSize: 2)              // stride 2
    print(pool(Variable(Tensor.randn([8, 16, 28, 28]))).shape)   // [8, 16, 14, 14]
    // end snippet
}

func adaptiveAvgPoolComment() {
    // snippet: Sources/NN/Layers/Pooling.swift#2
    let gap = AdaptiveAvgPool2d(outputSize: 1)       // global average pooling
    print(gap(Variable(Tensor.randn([8, 64, 7, 7]))).shape)      // [8, 64, 1, 1]
    // end snippet
}

func rmsNormComment() {
    // snippet: Sources/NN/Layers/RMSNorm.swift#1
    let norm = RMSNorm(normalizedShape: [512])
    let y = norm(Variable(Tensor.randn([8, 100, 512])))   // each row: root mean square ≈ 1
    // end snippet
    _ = y
}

func sequentialComment() {
    // snippet: Sources/NN/Layers/Sequential.swift#1
    let model = Sequential(Linear(784, 128), ReLU(), Linear(128, 10))
    // or
    let same = Sequential {
        Linear(784, 128)
        ReLU()
        Linear(128, 10)
    }
    print(model.namedParameters().map(\.name))   // ["0.weight", "0.bias", "2.weight", "2.bias"]
    // end snippet
    _ = same
}

func upsampleComment() {
    // snippet: Sources/NN/Layers/Upsample.swift#1
    let up = Upsample(scaleFactor: 2, mode: .bilinear)
    let y = up(Variable(Tensor.randn([1, 3, 16, 16])))   // [1, 3, 32, 32]
    // end snippet
    _ = y
}

// MARK: Sources/NN/Losses

func crossEntropyComment() {
    // snippet: Sources/NN/Losses/ClassificationLosses.swift#1
    let logits = Variable(Tensor(shape: [2, 3], scalars: [1, 2, 3, 1, 1, 1] as [Float]), requiresGrad: true)
    let loss = crossEntropy(logits, [2, 0])   // (0.4076 + 1.0986) / 2
    // end snippet
    _ = loss
}

// MARK: Sources/NN/Module

/// A model with the `fc1` that the forward-pre-hook snippet reaches into.
final class HookedModel: Module {
    let fc1 = Linear(4, 4)
    override func forward(_ x: Variable) -> Variable { fc1(x) }
}

func forwardPreHookComment(model: HookedModel) {
    // snippet: Sources/NN/Module/Module+Hooks.swift#1
    let handle = model.fc1.registerForwardPreHook { _, x in x.clamped(min: -3, max: 3) }
    handle.remove()
    // end snippet
}

func forwardHookComment(model: Module) {
    // snippet: Sources/NN/Module/Module+Hooks.swift#2
    var activations: [String: Tensor] = [:]
    for (name, layer) in model.namedModules() {
        layer.registerForwardHook { _, _, output in activations[name] = output.value; return nil }
    }
    // end snippet
}

func moduleComment() {
    // snippet: Sources/NN/Module/Module.swift#1
    final class MLP: Module {
        let fc1 = Linear(784, 128)
        let fc2 = Linear(128, 10)
        let dropout = Dropout(p: 0.2)

        override func forward(_ x: Variable) -> Variable {
            fc2(dropout(relu(fc1(x.flattened(startAxis: 1)))))
        }
    }

    let model = MLP()
    print(model.namedParameters().map(\.name))   // ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    // end snippet
}

func moduleListComment() {
    // snippet: Sources/NN/Module/ModuleList.swift#1
    final class Tower: Module {
        let blocks = ModuleList((0..<3).map { _ in Linear(16, 16) })
        override func forward(_ x: Variable) -> Variable { blocks.reduce(x) { relu($1($0)) } }
    }
    print(Tower().stateDict().keys.sorted())   // ["blocks.0.bias", "blocks.0.weight", "blocks.1.bias", …]
    // end snippet
}

func moduleDictComment(features: Variable) {
    // snippet: Sources/NN/Module/ModuleList.swift#2
    let heads = ModuleDict(["classify": Linear(64, 10), "regress": Linear(64, 1)])
    let logits = heads["classify"]!(features)
    print(heads.stateDict().keys.sorted())   // ["classify.bias", "classify.weight", "regress.bias", "regress.weight"]
    // end snippet
    _ = logits
}

func parameterWrapperComment() {
    // snippet: Sources/NN/Module/PropertyWrappers.swift#1
    final class Affine: Module {
        @Parameter var scale: Variable
        @Parameter var shift: Variable?
        init(features: Int) {
            scale = Variable(Tensor.ones([features]))
            shift = Variable(Tensor.zeros([features]))
            super.init()
        }
        override func forward(_ x: Variable) -> Variable { shift.map { x * scale + $0 } ?? x * scale }
    }
    // end snippet
    _ = Affine(features: 3)
}

/// A module for the `@Buffer` and `@IntegerBuffer` snippets, which declare stored properties of one.
final class RunningStatistics: Module {
    // snippet: Sources/NN/Module/PropertyWrappers.swift#2
    @Buffer var runningMean: Tensor = Tensor.zeros([16])
    // end snippet
    // snippet: Sources/NN/Module/PropertyWrappers.swift#3
    @IntegerBuffer var stepsSeen: IntTensor = IntTensor(scalar: 0)
    // end snippet
}

// MARK: Sources/NN/Positional

func learnedPositionalEmbeddingComment(wte: Embedding, tokens: TensorIndices) {
    // snippet: Sources/NN/Positional/LearnedPositionalEmbedding.swift#1
    let wpe = LearnedPositionalEmbedding(maxPositions: 64, embeddingDim: 128)
    let h = wte(tokens) + wpe.positions(0..<64)   // or: wpe(wte(tokens))
    // end snippet
    _ = h
}

func rotaryEmbeddingComment(queries: Variable, keys: Variable, cache: KeyValueCache) {
    // snippet: Sources/NN/Positional/RotaryEmbedding.swift#1
    let rope = RotaryEmbedding(headDim: 32)
    let (q, k) = (rope(queries, offset: cache.count), rope(keys, offset: cache.count))
    // end snippet
    _ = (q, k)
}

func sinusoidalPositionalEncodingComment(tokenEmbedding: Embedding, tokens: TensorIndices, last: TensorIndices, T: Int) {
    // snippet: Sources/NN/Positional/SinusoidalPositionalEncoding.swift#1
    let positions = SinusoidalPositionalEncoding(embeddingDim: 128)
    let h = positions(tokenEmbedding(tokens))            // [B, T, 128]
    let next = positions(tokenEmbedding(last), offset: T) // cached decoding: position T onwards
    // end snippet
    _ = (h, next)
}

// MARK: Sources/NN/Recurrent

func rnnCellComment(inputs: [Variable]) {
    // snippet: Sources/NN/Recurrent/RecurrentCells.swift#1
    let cell = RNNCell(inputSize: 10, hiddenSize: 20)
    var h = Variable(Tensor.zeros([3, 20]))
    for x in inputs { h = cell(x, h) }   // x: [3, 10]
    // end snippet
    _ = h
}

func lstmCellComment(inputs: [Variable]) {
    // snippet: Sources/NN/Recurrent/RecurrentCells.swift#2
    let cell = LSTMCell(inputSize: 10, hiddenSize: 20)
    var state: (h: Variable, c: Variable)? = nil
    for x in inputs { state = cell(x, state) }   // x: [3, 10]; state.h, state.c: [3, 20]
    // end snippet
    _ = state
}

func lstmComment() {
    // snippet: Sources/NN/Recurrent/RecurrentLayers.swift#1
    let lstm = LSTM(inputSize: 128, hiddenSize: 256, numLayers: 2, batchFirst: true)
    let (output, h, c) = lstm(Variable(Tensor.randn([32, 50, 128])), nil)   // [32, 50, 256], [2, 32, 256], [2, 32, 256]
    let next = lstm(Variable(Tensor.randn([32, 1, 128])), (h, c))              // continues from the last state
    // end snippet
    _ = (output, next)
}

@Suite struct NNDocCommentRuns {
    @Test func snippetsRun() {
        let x = Variable(Tensor.randn([2, 4]))
        distillationLossComment(student: Linear(4, 3), teacher: Linear(4, 3), x: x, labels: [0, 2])
        parameterPruningComment(mask: Tensor.ones([3, 4]))
        tokenSamplerComment(lastPositionLogits: [0.5, 2, -1])
        initComment()
        dropoutComment()
        dropout2dComment(features: Variable(Tensor.randn([2, 3, 4, 4])))
        embeddingComment()
        crossEntropyComment()
        forwardPreHookComment(model: HookedModel())
        forwardHookComment(model: Sequential(Linear(4, 4), ReLU()))
        moduleComment()
        moduleListComment()
        moduleDictComment(features: Variable(Tensor.randn([2, 64])))
        parameterWrapperComment()
        _ = RunningStatistics()
        learnedPositionalEmbeddingComment(wte: Embedding(numEmbeddings: 10, embeddingDim: 128),
                                          tokens: TensorIndices(shape: [2, 64], values: Array(repeating: 3, count: 128)))
        rnnCellComment(inputs: [Variable(Tensor.randn([3, 10]))])
        lstmCellComment(inputs: [Variable(Tensor.randn([3, 10]))])
        sequentialComment()
    }
}
