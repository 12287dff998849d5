import Foundation

/// `max(log x, −100)`, the clamped logarithm of PyTorch's binary cross-entropy.
/// ∂/∂x = g / max(x, 1e-12): finite at 0, so a probability of exactly 0 or 1 gives a large but
/// finite gradient, as PyTorch's `binary_cross_entropy_backward` (which divides by max(x(1−x), 1e-12)).
struct ClampedLog: Op {
    func forward(_ x: [Tensor]) -> Tensor { x[0].log().clamped(min: -100) }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        [g / inputs[0].clamped(min: 1e-12)]
    }
}

/// The optional per-element rescaling weight as a constant, checked to broadcast to `shape`.
private func elementWeight(_ weight: Tensor?, _ shape: [Int], dtype: DType, _ loss: String) -> Variable? {
    guard let weight else { return nil }
    precondition(weight.rank <= shape.count && zip(weight.shape.reversed(), shape.reversed()).allSatisfy { $0 == 1 || $0 == $1 },
                 "\(loss): weight of shape \(weight.shape) does not broadcast to the input's shape \(shape)")
    return Variable(weight.to(dtype))
}

/// Binary cross-entropy of probabilities (PyTorch's `binary_cross_entropy`):
/// `ℓ = −w·(y·log x + (1 − y)·log(1 − x))`, each log clamped at −100 so that `x = 0` or `1` gives a finite loss.
/// Differentiable in `input` and `target`.
///
/// - Parameters:
///   - input: probabilities in [0, 1].
///   - target: same shape, usually in [0, 1].
///   - weight: optional rescaling that broadcasts to the input's shape.
///   - reduction: mean (the default), sum or none over the elements.
/// - Precondition: same shapes; every input element in [0, 1].
public func binaryCrossEntropy(_ input: Variable, _ target: Variable, weight: Tensor? = nil, reduction: Reduction = .mean) -> Variable {
    checkSameShape(input, target, "binaryCrossEntropy")
    precondition(input.value.doubles.allSatisfy { $0 >= 0 && $0 <= 1 },
                 "binaryCrossEntropy: every input element must be a probability in [0, 1]; use binaryCrossEntropyWithLogits for logits")
    var loss = -(target * ClampedLog()(input) + (1 - target) * ClampedLog()(1 - input))
    if let w = elementWeight(weight, input.shape, dtype: input.dtype, "binaryCrossEntropy") { loss = loss * w }
    return reduction.apply(loss)
}

/// Binary cross-entropy of logits, stable for any `x` (PyTorch's `binary_cross_entropy_with_logits`):
/// `ℓ = w·((1 − y)·x + (1 + (p − 1)·y)·softplus(−x))`, which without `posWeight` is
/// `max(x, 0) − x·y + log(1 + e^(−|x|))`. Smooth; differentiable in `input` and `target`.
///
/// - Parameters:
///   - input: logits, any shape.
///   - target: same shape, usually in [0, 1].
///   - posWeight: weight of the positive examples, broadcast along the last (class) dimension.
///   - weight: optional rescaling that broadcasts to the input's shape.
///   - reduction: mean (the default), sum or none over the elements.
/// - Precondition: same shapes.
public func binaryCrossEntropyWithLogits(_ input: Variable, _ target: Variable, weight: Tensor? = nil, posWeight: Tensor? = nil,
                                         reduction: Reduction = .mean) -> Variable {
    checkSameShape(input, target, "binaryCrossEntropyWithLogits")
    let softplusNegative = SoftplusOp()(-input)
    var loss: Variable
    if let p = elementWeight(posWeight, input.shape, dtype: input.dtype, "binaryCrossEntropyWithLogits (posWeight)") {
        loss = (1 - target) * input + (target * (p - 1) + 1) * softplusNegative
    } else {
        loss = (1 - target) * input + softplusNegative
    }
    if let w = elementWeight(weight, input.shape, dtype: input.dtype, "binaryCrossEntropyWithLogits") { loss = loss * w }
    return reduction.apply(loss)
}
