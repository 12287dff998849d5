import AutoGrad

/// A layer whose state is quantised and so is not held in ``Parameter``s: it gives and takes its state itself,
/// for ``Module/quantizedStateDict()`` and ``Module/loadQuantizedStateDict(_:)``.
protocol QuantizedLayer: Module {
    /// The layer's state by name relative to the layer (`I8` weights, `F32` scales and biases).
    func quantizedState() -> [String: StoredTensor]
    /// Replaces the layer's state with the entries `state` holds for it, validated.
    func loadQuantizedState(_ state: QuantizedStateReader) throws
}

extension Int8Weights {
    /// `name` (the `I8` values, of `shape`: the Float weight's, `[rows, columns]` by default) and `name_scale` (the
    /// `F32` scales).
    func storedState(prefix name: String, shape: [Int]? = nil) -> [String: StoredTensor] {
        [name: .int8(shape: shape ?? [rows, columns], values: values), name + "_scale": .float(Tensor(scales))]
    }
}

/// A quantised layer's view of a state dict: its entries under its prefix, read with their shapes and types
/// checked, each read key remembered so that the rest can go to the Float layers.
final class QuantizedStateReader {
    private let state: [String: StoredTensor]
    private let prefix: String
    /// The full keys read so far.
    private(set) var used: Set<String> = []

    init(_ state: [String: StoredTensor], prefix: String) {
        self.state = state
        self.prefix = prefix
    }

    private func entry(_ name: String, shape: [Int]) throws -> (key: String, value: StoredTensor) {
        let key = join(prefix, name)
        guard let value = state[key] else { throw QuantizedStateError.missingKey(key: key) }
        guard value.shape == shape else { throw QuantizedStateError.shapeMismatch(key: key, expected: shape, found: value.shape) }
        used.insert(key)
        return (key, value)
    }

    /// The `F32` entry `name` of `count` elements.
    func floats(_ name: String, count: Int) throws -> [Float] { try floats(name, shape: [count]) }

    /// The `F32` entry `name` of `shape`.
    func floats(_ name: String, shape: [Int]) throws -> [Float] {
        let (key, value) = try entry(name, shape: shape)
        guard case .float(let t) = value else { throw QuantizedStateError.wrongType(key: key, expected: "a floating-point tensor") }
        return t.floats
    }

    /// The integer scalar `name`.
    func integer(_ name: String) throws -> Int {
        let (key, value) = try entry(name, shape: [])
        guard case .integer(let t) = value else { throw QuantizedStateError.wrongType(key: key, expected: "an integer tensor") }
        return t.values[0]
    }

    /// The activation map `name_scale` (`F32` scalar) and `name_zero_point` (integer scalar).
    func activation(_ name: String) throws -> ActivationQuantization {
        let scale = try floats(name + "_scale", shape: [])[0], zeroPoint = try integer(name + "_zero_point")
        return try ActivationQuantization(scale: scale, zeroPoint: zeroPoint, name: join(prefix, name))
    }

    /// The weights `name` (`I8`, `[rows, columns]`) with their scales `name_scale` (`F32`, `[rows]`).
    func weights(_ name: String, rows: Int, columns: Int) throws -> Int8Weights {
        try weights(name, shape: [rows, columns])
    }

    /// The weights `name` (`I8` of `shape`, read as `shape[0]` rows of the other dimensions' product) with their
    /// scales `name_scale` (`F32`, `[shape[0]]`): a convolution's `[out, in/groups, kH, kW]` weight.
    func weights(_ name: String, shape: [Int]) throws -> Int8Weights {
        let (rows, columns) = (shape[0], shape.dropFirst().reduce(1, *))
        let (key, value) = try entry(name, shape: shape)
        let bytes: [Int8]
        switch value {
        case .int8(_, let values): bytes = values
        case .integer(let t):
            if let bad = t.values.firstIndex(where: { !(-128...127).contains($0) }) {
                throw QuantizedStateError.invalidValue(key: key, reason: "value \(t.values[bad]) at \(bad) is not a signed byte")
            }
            bytes = t.values.map { Int8($0) }
        case .float: throw QuantizedStateError.wrongType(key: key, expected: "an I8 tensor")
        }
        return try Int8Weights(rows: rows, columns: columns, values: bytes,
                               scales: floats(name + "_scale", count: rows), name: key)
    }
}
