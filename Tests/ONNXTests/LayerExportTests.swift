import AutoGrad
import Foundation
import NN
import Testing
@testable import ONNX

/// Every supported layer exported, checked by `onnx.checker` and run in onnxruntime on a batch larger than the one
/// the file was exported for (so the batch axis really is free), against our own forward in evaluation mode.
@Suite struct LayerExportTests {
    /// A module, the shape it is exported with (batch 1) and the input it runs on (batch 2 or more).
    struct Sample {
        var name: String
        var module: Module
        var input: Tensor
        var inputType: ONNXElementType = .float32
        var dynamicAxes: [Int: String] = [0: "batch"]
        var opset = 17
    }

    static func samples() -> [Sample] {
        let g = RandomGenerator(seed: 22)
        func x(_ shape: [Int]) -> Tensor { Tensor.uniform(shape, low: -2, high: 2, generator: g) }
        func trainedBatchNorm(_ bn: BatchNorm, _ shape: [Int]) -> BatchNorm {
            for _ in 0..<3 { _ = bn(Variable(x(shape) * 1.5 + 0.7)) }
            if let w = bn.weight { w.value = x([bn.numFeatures]) }
            if let b = bn.bias { b.value = x([bn.numFeatures]) }
            return bn
        }
        let tokens = Tensor(shape: [2, 5], scalars: [3, 0, 9, 4, 4, 1, 2, 8, 7, 6])
        return [
            Sample(name: "Linear", module: Linear(6, 4, generator: g), input: x([3, 6])),
            Sample(name: "Linear rank 3", module: Linear(6, 4, generator: g), input: x([2, 3, 6])),
            Sample(name: "Conv1d same", module: Conv1d(3, 4, kernelSize: 4, padding: .same, dilation: 2, generator: g), input: x([2, 3, 11])),
            Sample(name: "Conv2d", module: Conv2d(4, 6, kernelSize: (3, 2), stride: (2, 1), padding: .explicit(1, 2), dilation: (1, 2), groups: 2,
                                                 generator: g), input: x([2, 4, 9, 8])),
            Sample(name: "Conv2d same", module: Conv2d(2, 3, kernelSize: (4, 3), padding: .same, generator: g), input: x([2, 2, 7, 6])),
            Sample(name: "ConvTranspose2d", module: ConvTranspose2d(4, 2, kernelSize: (4, 3), stride: (2, 3), padding: (1, 1),
                                                                    outputPadding: (1, 2), groups: 2, generator: g), input: x([2, 4, 5, 4])),
            Sample(name: "MaxPool2d", module: MaxPool2d(kernelSize: (3, 2), stride: (2, 2), padding: (1, 1)), input: x([2, 3, 7, 8])),
            Sample(name: "AvgPool2d", module: AvgPool2d(kernelSize: 3, stride: 2, padding: 1, countIncludePad: false), input: x([2, 3, 7, 8])),
            Sample(name: "AdaptiveAvgPool2d", module: AdaptiveAvgPool2d(outputSize: 1), input: x([2, 3, 5, 4])),
            Sample(name: "BatchNorm2d", module: trainedBatchNorm(BatchNorm2d(3), [4, 3, 5, 5]), input: x([2, 3, 4, 4])),
            Sample(name: "BatchNorm1d", module: trainedBatchNorm(BatchNorm1d(5, affine: false), [6, 5]), input: x([3, 5])),
            Sample(name: "LayerNorm", module: LayerNorm(normalizedShape: [3, 4]), input: x([2, 5, 3, 4])),
            Sample(name: "RMSNorm", module: RMSNorm(normalizedShape: 6, eps: 1e-6), input: x([2, 3, 6])),
            Sample(name: "GroupNorm", module: GroupNorm(numGroups: 2, numChannels: 6), input: x([2, 6, 3, 3])),
            Sample(name: "activations", module: Sequential(
                LeakyReLU(negativeSlope: 0.2), ELU(alpha: 0.7), GELU(), SiLU(), Sigmoid(), Linear(5, 5, generator: g), Tanh(),
                Softplus(beta: 2, threshold: 1), GELU(approximate: .tanh), ReLU(), Dropout(p: 0.5), Identity(), Softmax(axis: 1),
                LogSoftmax()), input: x([3, 5])),
            Sample(name: "Flatten", module: Sequential(Flatten(startAxis: 1, endAxis: 2), Dropout2d()), input: x([2, 3, 4, 5])),
            Sample(name: "Embedding", module: Embedding(numEmbeddings: 10, embeddingDim: 4, generator: g), input: tokens, inputType: .int64,
                   dynamicAxes: [0: "batch", 1: "time"]),
            Sample(name: "Upsample nearest", module: Upsample(scaleFactor: 2), input: x([2, 3, 4, 5])),
            Sample(name: "Upsample bilinear", module: Upsample(size: [7, 9], mode: .bilinear), input: x([2, 3, 4, 5])),
            Sample(name: "Upsample aligned", module: Upsample(scaleFactor: 3, mode: .bilinear, alignCorners: true), input: x([2, 1, 3, 4])),
            Sample(name: "MultiheadAttention", module: MultiheadAttention(embedDim: 8, numHeads: 2, generator: g), input: x([5, 2, 8]),
                   dynamicAxes: [0: "time", 1: "batch"]),
            Sample(name: "TransformerEncoder", module: TransformerEncoder(numLayers: 2, norm: LayerNorm(normalizedShape: 8)) {
                TransformerEncoderLayer(dModel: 8, nhead: 2, dimFeedforward: 16, activation: .gelu, batchFirst: true, normFirst: true, generator: g)
            }, input: x([2, 5, 8]), dynamicAxes: [0: "batch", 1: "time"]),
            Sample(name: "TransformerEncoderLayer", module: TransformerEncoderLayer(dModel: 8, nhead: 4, dimFeedforward: 12, generator: g),
                   input: x([5, 2, 8]), dynamicAxes: [0: "time", 1: "batch"]),
            Sample(name: "LSTM", module: LSTM(inputSize: 3, hiddenSize: 5, numLayers: 2, batchFirst: true, generator: g), input: x([2, 6, 3]),
                   dynamicAxes: [0: "batch", 1: "time"]),
            Sample(name: "LSTM bidirectional", module: LSTM(inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, generator: g),
                   input: x([6, 2, 3]), dynamicAxes: [0: "time", 1: "batch"]),
            Sample(name: "GRU", module: GRU(inputSize: 3, hiddenSize: 5, numLayers: 2, batchFirst: true, generator: g), input: x([2, 6, 3])),
            Sample(name: "RNN relu", module: RNN(inputSize: 3, hiddenSize: 4, nonlinearity: .relu, bidirectional: true, generator: g),
                   input: x([6, 2, 3]), dynamicAxes: [0: "time", 1: "batch"]),
            Sample(name: "CNN", module: Sequential(
                Conv2d(1, 4, kernelSize: (3, 3), generator: g), ReLU(), MaxPool2d(kernelSize: (2, 2)), Flatten(),
                Linear(4 * 3 * 3, 8, generator: g), ReLU(), Linear(8, 3, generator: g)), input: x([2, 1, 8, 8])),
            Sample(name: "decoder", module: SelfMemoryDecoder(generator: g), input: x([2, 6, 8]), dynamicAxes: [0: "batch", 1: "time"]),
            Sample(name: "opset 20", module: Sequential(GELU(), RMSNorm(normalizedShape: 5), GELU(approximate: .tanh)), input: x([3, 5]),
                   opset: 20),
            Sample(name: "opset 18", module: RMSNorm(normalizedShape: [2, 5]), input: x([3, 2, 5]), opset: 18),
            Sample(name: "causal encoder", module: CausalEncoder(generator: g), input: x([2, 6, 8]), dynamicAxes: [0: "batch", 1: "time"]),
        ]
    }

