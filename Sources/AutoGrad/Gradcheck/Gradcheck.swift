/// Why a gradient check failed: which function, which input and element, and the two values.
public struct GradcheckError: Error, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable {
        /// An analytic derivative differs from the central difference beyond `atol + rtol·|numeric|`.
        case mismatch
        /// Two backward passes with the same seed gave different gradients.
        case nondeterministic
        /// The function's output is not `float64`, so finite differences are meaningless.
        case notDouble
    }

    /// What went wrong.
    public let kind: Kind
    /// The checked function (by default the name of the op that produced its output).
    public let name: String
    /// Which input (position in `inputs`) the derivative is taken with respect to.
    public let inputIndex: Int
    /// Row-major index of the input element.
    public let elementIndex: Int
    /// Which output (position in the function's result array).
    public let outputIndex: Int
    /// Row-major index of the output element.
    public let outputElementIndex: Int
    /// ∂output/∂input from backward (for `.nondeterministic`: the first backward's value).
    public let analytic: Double
    /// ∂output/∂input from central differences (for `.nondeterministic`: the second backward's value).
    public let numeric: Double

    /// A one-line report naming the function, the input and output elements and both values.
    public var description: String {
        switch kind {
        case .notDouble:
            return "gradcheck(\(name)): output \(outputIndex) is not float64; check gradients in Double"
        case .nondeterministic:
            return "gradcheck(\(name)): backward is not deterministic: input \(inputIndex) element \(elementIndex) got \(analytic) and then \(numeric)"
        case .mismatch:
            return "gradcheck(\(name)): d output[\(outputIndex)][\(outputElementIndex)] / d input[\(inputIndex)][\(elementIndex)]: analytic \(analytic) vs numeric \(numeric) (difference \(Swift.abs(analytic - numeric)))"
        }
    }
}

/// Checks the gradients of `function` against central finite differences, in Double.
///
/// Every input is converted to `float64` and perturbed element by element by ±`eps`; each column
/// of the numeric Jacobian `(f(x + eps) − f(x − eps)) / 2eps` is compared with the analytic one
/// from backward (one backward pass per output element). An element passes when
/// `|analytic − numeric| ≤ atol + rtol·|numeric|` (PyTorch's defaults). The check also runs one
/// backward twice to see that it is deterministic.
///
/// ```swift
/// try gradcheck({ x in (x[0] * x[1]).exp().sum(axes: [1]) },
///               inputs: [Tensor.randn([3, 4]), Tensor.randn([1, 4])])
/// ```
///
/// - Parameters:
///   - function: maps the input variables to one or more outputs.
///   - inputs: the point at which to check; broadcast shapes and scalars are allowed.
///   - checking: which inputs to differentiate with respect to (all by default).
///   - eps: the perturbation of each input element.
///   - atol: the absolute tolerance.
///   - rtol: the tolerance relative to the numeric derivative.
///   - name: the name in a failure report; defaults to the op that produced the first output.
/// - Returns: the largest absolute difference seen.
/// - Throws: ``GradcheckError`` naming the worst element when any element fails.
@discardableResult
public func gradcheck(_ function: ([Variable]) -> [Variable], inputs: [Tensor], checking: [Bool]? = nil,
                      eps: Double = 1e-6, atol: Double = 1e-5, rtol: Double = 1e-3, name: String? = nil) throws -> Double {
    let points = inputs.map { $0.to(.float64) }
    let checked = checking ?? Array(repeating: true, count: points.count)
    precondition(checked.count == points.count, "gradcheck: \(checked.count) flags for \(points.count) inputs")

    // Inputs keep requiring gradients here so that a function which itself differentiates
    // (as in gradgradcheck) computes the same thing as in the analytic pass.
    func evaluate(_ values: [Tensor]) -> [Tensor] {
        function(zip(values, checked).map { Variable($0, requiresGrad: $1) }).map(\.value)
    }

    // The analytic Jacobian, one backward per output element.
    let variables = zip(points, checked).map { Variable($0, requiresGrad: $1) }
    let outputs = function(variables)
    let label = name ?? outputs.first?.opName ?? "function"
    for (o, out) in outputs.enumerated() where out.dtype != .float64 {
        throw GradcheckError(kind: .notDouble, name: label, inputIndex: 0, elementIndex: 0, outputIndex: o,
                             outputElementIndex: 0, analytic: 0, numeric: 0)
    }
    let differentiable = outputs.map(\.requiresGrad)
    // analytic[o][k][i] is the gradient of output o's element k with respect to input i.
    var analytic: [[[Tensor]]] = []
    for (o, out) in outputs.enumerated() {
        var rows: [[Tensor]] = []
        for k in 0..<out.value.count {
            guard differentiable[o] else {
                rows.append(points.map { Tensor.zeros(like: $0) })
                continue
            }
            rows.append(backwardRow(outputs: outputs, output: o, element: k, variables: variables))
        }
        analytic.append(rows)
    }
    if let o = differentiable.firstIndex(of: true), outputs[o].value.count > 0 {
        let again = backwardRow(outputs: outputs, output: o, element: 0, variables: variables)
        for (i, (first, second)) in zip(analytic[o][0], again).enumerated() where checked[i] {
            if let j = (0..<first.count).first(where: { first[flat: $0] != second[flat: $0] }) {
                throw GradcheckError(kind: .nondeterministic, name: label, inputIndex: i, elementIndex: j, outputIndex: o,
                                     outputElementIndex: 0, analytic: first[flat: j], numeric: second[flat: j])
            }
        }
    }

    // The numeric Jacobian, compared column by column.
    var worst: GradcheckError? = nil
    var worstExcess = 0.0
    var largestDifference = 0.0
    for (i, point) in points.enumerated() where checked[i] {
        for j in 0..<point.count {
            var plus = points, minus = points
            plus[i][flat: j] += eps
            minus[i][flat: j] -= eps
            let fPlus = evaluate(plus), fMinus = evaluate(minus)
            for o in outputs.indices {
                for k in 0..<fPlus[o].count {
                    let numeric = (fPlus[o][flat: k] - fMinus[o][flat: k]) / (2 * eps)
                    let value = analytic[o][k][i][flat: j]
                    let difference = Swift.abs(value - numeric)
                    largestDifference = Swift.max(largestDifference, difference.isNaN ? .infinity : difference)
                    let excess = difference - (atol + rtol * Swift.abs(numeric))
                    if excess > worstExcess || (excess.isNaN && worst == nil) || (value.isNaN != numeric.isNaN) {
                        worstExcess = excess.isNaN ? .infinity : excess
                        worst = GradcheckError(kind: .mismatch, name: label, inputIndex: i, elementIndex: j, outputIndex: o,
                                               outputElementIndex: k, analytic: value, numeric: numeric)
                    }
                }
            }
        }
    }
    if let worst { throw worst }
    return largestDifference
}

