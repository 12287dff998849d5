/// The element type of a tensor in an exported graph.
public enum ONNXElementType: Sendable, Equatable {
    /// 32-bit floats: activations and parameters.
    case float32
    /// 64-bit integers: token ids, shapes and indices.
    case int64
    /// Booleans: masks.
    case bool

    /// The `TensorProto.DataType` number.
    var code: Int32 {
        switch self {
        case .float32: return 1
        case .int64: return 7
        case .bool: return 9
        }
    }
}

/// A tensor flowing through a graph being exported: the name that nodes refer to it by, its rank and its element
/// type. The sizes are not tracked; nodes that need one read it from the graph at run time (`Shape`), so the batch
/// and sequence axes stay dynamic.
public struct ONNXValue: Sendable, Equatable {
    /// The name of the graph input, initializer or node output.
    public let name: String
    /// The number of axes.
    public let rank: Int
    /// The element type.
    public let elementType: ONNXElementType

    /// A value named `name` with `rank` axes of `elementType`.
    public init(name: String, rank: Int, elementType: ONNXElementType = .float32) {
        self.name = name
        self.rank = rank
        self.elementType = elementType
    }

    /// The same value seen with another rank or element type (what a node that keeps the name would produce).
    func with(rank: Int? = nil, elementType: ONNXElementType? = nil) -> ONNXValue {
        ONNXValue(name: name, rank: rank ?? self.rank, elementType: elementType ?? self.elementType)
    }
}

/// A node attribute.
public enum ONNXAttribute: Sendable, Equatable {
    case int(Int)
    case ints([Int])
    case float(Double)
    case floats([Double])
    case string(String)
    case strings([String])
}
