import Foundation
import NN
import SwiftProtobuf

/// The model input of an export: its name, its sizes in the sample the graph is described for, its element type,
/// and which axes may vary.
public struct ONNXInput: Sendable, Equatable {
    /// The graph input's name.
    public var name: String
    /// The sizes; an axis named in `dynamicAxes` is written as a symbol instead.
    public var shape: [Int]
    /// `.float32` for features and images, `.int64` for token ids.
    public var elementType: ONNXElementType
    /// Axes whose size is left free, each with its symbol (`[0: "batch"]`).
    public var dynamicAxes: [Int: String]

    /// An input called `name` of `shape`; by default a float32 tensor with a free batch axis (axis 0).
    public init(name: String = "input", shape: [Int], elementType: ONNXElementType = .float32,
                dynamicAxes: [Int: String] = [0: "batch"]) {
        self.name = name
        self.shape = shape
        self.elementType = elementType
        self.dynamicAxes = dynamicAxes
    }
}

/// Writes a module as an ONNX model (a `.onnx` file that onnxruntime, Netron and the `onnx` tools read).
///
/// The graph is described module by module: every built-in layer of `NN` knows its ONNX nodes (see
/// <doc:SupportedLayers>), containers such as `Sequential` chain their children, and a model of your own conforms to
/// ``ONNXExportable``. The graph is the module in evaluation mode; the parameters are stored as float32
/// initializers named as in the model's state dict.
///
/// ```swift
/// let model = Sequential(Linear(784, 128), ReLU(), Linear(128, 10))
/// try ONNXExporter().export(model, input: ONNXInput(shape: [1, 784]), to: URL(fileURLWithPath: "mlp.onnx"))
/// ```
///
/// The file has one input (`"input"` by default, batch axis free) and one output (`"output"`).
public struct ONNXExporter: Sendable {
    /// The operator sets this exporter writes.
    public static let supportedOpsets = 17...20

    /// The operator set (`ai.onnx` domain) of the model.
    public let opset: Int
    /// The `producer_name` written into the model.
    public var producerName = "swift-autograd"

    /// An exporter for operator set `opset`.
    ///
    /// - Throws: ``ONNXExportError/invalidArgument(_:)`` when `opset` is outside ``supportedOpsets``.
    public init(opset: Int = 17) throws {
        guard Self.supportedOpsets.contains(opset) else {
            throw ONNXExportError.invalidArgument("opset \(opset) is not supported (\(Self.supportedOpsets.lowerBound)–\(Self.supportedOpsets.upperBound))")
        }
        self.opset = opset
    }

    /// Writes `model` as an ONNX file at `url`, atomically: a reader never sees a partly written file, and a failed
    /// export leaves any earlier file in place.
    ///
    /// - Parameters:
    ///   - model: The module; it must be ``ONNXExportable`` (every built-in layer is).
    ///   - input: The model input.
    ///   - outputName: The graph output's name.
    ///   - url: Where the file goes.
    /// - Throws: ``ONNXExportError`` naming the module and its path when a part of the model cannot be exported,
    ///   or when the file cannot be written.
    public func export(_ model: Module, input: ONNXInput, outputName: String = "output", to url: URL) throws {
        let bytes = try serializedModel(model, input: input, outputName: outputName)
        do {
            try bytes.write(to: url, options: .atomic)
        } catch {
            throw ONNXExportError.writeFailed(path: url.path, reason: error.localizedDescription)
        }
    }

    /// `model` as the bytes of an ONNX file (see ``export(_:input:outputName:to:)``).
    public func serializedModel(_ model: Module, input: ONNXInput, outputName: String = "output") throws -> Data {
        try modelProto(model, input: input, outputName: outputName).serializedData()
    }

    func modelProto(_ model: Module, input: ONNXInput, outputName: String) throws -> Onnx_ModelProto {
        try validate(input, outputName: outputName)
        let builder = ONNXGraphBuilder(opset: opset, reservedNames: [input.name, outputName])
        let source = ONNXValue(name: input.name, rank: input.shape.count, elementType: input.elementType)
        let result = builder.rename(try builder.export(model, named: "", source), to: outputName)

        var graph = Onnx_GraphProto()
        graph.name = String(describing: type(of: model))
        graph.node = builder.nodes
        graph.initializer = builder.initializers
        graph.input = [Self.valueInfo(input.name, type: input.elementType,
                                      dims: input.shape.enumerated().map { axis, size in input.dynamicAxes[axis].map { .symbol($0) } ?? .size(size) })]
        graph.output = [Self.valueInfo(result.name, type: result.elementType, dims: Array(repeating: .unknown, count: result.rank))]

        var proto = Onnx_ModelProto()
        proto.irVersion = opset <= 18 ? 8 : 9
        proto.producerName = producerName
        var opsetID = Onnx_OperatorSetIdProto()
        opsetID.domain = ""
        opsetID.version = Int64(opset)
        proto.opsetImport = [opsetID]
        proto.graph = graph
        return proto
    }

    private func validate(_ input: ONNXInput, outputName: String) throws {
        guard !input.name.isEmpty, !outputName.isEmpty, input.name != outputName else {
            throw ONNXExportError.invalidArgument("input name \"\(input.name)\" and output name \"\(outputName)\" must be non-empty and different")
        }
        guard !input.shape.isEmpty, input.shape.allSatisfy({ $0 > 0 }) else {
            throw ONNXExportError.invalidArgument("input shape \(input.shape) must have at least one axis, all sizes positive")
        }
        guard input.dynamicAxes.keys.allSatisfy(input.shape.indices.contains) else {
            throw ONNXExportError.invalidArgument("dynamic axes \(input.dynamicAxes.keys.sorted()) are not all axes of shape \(input.shape)")
        }
        guard input.elementType != .bool else { throw ONNXExportError.invalidArgument("a boolean model input is not supported") }
    }

    private enum Dimension { case size(Int), symbol(String), unknown }

    private static func valueInfo(_ name: String, type: ONNXElementType, dims: [Dimension]) -> Onnx_ValueInfoProto {
        var shape = Onnx_TensorShapeProto()
        shape.dim = dims.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            switch d {
            case .size(let n): dim.dimValue = Int64(n)
            case .symbol(let s): dim.dimParam = s
            case .unknown: break
            }
            return dim
        }
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = type.code
        tensor.shape = shape
        var typeProto = Onnx_TypeProto()
        typeProto.tensorType = tensor
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type = typeProto
        return info
    }
}
