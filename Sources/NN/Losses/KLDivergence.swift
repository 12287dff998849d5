/// How ``klDiv(_:_:reduction:logTarget:)`` combines its pointwise terms (PyTorch's `reduction` of `kl_div`).
public enum KLDivReduction: Sendable {
    /// The mean over all elements (PyTorch's default, which is not the KL divergence per sample).
    case mean
    /// The sum over all elements.
    case sum
    /// The sum divided by the batch size `input.shape[0]`: the mathematical KL divergence per sample.
    case batchMean
    /// No reduction: one term per element.
    case none
}

/// The Kullback–Leibler divergence of `target` from the distribution whose log-probabilities are `input`
/// (PyTorch's `F.kl_div`), pointwise:
///
///     ℓ = t·(log t − x)      (logTarget false; 0 where t = 0)
///     ℓ = eᵗ·(t − x)         (logTarget true: the target is given as log-probabilities)
///
/// then reduced. Gradients: `∂ℓ/∂x = −t` (`−eᵗ`); `∂ℓ/∂t = log t + 1 − x` (`eᵗ·(t − x + 1)`). Where a plain
/// target is 0 the term is exactly 0 and its target gradient is `−x` (the `t·log t` part counts as constant
/// there; PyTorch gives NaN). Differentiable again.
///
/// Shapes: `input` and `target` have one shape; the result is a scalar, or that shape with `.none`.
/// - Precondition: equal shapes; `.batchMean` needs rank ≥ 1.
public func klDiv(_ input: Variable, _ target: Variable, reduction: KLDivReduction = .mean, logTarget: Bool = false) -> Variable {
    checkSameShape(input, target, "klDiv")
    let terms: Variable
    if logTarget {
        terms = target.exp() * (target - input)
    } else {
        // t·log t with log taken of 1 where t = 0, so the term is exactly 0 there and its gradient finite.
        let zero = Tensor.zeros(like: target.value) .== target.value
        terms = target * (target + Variable(zero)).log() - target * input
    }
    switch reduction {
    case .mean: return terms.mean()
    case .sum: return terms.sum()
    case .none: return terms
    case .batchMean:
        precondition(input.rank >= 1, "klDiv: reduction batchMean needs a batch dimension, got shape \(input.shape)")
        return terms.sum() * (1 / Double(Swift.max(input.shape[0], 1)))
    }
}

/// ``klDiv(_:_:reduction:logTarget:)`` with fixed options (PyTorch's `nn.KLDivLoss`).
public struct KLDivLoss: Sendable {
    public var reduction: KLDivReduction
    public var logTarget: Bool
    public init(reduction: KLDivReduction = .mean, logTarget: Bool = false) {
        self.reduction = reduction
        self.logTarget = logTarget
    }
    /// The divergence of `target` from the log-probabilities `input`.
    public func callAsFunction(_ input: Variable, _ target: Variable) -> Variable {
        klDiv(input, target, reduction: reduction, logTarget: logTarget)
    }
}
