// The activation functions as layers, for use in `Sequential`. Each holds its configuration and
// calls the function of the same name.

/// ``relu(_:)`` as a layer.
public final class ReLU: Module {
    public override init() { super.init() }
    public override func forward(_ x: Variable) -> Variable { relu(x) }
}

/// ``leakyReLU(_:negativeSlope:)`` as a layer.
public final class LeakyReLU: Module {
    public let negativeSlope: Double
    public init(negativeSlope: Double = 0.01) { self.negativeSlope = negativeSlope; super.init() }
    public override func forward(_ x: Variable) -> Variable { leakyReLU(x, negativeSlope: negativeSlope) }
    public override var summary: String { "negativeSlope: \(negativeSlope)" }
}

/// ``elu(_:alpha:)`` as a layer.
public final class ELU: Module {
    public let alpha: Double
    public init(alpha: Double = 1) { self.alpha = alpha; super.init() }
    public override func forward(_ x: Variable) -> Variable { elu(x, alpha: alpha) }
    public override var summary: String { "alpha: \(alpha)" }
}

/// ``gelu(_:approximate:)`` as a layer.
public final class GELU: Module {
    public let approximate: GELUApproximation
    public init(approximate: GELUApproximation = .none) { self.approximate = approximate; super.init() }
    public override func forward(_ x: Variable) -> Variable { gelu(x, approximate: approximate) }
    public override var summary: String { "approximate: \(approximate)" }
}

/// ``silu(_:)`` as a layer.
public final class SiLU: Module {
    public override init() { super.init() }
    public override func forward(_ x: Variable) -> Variable { silu(x) }
}

/// ``sigmoid(_:)`` as a layer.
public final class Sigmoid: Module {
    public override init() { super.init() }
    public override func forward(_ x: Variable) -> Variable { sigmoid(x) }
}

/// ``tanh(_:)`` as a layer.
public final class Tanh: Module {
    public override init() { super.init() }
    public override func forward(_ x: Variable) -> Variable { tanh(x) }
}

/// ``softplus(_:beta:threshold:)`` as a layer.
public final class Softplus: Module {
    public let beta: Double, threshold: Double
    public init(beta: Double = 1, threshold: Double = 20) { self.beta = beta; self.threshold = threshold; super.init() }
    public override func forward(_ x: Variable) -> Variable { softplus(x, beta: beta, threshold: threshold) }
    public override var summary: String { "beta: \(beta), threshold: \(threshold)" }
}

/// ``softmax(_:axis:)`` as a layer; PyTorch requires the axis (`dim`), here it defaults to the last.
public final class Softmax: Module {
    public let axis: Int
    public init(axis: Int = -1) { self.axis = axis; super.init() }
    public override func forward(_ x: Variable) -> Variable { softmax(x, axis: axis) }
    public override var summary: String { "axis: \(axis)" }
}

/// ``logSoftmax(_:axis:)`` as a layer.
public final class LogSoftmax: Module {
    public let axis: Int
    public init(axis: Int = -1) { self.axis = axis; super.init() }
    public override func forward(_ x: Variable) -> Variable { logSoftmax(x, axis: axis) }
    public override var summary: String { "axis: \(axis)" }
}
