/// Adam with decoupled weight decay (Loshchilov & Hutter, 2019) — PyTorch's `torch.optim.AdamW`.
///
/// For each parameter θ with gradient g, at step t (counted from 1 per parameter):
///
///     θ ← θ(1 − γλ)
///     m ← β₁m + (1 − β₁)g
///     v ← β₂v + (1 − β₂)g²
///     v̂ ← max(v̂, v)                                   (AMSGrad; then v̂ replaces v below)
///     θ ← θ − γ/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// The decay does not pass through the moment estimates, unlike ``Adam``'s L2 penalty. λ defaults
/// to 1e-2. State per parameter as ``Adam``.
public final class AdamW: Adam {
    /// AdamW over one group of parameters.
    public convenience init(_ parameters: [Variable], learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                            eps: Double = 1e-8, weightDecay: Double = 1e-2, amsgrad: Bool = false) {
        self.init(groups: [ParameterGroup(parameters: parameters)], learningRate: learningRate, betas: betas,
                  eps: eps, weightDecay: weightDecay, amsgrad: amsgrad)
    }

    /// AdamW over parameter groups; the arguments are the defaults for values a group does not override.
    ///
    /// - Precondition: γ, λ finite and ≥ 0, ε finite and > 0, 0 ≤ β₁, β₂ < 1.
    public init(groups: [ParameterGroup<AdamOptions>], learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                eps: Double = 1e-8, weightDecay: Double = 1e-2, amsgrad: Bool = false) {
        super.init(groups: groups, defaults: AdamOptions(learningRate: learningRate, betas: betas, eps: eps,
                                                         weightDecay: weightDecay, amsgrad: amsgrad),
                   decoupledWeightDecay: true)
    }
}
