/// Why ``Optimizer/loadStateDict(_:)`` rejected a state dictionary.
public enum OptimizerStateError: Error, Equatable, CustomStringConvertible {
    /// A key the optimizer needs is absent.
    case missingKey(String)
    /// A key the optimizer does not know (an index past the last parameter, a state tensor this
    /// optimizer does not keep under its options, a misspelt name).
    case unexpectedKey(String)
    /// A tensor has the wrong shape.
    case shapeMismatch(key: String, expected: [Int], found: [Int])
    /// A tensor holds a value the optimizer cannot take (a negative step, a flag other than 0 or 1,
    /// a group whose parameter indices differ from this optimizer's).
    case invalidValue(key: String, reason: String)

    /// A message naming the key and the problem.
    public var description: String {
        switch self {
        case .missingKey(let key): return "optimizer state dictionary: missing key \"\(key)\""
        case .unexpectedKey(let key): return "optimizer state dictionary: unexpected key \"\(key)\""
        case let .shapeMismatch(key, expected, found):
            return "optimizer state dictionary: \"\(key)\" has shape \(found), expected \(expected)"
        case let .invalidValue(key, reason):
            return "optimizer state dictionary: \"\(key)\": \(reason)"
        }
    }
}
