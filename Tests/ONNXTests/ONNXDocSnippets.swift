import Foundation
import NN
import ONNX

// The swift snippets of the ONNX article as the doc shows them (scripts/sync-doc-snippets.py copies them here,
// DocSnippetSyncTests fails when they differ); compiled, not run.

func onnxOverview() throws {
    // snippet: Sources/ONNX/ONNX.docc/ONNX.md#1
    let model = Sequential(Conv2d(1, 32, kernelSize: 3), ReLU(), MaxPool2d(kernelSize: 2), Flatten(),
                           Linear(32 * 13 * 13, 128), ReLU(), Linear(128, 10))
    // … train …
    try ONNXExporter(opset: 17).export(model, input: ONNXInput(shape: [1, 1, 28, 28]),
                                       to: URL(fileURLWithPath: "cnn.onnx"))
    // end snippet
}

/// A GPT of example-text's shape, enough for the article's extension to compile against.
final class GPT: Module {
    let wte = Embedding(numEmbeddings: 16, embeddingDim: 8)
    let wpe = LearnedPositionalEmbedding(maxPositions: 4, embeddingDim: 8)
    let encoder = TransformerEncoder(numLayers: 1) { TransformerEncoderLayer(dModel: 8, nhead: 2, dimFeedforward: 16) }
}

// snippet: Sources/ONNX/ONNX.docc/ONNX.md#2
extension GPT: ONNXExportable {
    func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        let embedded = try graph.export(wpe, named: "wpe", try graph.export(wte, named: "wte", input))
        let h = try graph.transformerEncoder(encoder, named: "encoder", embedded, isCausal: true)
        return graph.node("MatMul", [h, graph.transpose(graph.parameter(wte.weight, named: "wte.weight"), [1, 0])], rank: 3)
    }
}
// end snippet

// The swift snippets of ONNX's `///` comments, copied and checked the same way.

// MARK: Sources/ONNX/ONNXExportable.swift

/// A sequence classifier of the shape the conformance snippet exports: an encoder, then a head on the mean over time.
public final class TinyClassifier: Module {
    let encoder = TransformerEncoder(numLayers: 1) { TransformerEncoderLayer(dModel: 8, nhead: 2, dimFeedforward: 16) }
    let head = Linear(8, 3)
}

// snippet: Sources/ONNX/ONNXExportable.swift#1
extension TinyClassifier: ONNXExportable {
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        let hidden = try graph.export(encoder, named: "encoder", input)
        let pooled = graph.squeeze(graph.reduceMean(hidden, axes: [1]), axes: [1])   // mean over time
        return try graph.export(head, named: "head", pooled)
    }
}
// end snippet

// MARK: Sources/ONNX/ONNXExporter.swift

func onnxExporterComment() throws {
    // snippet: Sources/ONNX/ONNXExporter.swift#1
    let model = Sequential(Linear(784, 128), ReLU(), Linear(128, 10))
    try ONNXExporter().export(model, input: ONNXInput(shape: [1, 784]), to: URL(fileURLWithPath: "mlp.onnx"))
    // end snippet
}
