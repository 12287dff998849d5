import AutoGrad
import NN

// Normalisation layers in evaluation mode.

extension BatchNorm: ONNXExportable {
    /// `BatchNormalization` with the running statistics (ones and zeros stand in for a missing affine transform).
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.require(input, of: self, rank: Set(2...5), shape: "[N, \(numFeatures), …]")
        guard let runningMean, let runningVar else {
            throw graph.unsupported(self, "without running statistics (trackRunningStats: false) it normalises by batch statistics in evaluation too")
        }
        let ones = Tensor.ones([numFeatures]), zeros = Tensor.zeros([numFeatures])
        let scale = weight.map { graph.parameter($0, named: "weight") } ?? graph.constant(ones, named: "weight")
        let shift = bias.map { graph.parameter($0, named: "bias") } ?? graph.constant(zeros, named: "bias")
        return graph.node("BatchNormalization", [input, scale, shift, graph.constant(runningMean, named: "running_mean"),
                                                 graph.constant(runningVar, named: "running_var")],
                          attributes: ["epsilon": .float(eps)], rank: input.rank)
    }
}

extension LayerNorm: ONNXExportable {
    /// `LayerNormalization` over the last `normalizedShape.count` axes.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.require(input, of: self, rank: Set(normalizedShape.count...8), shape: "[…, \(normalizedShape)]")
        let scale = weight.map { graph.parameter($0, named: "weight") } ?? graph.constant(Tensor.ones(normalizedShape), named: "weight")
        return graph.node("LayerNormalization", [input, scale, bias.map { graph.parameter($0, named: "bias") }],
                          attributes: ["axis": .int(-normalizedShape.count), "epsilon": .float(eps)], rank: input.rank)
    }
}

extension RMSNorm: ONNXExportable {
    /// `x / √(mean(x²) + ε) · w`, with ε the float32 machine epsilon when the layer has none.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.require(input, of: self, rank: Set(normalizedShape.count...8), shape: "[…, \(normalizedShape)]")
        let axes = Array((input.rank - normalizedShape.count)..<input.rank)
        let meanSquare = graph.reduceMean(graph.multiply(input, input), axes: axes)
        let epsilon = graph.scalar(eps ?? Double(Float.ulpOfOne), named: "eps")
        let root = graph.node("Sqrt", [graph.add(meanSquare, epsilon)], rank: input.rank)
        let normalized = graph.binary("Div", input, root)
        return weight.map { graph.multiply(normalized, graph.parameter($0, named: "weight")) } ?? normalized
    }
}

extension GroupNorm: ONNXExportable {
    /// `[N, G, −1]` normalised by `InstanceNormalization` (which normalises each group as one channel), reshaped
    /// back, then the per-channel affine transform.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.require(input, of: self, rank: Set(2...5), shape: "[N, \(numChannels), …]")
        let grouped = graph.reshape(input, [0, numGroups, -1])
        let normalized = graph.node("InstanceNormalization", [grouped, graph.constant(Tensor.ones([numGroups]), named: "group_scale"),
                                                              graph.constant(Tensor.zeros([numGroups]), named: "group_bias")],
                                    attributes: ["epsilon": .float(eps)], rank: 3)
        var y = graph.reshape(normalized, to: graph.shape(input), rank: input.rank)
        // The channel axis is 1; the per-channel vectors broadcast over the axes after it.
        let trailing = Array(1..<(input.rank - 1))
        if let weight { y = graph.multiply(y, trailing.isEmpty ? graph.parameter(weight, named: "weight") : graph.unsqueeze(graph.parameter(weight, named: "weight"), axes: trailing)) }
        if let bias { y = graph.add(y, trailing.isEmpty ? graph.parameter(bias, named: "bias") : graph.unsqueeze(graph.parameter(bias, named: "bias"), axes: trailing)) }
        return y
    }
}
