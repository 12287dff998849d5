/// Why a quantised model's state could not be loaded. Every case names the key.
public enum QuantizedStateError: Error, Equatable, CustomStringConvertible {
    /// The state has no entry `key` that the model needs.
    case missingKey(key: String)
    /// The state has an entry `key` that the model does not have.
    case unexpectedKey(key: String)
    /// The entry's element type is not the one the model stores there (`I8` weights, `F32` scales).
    case wrongType(key: String, expected: String)
    /// The entry's shape differs from the model's.
    case shapeMismatch(key: String, expected: [Int], found: [Int])
    /// The entry holds a value quantisation never produces.
    case invalidValue(key: String, reason: String)

    public var description: String {
        switch self {
        case .missingKey(let key): return "quantized state: missing \"\(key)\""
        case .unexpectedKey(let key): return "quantized state: unexpected \"\(key)\" (not in this model)"
        case .wrongType(let key, let expected): return "quantized state: \"\(key)\" is not \(expected)"
        case .shapeMismatch(let key, let expected, let found):
            return "quantized state: \"\(key)\" has shape \(found), the model needs \(expected)"
        case .invalidValue(let key, let reason): return "quantized state: \"\(key)\": \(reason)"
        }
    }
}
