// Activation functions on Variables. Each is built from differentiable primitives (AutoGrad's ops,
// `erf` and the stable softplus here), so first and second derivatives come from the composition; GELU is one
// fused op of its own (GELU.swift).
// Choices at kinks follow PyTorch and are pinned by exact tests.

/// `max(x, 0)`. Gradient at 0: 0.
public func relu(_ x: Variable) -> Variable { x.relu() }

/// `x` where `x > 0`, else `negativeSlope·x`. Gradient at 0: `negativeSlope` (PyTorch's
/// `leaky_relu_backward` uses `x > 0 ? 1 : negativeSlope`).
public func leakyReLU(_ x: Variable, negativeSlope: Double = 0.01) -> Variable {
    x.leakyReLU(negativeSlope: negativeSlope)
}

/// `x` where `x > 0`, else `α(eˣ − 1)`. Gradient at 0: `α` (PyTorch's `elu_backward` takes the
/// negative branch at 0). The exponential sees `min(x, 0)`, so large inputs cannot overflow into
/// a NaN gradient.
public func elu(_ x: Variable, alpha: Double = 1) -> Variable {
    Variable.where(x.value .> 0, x, (x.clamped(max: 0).exp() - 1) * alpha)
}

/// `x·σ(x)` (also called swish). Smooth.
public func silu(_ x: Variable) -> Variable { x * x.sigmoid() }

/// `1 / (1 + e⁻ˣ)`.
public func sigmoid(_ x: Variable) -> Variable { x.sigmoid() }

/// `tanh x`.
public func tanh(_ x: Variable) -> Variable { x.tanh() }

/// `eˣ / Σ eˣ` along `axis`.
public func softmax(_ x: Variable, axis: Int = -1) -> Variable { x.softmax(axis: axis) }

/// `x − log Σ eˣ` along `axis` (stable).
public func logSoftmax(_ x: Variable, axis: Int = -1) -> Variable { x.logSoftmax(axis: axis) }
