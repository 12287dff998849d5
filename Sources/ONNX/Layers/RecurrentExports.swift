import AutoGrad
import NN

// Recurrent layers as ONNX's `RNN`, `LSTM` and `GRU` operators, one node per layer of the stack.
//
// PyTorch stacks the gates of W_ih, W_hh, b_ih and b_hh as i, f, g, o (LSTM) and r, z, n (GRU); ONNX wants
// i, o, f, c and z, r, h. The GRU's `n` applies r to (h·W_hnᵀ + b_hn), which is ONNX's linear_before_reset = 1.

extension RNN: ONNXExportable {
    /// One `RNN` node per layer, with the layer's tanh or ReLU.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        let activation = nonlinearity == .relu ? "Relu" : "Tanh"
        return try graph.recurrentStack(self, input, operator: "RNN", gateOrder: [0],
                                        extraAttributes: ["activations": .strings(Array(repeating: activation, count: bidirectional ? 2 : 1))])
    }
}

extension LSTM: ONNXExportable {
    /// One `LSTM` node per layer; the output sequence (not the final states).
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.recurrentStack(self, input, operator: "LSTM", gateOrder: [0, 3, 1, 2], extraAttributes: [:])
    }
}

extension GRU: ONNXExportable {
    /// One `GRU` node per layer (`linear_before_reset` = 1); the output sequence (not the final state).
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.recurrentStack(self, input, operator: "GRU", gateOrder: [1, 0, 2], extraAttributes: ["linear_before_reset": .int(1)])
    }
}

extension ONNXGraphBuilder {
    /// The layers of `layer` as `operator` nodes on a `[T, N, I]` sequence, with PyTorch's gate blocks reordered by
    /// `gateOrder` (ONNX's gate `k` is PyTorch's gate `gateOrder[k]`).
    func recurrentStack(_ layer: RecurrentLayer, _ input: ONNXValue, operator opType: String, gateOrder: [Int],
                        extraAttributes: [String: ONNXAttribute]) throws -> ONNXValue {
        try require(input, of: layer, rank: [3], shape: layer.batchFirst ? "[N, T, \(layer.inputSize)]" : "[T, N, \(layer.inputSize)]")
        let directions = layer.bidirectional ? 2 : 1, hidden = layer.hiddenSize
        var x = layer.batchFirst ? transpose(input, [1, 0, 2]) : input
        for index in 0..<layer.numLayers {
            let suffixes = (0..<directions).map { "_l\(index)" + ($0 == 1 ? "_reverse" : "") }
            func stacked(_ name: String) -> Tensor? {
                let parts = suffixes.compactMap { layer.parameter(named: name + $0)?.value }
                guard parts.count == directions else { return nil }
                return Tensor.stack(parts.map { reordered($0, gateOrder: gateOrder, hidden: hidden) }, axis: 0)
            }
            let w = constant(stacked("weight_ih")!, named: "W_l\(index)"), r = constant(stacked("weight_hh")!, named: "R_l\(index)")
            let b = stacked("bias_ih").map { Tensor.concatenate([$0, stacked("bias_hh")!], axis: 1) }.map { constant($0, named: "B_l\(index)") }
            var attributes = extraAttributes
            attributes["hidden_size"] = .int(hidden)
            attributes["direction"] = .string(directions == 2 ? "bidirectional" : "forward")
            let outputs = nodeOutputs(opType, [x, w, r, b], attributes: attributes, outputs: [(4, .float32)])
            // Y is [T, directions, N, H]; the next layer and the caller want [T, N, directions·H].
            x = directions == 1 ? squeeze(outputs[0], axes: [1]) : reshape(transpose(outputs[0], [0, 2, 1, 3]), [0, 0, -1])
        }
        return layer.batchFirst ? transpose(x, [1, 0, 2]) : x
    }

    /// `tensor`'s gate blocks (of `hidden` rows each along axis 0) in the order `gateOrder`.
    private func reordered(_ tensor: Tensor, gateOrder: [Int], hidden: Int) -> Tensor {
        Tensor.concatenate(gateOrder.map { tensor.sliced(axis: 0, start: $0 * hidden, end: ($0 + 1) * hidden) }, axis: 0)
    }
}
