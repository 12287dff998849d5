import AutoGrad
import NN

// Convolutions and transposed convolutions: `Conv` and `ConvTranspose` share PyTorch's weight layouts, so the
// parameters go in unchanged.

extension Conv1d: ONNXExportable {
    /// `Conv` over `[N, C, L]`.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.require(input, of: self, rank: [3], shape: "[N, \(inChannels), L]")
        let pads: [Int]
        switch padding {
        case .explicit(let p): pads = [p, p]
        case .valid: pads = [0, 0]
        case .same:
            let total = dilation * (kernelSize - 1)
            pads = [total / 2, total - total / 2]
        }
        return graph.convolution(input, weight: weight, bias: bias, attributes: [
            "kernel_shape": .ints([kernelSize]), "strides": .ints([stride]), "pads": .ints(pads),
            "dilations": .ints([dilation]), "group": .int(groups)])
    }
}

extension Conv2d: ONNXExportable {
    /// `Conv` over `[N, C, H, W]`.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.require(input, of: self, rank: [4], shape: "[N, \(inChannels), H, W]")
        let pads: [Int]  // ONNX order: all starts, then all ends.
        switch padding {
        case .explicit(let h, let w): pads = [h, w, h, w]
        case .valid: pads = [0, 0, 0, 0]
        case .same:
            let height = dilation.0 * (kernelSize.0 - 1), width = dilation.1 * (kernelSize.1 - 1)
            pads = [height / 2, width / 2, height - height / 2, width - width / 2]
        }
        return graph.convolution(input, weight: weight, bias: bias, attributes: [
            "kernel_shape": .ints([kernelSize.0, kernelSize.1]), "strides": .ints([stride.0, stride.1]), "pads": .ints(pads),
            "dilations": .ints([dilation.0, dilation.1]), "group": .int(groups)])
    }
}

extension ConvTranspose2d: ONNXExportable {
    /// `ConvTranspose` over `[N, C, H, W]`.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.require(input, of: self, rank: [4], shape: "[N, \(inChannels), H, W]")
        let w = graph.parameter(weight, named: "weight"), b = bias.map { graph.parameter($0, named: "bias") }
        return graph.node("ConvTranspose", [input, w, b], attributes: [
            "kernel_shape": .ints([kernelSize.0, kernelSize.1]), "strides": .ints([stride.0, stride.1]),
            "pads": .ints([padding.0, padding.1, padding.0, padding.1]), "output_padding": .ints([outputPadding.0, outputPadding.1]),
            "dilations": .ints([dilation.0, dilation.1]), "group": .int(groups)], rank: 4)
    }
}

extension ONNXGraphBuilder {
    /// A `Conv` node with the module's `weight` and optional `bias`.
    func convolution(_ x: ONNXValue, weight: Variable, bias: Variable?, attributes: [String: ONNXAttribute]) -> ONNXValue {
        node("Conv", [x, parameter(weight, named: "weight"), bias.map { parameter($0, named: "bias") }], attributes: attributes,
             rank: x.rank)
    }
}
