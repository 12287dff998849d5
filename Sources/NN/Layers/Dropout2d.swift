/// Zeroes whole channels with probability `p` and scales the kept ones by `1/(1 − p)` (PyTorch's `dropout2d`).
///
/// For `[N, C, H, W]` one draw per `(n, c)` decides the entire `H × W` plane; an unbatched `[C, H, W]`
/// input draws once per channel. Applied only when `training` is true; otherwise returns `x`. The mask
/// is drawn from `generator` (as ``dropout(_:p:training:generator:)`` draws it, on the mask's shape).
///
/// - Precondition: `0 ≤ p ≤ 1`; `x` has rank 3 or 4.
public func dropout2d(_ x: Variable, p: Double = 0.5, training: Bool = true, generator: RandomGenerator = .global) -> Variable {
    precondition(p >= 0 && p <= 1, "dropout2d: probability \(p) is not in [0, 1]")
    precondition(x.rank == 3 || x.rank == 4, "dropout2d: expected an input of shape [N, C, H, W] or [C, H, W], got \(x.shape)")
    guard training, p > 0 else { return x }
    // One inverted-dropout draw per plane, broadcast over the plane.
    let planeShape = Array(x.shape.dropLast(2)) + [1, 1]
    let mask = dropout(Variable(Tensor.ones(planeShape, dtype: x.dtype)), p: p, training: true, generator: generator)
    return x * mask
}

/// Channel dropout as a layer (PyTorch's `nn.Dropout2d`): in training mode each channel of each sample is
/// zeroed with probability `p` and the rest scaled by `1/(1 − p)`; the identity in evaluation mode.
///
/// Input `[N, C, H, W]` or `[C, H, W]`; the output has the input's shape.
///
/// ```swift
/// let drop = Dropout2d(p: 0.1)
/// let y = drop(features)      // whole feature maps zeroed
/// ```
public final class Dropout2d: Module {
    /// The probability that a channel is zeroed.
    public let p: Double
    /// Where the masks come from.
    public let generator: RandomGenerator

    /// Channel dropout with probability `p`, masks drawn from `generator`.
    ///
    /// - Precondition: `0 ≤ p ≤ 1`.
    public init(p: Double = 0.5, generator: RandomGenerator = .global) {
        precondition(p >= 0 && p <= 1, "Dropout2d: probability \(p) is not in [0, 1]")
        self.p = p
        self.generator = generator
        super.init()
    }

    public override func forward(_ x: Variable) -> Variable {
        dropout2d(x, p: p, training: isTraining, generator: generator)
    }

    public override var summary: String { "p: \(p)" }
}
