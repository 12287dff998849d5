import AutoGrad
import Testing

// Helpers for tests of ops and layers, in this framework's tests and in packages that add their own ops: seeded
// Double inputs kept away from kinks, a tolerance comparison that names the first bad element, and gradient-check
// wrappers that record an issue naming the shapes. Their own tests are in Tests/AutoGradTests/TestSupport.swift.

// MARK: Seeded inputs

/// Where sampled values lie, chosen to keep gradient checks away from kinks and singularities.
public enum Domain {
    /// Uniform in [-1, 1).
    case any
    /// Uniform in [0.5, 2): safe for `log`, `sqrt`, `pow` and as a divisor.
    case positive
    /// `|x|` uniform in [0.3, 1.3) with a random sign: away from the kinks of `abs` and `relu`.
    case nonzero
    /// All elements different, at least `1.6 / count` apart, in (-0.8, 0.8): no ties for `max`/`min`.
    case distinct
}

/// A `float64` tensor of `shape` drawn from `domain` with a fixed seed.
public func sample(_ shape: [Int], _ domain: Domain = .any, seed: UInt64) -> Tensor {
    let g = RandomGenerator(seed: seed)
    let n = shape.reduce(1, *)
    switch domain {
    case .any:
        return Tensor.uniform(shape, low: -1, high: 1, dtype: .float64, generator: g)
    case .positive:
        return Tensor.uniform(shape, low: 0.5, high: 2, dtype: .float64, generator: g)
    case .nonzero:
        let magnitude = Tensor.uniform(shape, low: 0.3, high: 1.3, dtype: .float64, generator: g)
        let signs = (Tensor.uniform(shape, dtype: .float64, generator: g) .< 0.5) * 2 - 1
        return magnitude * signs
    case .distinct:
        let values = g.permutation(n).map { -0.8 + 1.6 * (Double($0) + 0.5) / Double(n) }
        return Tensor(shape: shape, scalars: values)
    }
}

/// Two tensors whose elements are all different from each other (within and across), for `maximum`/`minimum`.
public func distinctPair(_ a: [Int], _ b: [Int], seed: UInt64) -> (Tensor, Tensor) {
    let na = a.reduce(1, *)
    let pool = sample([na + b.reduce(1, *)], .distinct, seed: seed).doubles
    return (Tensor(shape: a, scalars: Array(pool[..<na])), Tensor(shape: b, scalars: Array(pool[na...])))
}

// MARK: Comparison

/// Why `actual` differs from the expected shape and values, or nil when every element satisfies
/// `|actual − expected| ≤ atol + rtol·|expected|` (NaN matches only NaN; infinities must be equal).
public func mismatch(_ actual: Tensor, shape: [Int], _ expected: [Double], atol: Double = 1e-12, rtol: Double = 1e-12) -> String? {
    if actual.shape != shape { return "shape \(actual.shape), expected \(shape)" }
    if actual.count != expected.count { return "\(actual.count) elements, expected \(expected.count)" }
    let values = actual.doubles
    for (i, (x, y)) in zip(values, expected).enumerated() {
        let same: Bool
        if x.isNaN || y.isNaN { same = x.isNaN && y.isNaN }
        else if x.isInfinite || y.isInfinite { same = x == y }
        else { same = Swift.abs(x - y) <= atol + rtol * Swift.abs(y) }
        if !same { return "element \(i) is \(x), expected \(y) (shape \(shape))" }
    }
    return nil
}

/// ``mismatch(_:shape:_:atol:rtol:)`` against another tensor's shape and values.
public func mismatch(_ actual: Tensor, _ expected: Tensor, atol: Double = 1e-12, rtol: Double = 1e-12) -> String? {
    mismatch(actual, shape: expected.shape, expected.doubles, atol: atol, rtol: rtol)
}

// MARK: Gradient checks with context

/// Runs `gradcheck` (and `gradgradcheck` when `secondOrder` and every input is checked) and records a test issue naming the
/// label and input shapes on failure, so a loop over shapes reports every failing case.
public func expectGradients(_ label: String, _ inputs: [Tensor], checking: [Bool]? = nil, secondOrder: Bool = false,
                     atol: Double = 1e-5, rtol: Double = 1e-3,
                     sourceLocation: SourceLocation = #_sourceLocation,
                     _ function: ([Variable]) -> Variable) {
    let shapes = inputs.map { "\($0.shape)" }.joined(separator: ", ")
    do {
        try gradcheck(function, inputs: inputs, checking: checking, atol: atol, rtol: rtol)
    } catch {
        Issue.record("\(label) on shapes \(shapes): \(error)", sourceLocation: sourceLocation)
    }
    guard secondOrder && checking == nil else { return }
    do {
        try gradgradcheck(function, inputs: inputs, atol: atol, rtol: rtol)
    } catch {
        Issue.record("second order of \(label) on shapes \(shapes): \(error)", sourceLocation: sourceLocation)
    }
}

/// The gradient of `Σ weights · f(x)` with respect to each input (weights default to ones).
public func gradients(_ inputs: [Tensor], weights: Tensor? = nil, _ function: ([Variable]) -> Variable) -> [Tensor] {
    let xs = inputs.map { Variable($0, requiresGrad: true) }
    let y = function(xs)
    return Graph.gradients(of: y, withRespectTo: xs, seed: weights ?? Tensor.ones(like: y.value)).map(\.value)
}
