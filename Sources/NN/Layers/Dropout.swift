/// Zeroes each element with probability `p` and scales the rest by `1/(1 − p)` (inverted dropout).
///
/// Applied only when `training` is true; otherwise returns `x`. With `p = 1` every element is
/// zeroed. The mask is drawn from `generator`.
///
/// - Precondition: `0 ≤ p ≤ 1`.
public func dropout(_ x: Variable, p: Double = 0.5, training: Bool = true, generator: RandomGenerator = .global) -> Variable {
    precondition(p >= 0 && p <= 1, "dropout: probability \(p) is not in [0, 1]")
    guard training, p > 0 else { return x }
    if p == 1 { return x * Variable(Tensor.zeros(like: x.value)) }
    let keep = Tensor.uniform(x.shape, dtype: x.dtype, generator: generator) .>= p
    return x * Variable(keep * (1 / (1 - p)))
}

/// Dropout as a layer (PyTorch's `nn.Dropout`): active in training mode, the identity in evaluation mode.
///
/// ```swift
/// let drop = Dropout(p: 0.2)
/// drop.eval()        // now drop(x) is x
/// ```
public final class Dropout: Module {
    /// The probability that an element is zeroed.
    public let p: Double
    /// Where the masks come from.
    public let generator: RandomGenerator

    /// Dropout with probability `p`, masks drawn from `generator`.
    ///
    /// - Precondition: `0 ≤ p ≤ 1`.
    public init(p: Double = 0.5, generator: RandomGenerator = .global) {
        precondition(p >= 0 && p <= 1, "Dropout: probability \(p) is not in [0, 1]")
        self.p = p
        self.generator = generator
        super.init()
    }

    public override func forward(_ x: Variable) -> Variable {
        dropout(x, p: p, training: isTraining, generator: generator)
    }

    public override var summary: String { "p: \(p)" }
}
