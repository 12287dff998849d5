import Foundation

/// `softplus(x) = log(1 + eˣ)`, computed stably as `max(x, 0) + log1p(e^(−|x|))`.  ∂/∂x = g·σ(x).
///
/// Smooth everywhere, so unlike a composition of `relu` and `abs` its gradient is exact at 0.
struct SoftplusOp: Op {
    var name: String { "Softplus" }
    func forward(_ x: [Tensor]) -> Tensor {
        mapElements(x[0]) { Swift.max($0, 0) + Foundation.log1p(Foundation.exp(-Swift.abs($0))) }
    }
    func backward(_ g: Variable, inputs: [Variable], output: Variable) -> [Variable?] {
        [g * inputs[0].sigmoid()]
    }
}

/// `log(1 + e^(βx)) / β`, and `x` itself where `βx > threshold` (PyTorch's `softplus`, same defaults).
public func softplus(_ x: Variable, beta: Double = 1, threshold: Double = 20) -> Variable {
    precondition(beta > 0, "softplus: beta must be positive, got \(beta)")
    let smooth = beta == 1 ? SoftplusOp()(x) : SoftplusOp()(x * beta) / beta
    return Variable.where(x.value * beta .> threshold, x, smooth)
}
