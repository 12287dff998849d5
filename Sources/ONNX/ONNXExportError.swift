/// Why a module could not be exported.
public enum ONNXExportError: Error, Equatable, CustomStringConvertible {
    /// `type` has no ONNX description: it neither is a built-in layer the exporter knows nor conforms to
    /// ``ONNXExportable``. `path` is its dotted name in the model (`""` for the model itself).
    case unsupportedModule(type: String, path: String)
    /// The layer is supported, but not with this setting (`reason` says which).
    case unsupportedConfiguration(type: String, path: String, reason: String)
    /// The input a layer received does not fit it (a rank it does not take, integers where it needs floats).
    case invalidInput(type: String, path: String, reason: String)
    /// An argument of the export call itself is invalid (opset, input shape, names).
    case invalidArgument(String)
    /// The file could not be written.
    case writeFailed(path: String, reason: String)

    public var description: String {
        func at(_ path: String) -> String { path.isEmpty ? "the model itself" : "\"\(path)\"" }
        switch self {
        case let .unsupportedModule(type, path):
            return "ONNX export: \(type) at \(at(path)) has no ONNX description; conform it to ONNXExportable to describe its graph"
        case let .unsupportedConfiguration(type, path, reason):
            return "ONNX export: \(type) at \(at(path)) cannot be exported: \(reason)"
        case let .invalidInput(type, path, reason):
            return "ONNX export: \(type) at \(at(path)) got an input it cannot take: \(reason)"
        case let .invalidArgument(reason):
            return "ONNX export: \(reason)"
        case let .writeFailed(path, reason):
            return "ONNX export: cannot write \(path): \(reason)"
        }
    }
}
