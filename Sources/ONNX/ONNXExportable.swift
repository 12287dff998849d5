import NN

/// A module that can describe its forward pass as ONNX nodes.
///
/// The built-in layers of `NN` conform already. A model of your own conforms by emitting its graph from the
/// building blocks it holds, the way its `forward` calls them:
///
/// ```swift
/// extension TinyClassifier: ONNXExportable {
///     public func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue {
///         let hidden = try graph.export(encoder, named: "encoder", input)
///         let pooled = graph.squeeze(graph.reduceMean(hidden, axes: [1]), axes: [1])   // mean over time
///         return try graph.export(head, named: "head", pooled)
///     }
/// }
/// ```
///
/// The graph describes the module in evaluation mode: dropout is the identity and batch normalisation uses its
/// running statistics.
public protocol ONNXExportable: Module {
    /// Adds the nodes that compute this module's output from `input` to `graph` and returns the output.
    ///
    /// Throw ``ONNXExportError`` (through ``ONNXGraphBuilder/unsupported(_:_:)`` or
    /// ``ONNXGraphBuilder/invalidInput(_:_:)``, which name the module and its path) when a setting or input cannot be
    /// expressed.
    func exportONNX(_ input: ONNXValue, into graph: ONNXGraphBuilder) throws -> ONNXValue
}
