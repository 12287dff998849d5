import AutoGrad
import NN

// Pooling and resampling of images.

extension MaxPool2d: ONNXExportable {
    /// `MaxPool`.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.require(input, of: self, rank: [4], shape: "[N, C, H, W]")
        return graph.node("MaxPool", [input], attributes: [
            "kernel_shape": .ints([kernelSize.0, kernelSize.1]), "strides": .ints([stride.0, stride.1]),
            "pads": .ints([padding.0, padding.1, padding.0, padding.1])], rank: 4)
    }
}

extension AvgPool2d: ONNXExportable {
    /// `AveragePool`; a `divisorOverride` has no ONNX counterpart.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.require(input, of: self, rank: [4], shape: "[N, C, H, W]")
        if let divisorOverride { throw graph.unsupported(self, "divisorOverride \(divisorOverride) has no ONNX AveragePool attribute") }
        return graph.node("AveragePool", [input], attributes: [
            "kernel_shape": .ints([kernelSize.0, kernelSize.1]), "strides": .ints([stride.0, stride.1]),
            "pads": .ints([padding.0, padding.1, padding.0, padding.1]), "count_include_pad": .int(countIncludePad ? 1 : 0)], rank: 4)
    }
}

extension AdaptiveAvgPool2d: ONNXExportable {
    /// `GlobalAveragePool` for a 1×1 output; other sizes depend on the input size, which the graph leaves free.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.require(input, of: self, rank: [4], shape: "[N, C, H, W]")
        guard outputSize == (1, 1) else {
            throw graph.unsupported(self, "output size \(outputSize): only (1, 1) (global average pooling) is independent of the input size")
        }
        return graph.node("GlobalAveragePool", [input], rank: 4)
    }
}

extension Upsample: ONNXExportable {
    /// `Resize` with PyTorch's coordinate conventions: `asymmetric`/`floor` for nearest, `align_corners` or
    /// `pytorch_half_pixel` for (bi)linear.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.require(input, of: self, rank: [3, 4], shape: "[N, C, L] or [N, C, H, W]")
        var attributes: [String: ONNXAttribute]
        switch mode {
        case .nearest:
            attributes = ["mode": .string("nearest"), "coordinate_transformation_mode": .string("asymmetric"),
                          "nearest_mode": .string("floor")]
        case .linear, .bilinear:
            attributes = ["mode": .string("linear"),
                          "coordinate_transformation_mode": .string(alignCorners == true ? "align_corners" : "pytorch_half_pixel")]
        }
        func expanded<T>(_ values: [T]) -> [T] { values.count == 1 ? Array(repeating: values[0], count: input.rank - 2) : values }
        if let size {
            let sizes = graph.node("Concat", [graph.shape(input, start: 0, end: 2), graph.integers(expanded(size), named: "sizes")],
                                   attributes: ["axis": .int(0)], rank: 1, elementType: .int64)
            return graph.node("Resize", [input, nil, nil, sizes], attributes: attributes, rank: input.rank)
        }
        let scales = graph.constant(Tensor(shape: [input.rank], scalars: [1, 1] + expanded(scaleFactor ?? [])), named: "scales")
        return graph.node("Resize", [input, nil, scales], attributes: attributes, rank: input.rank)
    }
}
