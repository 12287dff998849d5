/// Mean squared error `(x − y)²` (PyTorch's `mse_loss`). Differentiable in both arguments.
///
/// - Precondition: `input` and `target` have the same shape.
public func mseLoss(_ input: Variable, _ target: Variable, reduction: Reduction = .mean) -> Variable {
    checkSameShape(input, target, "mseLoss")
    return reduction.apply((input - target).squared())
}

/// Mean absolute error `|x − y|` (PyTorch's `l1_loss`). Gradient at `x = y`: 0.
///
/// - Precondition: `input` and `target` have the same shape.
public func l1Loss(_ input: Variable, _ target: Variable, reduction: Reduction = .mean) -> Variable {
    checkSameShape(input, target, "l1Loss")
    return reduction.apply((input - target).abs())
}

/// Huber loss with threshold `delta` (PyTorch's `huber_loss`), with `d = x − y`:
/// `½d²` where `|d| < δ`, else `δ(|d| − ½δ)`. Continuous with its first derivative at `|d| = δ`.
///
/// - Precondition: same shapes; `delta > 0`.
public func huberLoss(_ input: Variable, _ target: Variable, delta: Double = 1, reduction: Reduction = .mean) -> Variable {
    checkSameShape(input, target, "huberLoss")
    precondition(delta > 0, "huberLoss: delta must be positive, got \(delta)")
    let d = input - target
    let absD = d.abs()
    return reduction.apply(Variable.where(absD.value .< delta, d.squared() * 0.5, (absD - 0.5 * delta) * delta))
}

/// Smooth L1 loss with threshold `beta` (PyTorch's `smooth_l1_loss`), with `d = x − y`:
/// `½d²/β` where `|d| < β`, else `|d| − ½β`; with `beta = 0` it is the L1 loss. Equals
/// Huber loss divided by `β`.
///
/// - Precondition: same shapes; `beta ≥ 0`.
public func smoothL1Loss(_ input: Variable, _ target: Variable, beta: Double = 1, reduction: Reduction = .mean) -> Variable {
    checkSameShape(input, target, "smoothL1Loss")
    precondition(beta >= 0, "smoothL1Loss: beta must be non-negative, got \(beta)")
    if beta == 0 { return l1Loss(input, target, reduction: reduction) }
    let d = input - target
    let absD = d.abs()
    return reduction.apply(Variable.where(absD.value .< beta, d.squared() * (0.5 / beta), absD - 0.5 * beta))
}
