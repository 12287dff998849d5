import NN

// Containers and the layers that are the identity in evaluation mode.

extension Sequential: ONNXExportable {
    /// The children applied in order, each under its own name (`"0"`, `"1"`, …).
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        try namedChildren().reduce(input) { x, child in try graph.export(child.module, named: child.name, x) }
    }
}

extension Identity: ONNXExportable {
    /// The input itself.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue { input }
}

extension Dropout: ONNXExportable {
    /// The input itself: dropout is the identity in evaluation mode.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue { input }
}

extension Dropout2d: ONNXExportable {
    /// The input itself: dropout is the identity in evaluation mode.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue { input }
}

extension Flatten: ONNXExportable {
    /// `Flatten` when the axes from 1 on merge, otherwise a `Reshape` to the merged shape.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        let start = startAxis < 0 ? startAxis + input.rank : startAxis
        let end = endAxis < 0 ? endAxis + input.rank : endAxis
        guard input.rank >= 1, 0 <= start, start <= end, end < input.rank else {
            throw graph.invalidInput(self, "rank \(input.rank) has no axes \(startAxis)...\(endAxis)")
        }
        return graph.flatten(input, startAxis: start, endAxis: end)
    }
}

extension Linear: ONNXExportable {
    /// `Gemm` for `[N, in]`, `MatMul` and `Add` for more axes.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.require(input, of: self, rank: Set(1...8), shape: "[…, \(inFeatures)]")
        guard input.rank > 1 else {
            return graph.squeeze(graph.linear(graph.unsqueeze(input, axes: [0]), weight: weight, bias: bias), axes: [0])
        }
        return graph.linear(input, weight: weight, bias: bias)
    }
}
