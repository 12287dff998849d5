import NN

// Activation modules: one ONNX operator each where ONNX has it, otherwise the formula.

/// An activation that is one ONNX operator applied to its input.
protocol SingleOperatorActivation: ONNXExportable {
    /// The operator and its attributes.
    var onnxOperator: (type: String, attributes: [String: ONNXAttribute]) { get }
}

extension SingleOperatorActivation {
    /// The activation's one operator.
    public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
        graph.node(onnxOperator.type, [input], attributes: onnxOperator.attributes, rank: input.rank)
    }
}

extension ReLU: SingleOperatorActivation { var onnxOperator: (type: String, attributes: [String: ONNXAttribute]) { ("Relu", [:]) } }
extension Sigmoid: SingleOperatorActivation { var onnxOperator: (type: String, attributes: [String: ONNXAttribute]) { ("Sigmoid", [:]) } }
extension Tanh: SingleOperatorActivation { var onnxOperator: (type: String, attributes: [String: ONNXAttribute]) { ("Tanh", [:]) } }
extension LeakyReLU: SingleOperatorActivation {
    var onnxOperator: (type: String, attributes: [String: ONNXAttribute]) { ("LeakyRelu", ["alpha": .float(negativeSlope)]) }
}
extension ELU: SingleOperatorActivation { var onnxOperator: (type: String, attributes: [String: ONNXAttribute]) { ("Elu", ["alpha": .float(alpha)]) } }
extension Softmax: SingleOperatorActivation { var onnxOperator: (type: String, attributes: [String: ONNXAttribute]) { ("Softmax", ["axis": .int(axis)]) } }
extension LogSoftmax: SingleOperatorActivation {
    var onnxOperator: (type: String, attributes: [String: ONNXAttribute]) { ("LogSoftmax", ["axis": .int(axis)]) }
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
