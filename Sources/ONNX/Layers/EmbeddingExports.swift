import NN

// Token and position embeddings.

extension Embedding: ONNXExportable {
    /// `Gather` of rows of the weight; float indices (a float model input) are cast to int64 first.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        guard input.elementType != .bool else { throw graph.invalidInput(self, "boolean indices") }
        let indices = input.elementType == .int64 ? input : graph.node("Cast", [input], attributes: ["to": .int(Int(ONNXElementType.int64.code))],
                                                                       rank: input.rank, elementType: .int64)
        return graph.node("Gather", [graph.parameter(weight, named: "weight"), indices], attributes: ["axis": .int(0)],
                          rank: input.rank + 1, elementType: .float32)
    }
}

extension LearnedPositionalEmbedding: ONNXExportable {
    /// `x` plus the first `T` rows of the weight, `T` read from the input's second-to-last axis.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.require(input, of: self, rank: Set(2...8), shape: "[…, T, \(embeddingDim)]")
        let length = graph.shape(input, start: input.rank - 2, end: input.rank - 1)
        let rows = graph.node("Slice", [graph.parameter(weight, named: "weight"), graph.integers([0], named: "starts"), length,
                                        graph.integers([0], named: "axes")], rank: 2)
        return graph.add(input, rows)
    }
}
