import Foundation
import AutoGrad
import NN

/// The graph of a model being exported: nodes, initializers (the parameters) and the path of the module whose
/// nodes are being added.
///
/// ``ONNXExporter`` makes one and hands it to the model's ``ONNXExportable/exportONNX(_:into:)``; a module adds its
/// nodes with ``node(_:_:attributes:rank:elementType:)`` and its parameters with ``parameter(_:named:)``, and hands
/// its children on with ``export(_:named:_:)``.
public final class ONNXGraphBuilder {
    /// The operator set the nodes are written for.
    public let opset: Int

    var nodes: [Onnx_NodeProto] = []
    var initializers: [Onnx_TensorProto] = []
    var path: [String] = []
    private var usedNames: Set<String>
    private var parameterNames: [ObjectIdentifier: String] = [:]

    init(opset: Int, reservedNames: Set<String>) {
        self.opset = opset
        usedNames = reservedNames
    }

    /// The dotted name of the module being exported (`""` for the model itself).
    public var modulePath: String { path.filter { !$0.isEmpty }.joined(separator: ".") }

    // MARK: Modules

    /// Adds the nodes of `module`, a child called `name` of the module being exported, applied to `input`.
    ///
    /// - Throws: ``ONNXExportError/unsupportedModule(type:path:)`` when `module` does not conform to
    ///   ``ONNXExportable``, or whatever its export throws.
    public func export(_ module: Module, named name: String, _ input: ONNXValue) throws -> ONNXValue {
        path.append(name)
        defer { path.removeLast() }
        guard let exportable = module as? ONNXExportable else {
            throw ONNXExportError.unsupportedModule(type: String(describing: type(of: module)), path: modulePath)
        }
        return try exportable.exportONNX(input, into: self)
    }

    /// The error for a setting of `module` that ONNX cannot express, naming the module and its path.
    public func unsupported(_ module: Module, _ reason: String) -> ONNXExportError {
        .unsupportedConfiguration(type: String(describing: type(of: module)), path: modulePath, reason: reason)
    }

    /// The error for an input `module` cannot take, naming the module and its path.
    public func invalidInput(_ module: Module, _ reason: String) -> ONNXExportError {
        .invalidInput(type: String(describing: type(of: module)), path: modulePath, reason: reason)
    }

    /// Throws ``invalidInput(_:_:)`` unless `input` is a float tensor whose rank is one of `ranks`.
    public func require(_ input: ONNXValue, of module: Module, rank ranks: Set<Int>, shape: String) throws {
        guard input.elementType == .float32 else {
            throw invalidInput(module, "\(input.elementType) tensor where float32 \(shape) is needed")
        }
        guard ranks.contains(input.rank) else { throw invalidInput(module, "rank \(input.rank), expected \(shape)") }
    }

    // MARK: Nodes

    /// Adds a node of operator `opType` on `inputs` (nil for an optional input left out) and returns its one output,
    /// of rank `rank` and element type `elementType` (the first input's when nil).
    @discardableResult
    public func node(_ opType: String, _ inputs: [ONNXValue?], attributes: [String: ONNXAttribute] = [:], rank: Int,
                     elementType: ONNXElementType? = nil) -> ONNXValue {
        let type = elementType ?? inputs.first??.elementType ?? .float32
        return nodeOutputs(opType, inputs, attributes: attributes, outputs: [(rank, type)])[0]
    }

    /// Adds a node with several outputs, one per `(rank, elementType)` pair.
    public func nodeOutputs(_ opType: String, _ inputs: [ONNXValue?], attributes: [String: ONNXAttribute] = [:],
                            outputs: [(rank: Int, elementType: ONNXElementType)]) -> [ONNXValue] {
        var node = Onnx_NodeProto()
        node.opType = opType
        node.name = uniqueName(modulePath.isEmpty ? opType : "\(modulePath)/\(opType)")
        node.input = inputs.map { $0?.name ?? "" }
        let values = outputs.map { ONNXValue(name: uniqueName(node.name), rank: $0.rank, elementType: $0.elementType) }
        node.output = values.map(\.name)
        node.attribute = attributes.sorted { $0.key < $1.key }.map { Self.attribute($0.key, $0.value) }
        nodes.append(node)
        return values
    }

