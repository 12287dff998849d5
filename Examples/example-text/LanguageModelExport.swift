import NN
import ONNX

// The language models as ONNX graphs from token ids [B, T] (int64) to next-token logits [B, T, vocabulary], the
// way `logits(_:)` computes them without a cache or a carried state.

extension GPT: ONNXExportable {
    /// Embeddings, the causal encoder stack, and the head tied to the token embedding.
    func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        let embedded = try graph.export(wpe, named: "wpe", try graph.export(wte, named: "wte", input))
        let h = try graph.transformerEncoder(encoder, named: "encoder", embedded, isCausal: true)
        return graph.node("MatMul", [h, graph.transpose(graph.parameter(wte.weight, named: "wte.weight"), [1, 0])], rank: 3)
    }
}

extension CharLSTM: ONNXExportable {
    /// Embedding, the LSTM stack from a zero state, and the linear head.
    func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        let sequence = try graph.export(lstm, named: "lstm", try graph.export(embedding, named: "embedding", input))
        return try graph.export(head, named: "head", sequence)
    }
}