    /// The file of `sample`, exported for batch 1 (the first dynamic axis), in `directory`.
    static func export(_ sample: Sample, to directory: URL) throws -> URL {
        var shape = sample.input.shape
        for axis in sample.dynamicAxes.keys { shape[axis] = 1 }
        let url = directory.appendingPathComponent("\(sample.name.replacingOccurrences(of: " ", with: "_")).onnx")
        sample.module.eval()
        try ONNXExporter(opset: sample.opset).export(sample.module, input: ONNXInput(shape: shape, elementType: sample.inputType,
                                                                  dynamicAxes: sample.dynamicAxes), to: url)
        return url
    }

    @Test(.enabled(if: ONNXRuntimeReference.isAvailable, ONNXRuntimeReference.missing))
    func everyLayerMatchesONNXRuntime() throws {
        let directory = try temporaryDirectory("layers")
        defer { try? FileManager.default.removeItem(at: directory) }
        let samples = Self.samples()
        let cases = try samples.map { s in
            ONNXRuntimeReference.Case(name: s.name, file: try Self.export(s, to: directory), input: s.input, inputType: s.inputType)
        }
        let answers = try ONNXRuntimeReference.run(cases)
        for sample in samples {
            let ours = Graph.noGrad { sample.module(Variable(sample.input)).value }
            switch answers[sample.name] {
            case .success(let theirs)?:
                #expect(theirs.shape == ours.shape, "\(sample.name): onnxruntime shape \(theirs.shape), ours \(ours.shape)")
                guard theirs.shape == ours.shape else { continue }
                let difference = zip(theirs.doubles, ours.doubles).map { abs($0 - $1) }.max() ?? 0
                #expect(difference <= 1e-5, "\(sample.name): onnxruntime differs from our forward by \(difference)")
            case .failure(let failure)?:
                Issue.record("\(sample.name): \(failure)")
            case nil:
                Issue.record("\(sample.name): no answer from the python check")
            }
        }
    }
}

func temporaryDirectory(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A causal encoder stack, which no built-in module exports on its own (the plain forward has no mask): a model of
/// one's own exporting through the builder's `transformerEncoder(_:named:_:isCausal:)`.
final class CausalEncoder: Module, ONNXExportable {
    let encoder: TransformerEncoder

    init(generator: RandomGenerator) {
        encoder = TransformerEncoder(numLayers: 2, norm: LayerNorm(normalizedShape: 8)) {
            TransformerEncoderLayer(dModel: 8, nhead: 2, dimFeedforward: 16, activation: .gelu, batchFirst: true, generator: generator)
        }
        super.init()
    }

    override func forward(_ x: Variable) -> Variable { encoder.forward(x, isCausal: true) }

    func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.transformerEncoder(encoder, named: "encoder", input, isCausal: true)
    }
}

/// A decoder stack attending to its own input as the memory, with a causal self-attention: the builder's
/// `transformerDecoder(_:named:_:memory:targetIsCausal:)` with two uses of one value.
final class SelfMemoryDecoder: Module, ONNXExportable {
    let decoder: TransformerDecoder

    init(generator: RandomGenerator) {
        decoder = TransformerDecoder(numLayers: 2, norm: LayerNorm(normalizedShape: 8)) {
            TransformerDecoderLayer(dModel: 8, nhead: 2, dimFeedforward: 16, batchFirst: true, generator: generator)
        }
        super.init()
    }

    override func forward(_ x: Variable) -> Variable { decoder.forward(x, memory: x, tgtIsCausal: true) }

    func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.transformerDecoder(decoder, named: "decoder", input, memory: input, targetIsCausal: true)
    }
}