    /// Renames the output `value` of the last node that produced it to `name` (the graph output's name), or adds an
    /// `Identity` node when no node produced it (a graph input passed straight through).
    func rename(_ value: ONNXValue, to name: String) -> ONNXValue {
        if let index = nodes.lastIndex(where: { $0.output.contains(value.name) }) {
            nodes[index].output = nodes[index].output.map { $0 == value.name ? name : $0 }
            for i in nodes.indices.dropFirst(index + 1) {
                nodes[i].input = nodes[i].input.map { $0 == value.name ? name : $0 }
            }
            return ONNXValue(name: name, rank: value.rank, elementType: value.elementType)
        }
        var node = Onnx_NodeProto()
        node.opType = "Identity"
        node.name = uniqueName("Identity")
        node.input = [value.name]
        node.output = [name]
        nodes.append(node)
        return ONNXValue(name: name, rank: value.rank, elementType: value.elementType)
    }

    // MARK: Constants

    /// The initializer holding `variable`'s value as float32, named `name` under the current module's path
    /// (`"fc.weight"`). A parameter used twice (tied weights) is stored once.
    public func parameter(_ variable: Variable, named name: String) -> ONNXValue {
        let key = ObjectIdentifier(variable)
        if let existing = parameterNames[key] { return ONNXValue(name: existing, rank: variable.rank) }
        let value = constant(variable.value, named: name)
        parameterNames[key] = value.name
        return value
    }

    /// An initializer holding `tensor` as float32, named `name` under the current module's path.
    public func constant(_ tensor: Tensor, named name: String) -> ONNXValue {
        let full = uniqueName(modulePath.isEmpty ? name : "\(modulePath).\(name)")
        var proto = Onnx_TensorProto()
        proto.name = full
        proto.dims = tensor.shape.map(Int64.init)
        proto.dataType = ONNXElementType.float32.code
        proto.rawData = Self.littleEndianBytes(tensor.floats)
        initializers.append(proto)
        return ONNXValue(name: full, rank: tensor.rank)
    }

    /// A float32 scalar (rank 0) initializer: a coefficient that broadcasts.
    public func scalar(_ value: Double, named name: String = "const") -> ONNXValue {
        constant(Tensor(shape: [], scalars: [value]), named: name)
    }

    /// A one-dimensional int64 initializer: a shape, axes, starts or ends.
    public func integers(_ values: [Int], named name: String = "ints") -> ONNXValue {
        let full = uniqueName(modulePath.isEmpty ? name : "\(modulePath).\(name)")
        var proto = Onnx_TensorProto()
        proto.name = full
        proto.dims = [Int64(values.count)]
        proto.dataType = ONNXElementType.int64.code
        proto.rawData = Self.littleEndianBytes(values.map(Int64.init))
        initializers.append(proto)
        return ONNXValue(name: full, rank: 1, elementType: .int64)
    }

    // MARK: Names and encoding

    private func uniqueName(_ base: String) -> String {
        var name = base, n = 1
        while usedNames.contains(name) {
            name = "\(base)_\(n)"
            n += 1
        }
        usedNames.insert(name)
        return name
    }

    private static func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> Data {
        var data = Data(capacity: values.count * MemoryLayout<T>.size)
        for v in values { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    private static func littleEndianBytes(_ values: [Float]) -> Data {
        littleEndianBytes(values.map(\.bitPattern))
    }

    private static func attribute(_ name: String, _ value: ONNXAttribute) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        switch value {
        case .int(let i): a.type = .int; a.i = Int64(i)
        case .ints(let v): a.type = .ints; a.ints = v.map(Int64.init)
        case .float(let f): a.type = .float; a.f = Float(f)
        case .floats(let v): a.type = .floats; a.floats = v.map(Float.init)
        case .string(let s): a.type = .string; a.s = Data(s.utf8)
        case .strings(let v): a.type = .strings; a.strings = v.map { Data($0.utf8) }
        }
        return a
    }
}