/// `gradcheck` for a function with one output; see the array-returning overload for the method.
///
/// - Returns: the largest absolute difference seen.
/// - Throws: ``GradcheckError`` naming the worst element when any element fails.
@discardableResult
public func gradcheck(_ function: ([Variable]) -> Variable, inputs: [Tensor], checking: [Bool]? = nil,
                      eps: Double = 1e-6, atol: Double = 1e-5, rtol: Double = 1e-3, name: String? = nil) throws -> Double {
    try gradcheck({ [function($0)] }, inputs: inputs, checking: checking, eps: eps, atol: atol, rtol: rtol, name: name)
}

/// Checks second derivatives: the gradient of `function` (for a fixed random output gradient `v`)
/// is itself gradchecked as a function of the inputs and of `v`.
///
/// This is PyTorch's `gradgradcheck`: it verifies that the backward formulas are differentiable
/// and correct, which is what `createGraph: true` (gradient penalties, Hessian-vector products) relies on.
///
/// ```swift
/// try gradgradcheck({ x in (x[0] * x[1]).tanh() }, inputs: [Tensor.randn([3, 4]), Tensor.randn([4])])
/// ```
///
/// - Parameters:
///   - function: maps the input variables to one output.
///   - inputs: the point at which to check (converted to `float64`).
///   - seed: seeds the random output gradient `v`.
///   - eps: the perturbation of each element, as for `gradcheck`.
///   - atol: the absolute tolerance.
///   - rtol: the relative tolerance.
///   - name: the name in a failure report; defaults to `grad of` the op that produced the output.
/// - Returns: the largest absolute difference seen.
/// - Throws: ``GradcheckError`` from the inner gradcheck; input indices past the function's inputs refer to `v`.
@discardableResult
public func gradgradcheck(_ function: ([Variable]) -> Variable, inputs: [Tensor], seed: UInt64 = 0,
                          eps: Double = 1e-6, atol: Double = 1e-5, rtol: Double = 1e-3, name: String? = nil) throws -> Double {
    let points = inputs.map { $0.to(.float64) }
    let outputShape = Graph.noGrad { function(points.map { Variable($0) }).shape }
    let v = Tensor.randn(outputShape, dtype: .float64, generator: RandomGenerator(seed: seed))
    let label = name ?? function(points.map { Variable($0, requiresGrad: true) }).opName ?? "function"
    let n = points.count
    return try gradcheck({ all in
        let xs = Array(all.prefix(n))
        let y = function(xs)
        guard y.requiresGrad else { return xs.map { Variable(Tensor.zeros(like: $0.value)) } }
        // The seed enters as a variable so that the check covers ∂/∂v too: the Jacobian of backward itself.
        let inner = (y * all[n]).sum()
        return Graph.gradients(of: inner, withRespectTo: xs, createGraph: true)
    }, inputs: points + [v], eps: eps, atol: atol, rtol: rtol, name: "grad of \(label)")
}

/// Gradients of one element of one output with respect to all inputs (a row of the Jacobian).
private func backwardRow(outputs: [Variable], output o: Int, element k: Int, variables: [Variable]) -> [Tensor] {
    var seed = Tensor.zeros(like: outputs[o].value)
    seed[flat: k] = 1
    let seeds: [Tensor?] = outputs.indices.map { $0 == o ? seed : Tensor.zeros(like: outputs[$0].value) }
    let roots = outputs.indices.filter { outputs[$0].requiresGrad }
    let grads = Graph.gradients(of: roots.map { outputs[$0] }, withRespectTo: variables,
                                seeds: roots.map { seeds[$0] }, retainGraph: true)
    return grads.map(\.value)
}
