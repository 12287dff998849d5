import NN

// Activation modules: one ONNX operator each where ONNX has it, otherwise the formula.

extension ReLU: ONNXExportable {
    /// `Relu`.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        graph.node("Relu", [input], rank: input.rank)
    }
}

extension LeakyReLU: ONNXExportable {
    /// `LeakyRelu` with `alpha` = `negativeSlope`.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        graph.node("LeakyRelu", [input], attributes: ["alpha": .float(negativeSlope)], rank: input.rank)
    }
}

extension ELU: ONNXExportable {
    /// `Elu` with `alpha`.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        graph.node("Elu", [input], attributes: ["alpha": .float(alpha)], rank: input.rank)
    }
}

extension Sigmoid: ONNXExportable {
    /// `Sigmoid`.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        graph.node("Sigmoid", [input], rank: input.rank)
    }
}

extension Tanh: ONNXExportable {
    /// `Tanh`.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        graph.node("Tanh", [input], rank: input.rank)
    }
}

extension SiLU: ONNXExportable {
    /// `x · Sigmoid(x)`.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        graph.multiply(input, graph.node("Sigmoid", [input], rank: input.rank))
    }
}

extension GELU: ONNXExportable {
    /// `Gelu` from opset 20, the erf or tanh formula before.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        graph.gelu(input, approximate: approximate)
    }
}

extension Softplus: ONNXExportable {
    /// `Softplus(β·x)/β`, and `x` itself where `β·x > threshold`, as PyTorch computes it.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        let scaled = beta == 1 ? input : graph.multiply(input, graph.scalar(beta, named: "beta"))
        var y = graph.node("Softplus", [scaled], rank: input.rank)
        if beta != 1 { y = graph.binary("Div", y, graph.scalar(beta, named: "beta")) }
        let linear = graph.node("Greater", [scaled, graph.scalar(threshold, named: "threshold")], rank: input.rank, elementType: .bool)
        return graph.node("Where", [linear, input, y], rank: input.rank, elementType: .float32)
    }
}

extension Softmax: ONNXExportable {
    /// `Softmax` along `axis`.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        graph.node("Softmax", [input], attributes: ["axis": .int(axis)], rank: input.rank)
    }
}

extension LogSoftmax: ONNXExportable {
    /// `LogSoftmax` along `axis`.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        graph.node("LogSoftmax", [input], attributes: ["axis": .int(axis)], rank: input.rank)
    }
}

extension ONNXGraphBuilder {
    /// GELU of `x`: the `Gelu` operator from opset 20, `x/2·(1 + erf(x/√2))` (or the tanh form) before.
    public func gelu(_ x: ONNXValue, approximate: GELUApproximation) -> ONNXValue {
        if opset >= 20 {
            return node("Gelu", [x], attributes: ["approximate": .string(approximate == .tanh ? "tanh" : "none")], rank: x.rank)
        }
        let inner: ONNXValue
        switch approximate {
        case .none:
            inner = node("Erf", [multiply(x, scalar(1 / 2.0.squareRoot(), named: "gelu_scale"))], rank: x.rank)
        case .tanh:
            let cube = multiply(multiply(x, x), x)
            let argument = add(x, multiply(cube, scalar(0.044715, named: "gelu_cubic")))
            inner = node("Tanh", [multiply(argument, scalar((2 / Double.pi).squareRoot(), named: "gelu_scale"))], rank: x.rank)
        }
        return multiply(multiply(x, scalar(0.5, named: "half")), add(inner, scalar(1, named: "one")))
    }
}
