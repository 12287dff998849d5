/// Why ``NonFiniteCheck`` stopped a training loop: a loss or a gradient that is NaN or infinite.
///
/// Once a NaN reaches an optimizer step it spreads to every parameter and every later loss, and a
/// loop that carries on overwrites its good checkpoints with garbage. Stop at the first one.
public enum NonFiniteError: Error, CustomStringConvertible {
    /// The loss of training step `step` is `value` (NaN or ±infinity). `name` tells which loss when a
    /// step has several (a GAN's discriminator and generator losses); it is empty otherwise.
    /// `origin` is `Graph.firstAnomaly`: the op that first produced a non-finite value, when the
    /// loop runs inside `Graph.withAnomalyRecording(_:)`.
    case nonFiniteLoss(step: Int, name: String, value: Double, origin: String?)
    /// Element `index` (row-major) of the gradient of parameter `parameter` is `value` at step `step`;
    /// `origin` as for ``nonFiniteLoss(step:name:value:origin:)``.
    case nonFiniteGradient(step: Int, parameter: String, index: Int, value: Double, origin: String?)

    /// A one-line message naming the step, the loss or parameter, the value and, when known, the op
    /// that first produced a non-finite value.
    public var description: String {
        switch self {
        case let .nonFiniteLoss(step, name, value, origin):
            return "step \(step): \(name.isEmpty ? "the loss" : "the \(name) loss") is \(value)" + Self.suffix(origin)
        case let .nonFiniteGradient(step, parameter, index, value, origin):
            return "step \(step): the gradient of parameter \"\(parameter)\" is \(value) at element \(index)"
                + Self.suffix(origin)
        }
    }

    private static func suffix(_ origin: String?) -> String {
        origin.map { " (first non-finite value: \($0))" } ?? ""
    }
}

/// Checks for NaN and infinity in a training loop, so that it stops with a clear error at the first
/// non-finite loss or gradient instead of training on NaN.
///
/// ```swift
/// for (step, (x, y)) in loader.enumerated() {
///     optimizer.zeroGrad()
///     let loss = crossEntropy(model(Variable(x)), y)
///     try NonFiniteCheck.loss(loss, step: step)
///     loss.backward()
///     try NonFiniteCheck.gradients(model.namedParameters(), step: step)
///     optimizer.step()
/// }
/// ```
///
/// Each check reads every element once; the gradient check also returns the global L2 norm, which
/// a loop may log or use for clipping. Run the loop inside `Graph.withAnomalyRecording` and the
/// error also names the op that first produced a non-finite value.
public enum NonFiniteCheck {
    /// Returns the loss's value (the first element of a non-scalar loss).
    ///
    /// - Parameters:
    ///   - loss: the loss variable of this step.
    ///   - step: the training step, for the error message.
    ///   - name: which loss, when a step computes several ("discriminator", "generator").
    /// - Throws: ``NonFiniteError/nonFiniteLoss(step:name:value:origin:)`` when any element is NaN or infinite.
    @discardableResult
    public static func loss(_ loss: Variable, step: Int, name: String = "") throws -> Double {
        let values = loss.value.doubles
        if let bad = values.first(where: { !$0.isFinite }) {
            throw NonFiniteError.nonFiniteLoss(step: step, name: name, value: bad, origin: Graph.firstAnomaly)
        }
        return values.first ?? 0
    }

    /// Checks a loss already read out as a number.
    ///
    /// - Throws: ``NonFiniteError/nonFiniteLoss(step:name:value:origin:)`` when `value` is NaN or infinite.
    public static func loss(_ value: Double, step: Int, name: String = "") throws {
        guard value.isFinite else {
            throw NonFiniteError.nonFiniteLoss(step: step, name: name, value: value, origin: Graph.firstAnomaly)
        }
    }

    /// Checks every gradient and returns their global L2 norm ‖g‖₂ over all parameters together, in
    /// Double (the norm may be infinite for huge but finite Double gradients; that is not an error).
    /// Parameters without a gradient are skipped. Pass `module.namedParameters()`.
    ///
    /// - Throws: ``NonFiniteError/nonFiniteGradient(step:parameter:index:value:origin:)`` naming the first
    ///   parameter, in list order, and the first element with a NaN or infinite gradient.
    @discardableResult
    public static func gradients(_ parameters: [(name: String, variable: Variable)], step: Int) throws -> Double {
        var sumOfSquares = 0.0
        for (name, parameter) in parameters {
            guard let gradient = parameter.grad else { continue }
            let part: Double
            switch gradient.dtype {
            case .float32: part = gradient.withUnsafeBufferPointer(as: Float.self) { squares($0) }
            case .float64: part = gradient.withUnsafeBufferPointer(as: Double.self) { squares($0) }
            }
            if !part.isFinite, let index = gradient.doubles.firstIndex(where: { !$0.isFinite }) {
                throw NonFiniteError.nonFiniteGradient(step: step, parameter: name, index: index,
                                                       value: gradient.doubles[index], origin: Graph.firstAnomaly)
            }
            sumOfSquares += part
        }
        return sumOfSquares.squareRoot()
    }

    /// The gradient check for unnamed parameters, named by their position: "0", "1", ...
    @discardableResult
    public static func gradients(_ parameters: [Variable], step: Int) throws -> Double {
        try gradients(parameters.enumerated().map { (name: "\($0.offset)", variable: $0.element) }, step: step)
    }

    /// Σx² in Double: NaN or infinite exactly when some element is (or, for Double, when it overflows).
    private static func squares<T: TensorScalar>(_ elements: UnsafeBufferPointer<T>) -> Double {
        var result = 0.0
        for x in elements { result += Double(x) * Double(x) }
        return result
    }
}
