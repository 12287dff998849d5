/// Adam (Kingma & Ba, 2015) with an L2 penalty and optional AMSGrad — PyTorch's `torch.optim.Adam`.
///
/// For each parameter θ with gradient g, at step t (counted from 1 per parameter):
///
///     g ← g + λθ
///     m ← β₁m + (1 − β₁)g
///     v ← β₂v + (1 − β₂)g²
///     v̂ ← max(v̂, v)                                   (AMSGrad; then v̂ replaces v below)
///     θ ← θ − γ/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// State per parameter: `step`, `exp_avg` (m), `exp_avg_sq` (v), and `max_exp_avg_sq` (v̂) with AMSGrad.
///
/// ``AdamW`` is this optimizer with the weight decay decoupled from the gradient (as in PyTorch, where
/// `AdamW` subclasses `Adam`).
public class Adam: GroupedOptimizer<AdamOptions> {
    /// Whether weight decay shrinks θ directly (AdamW) instead of adding λθ to the gradient.
    let decoupledWeightDecay: Bool

    /// Adam over one group of parameters.
    public convenience init(_ parameters: [Variable], learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                            eps: Double = 1e-8, weightDecay: Double = 0, amsgrad: Bool = false) {
        self.init(groups: [ParameterGroup(parameters: parameters)], learningRate: learningRate, betas: betas,
                  eps: eps, weightDecay: weightDecay, amsgrad: amsgrad)
    }

    /// Adam over parameter groups; the arguments are the defaults for values a group does not override.
    ///
    /// - Precondition: γ, λ finite and ≥ 0, ε finite and > 0, 0 ≤ β₁, β₂ < 1.
    public convenience init(groups: [ParameterGroup<AdamOptions>], learningRate: Double = 1e-3,
                            betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8, weightDecay: Double = 0,
                            amsgrad: Bool = false) {
        self.init(groups: groups, defaults: AdamOptions(learningRate: learningRate, betas: betas, eps: eps,
                                                        weightDecay: weightDecay, amsgrad: amsgrad),
                  decoupledWeightDecay: false)
    }

    init(groups: [ParameterGroup<AdamOptions>], defaults: AdamOptions, decoupledWeightDecay: Bool) {
        self.decoupledWeightDecay = decoupledWeightDecay
        super.init(groups: groups, defaults: defaults)
    }

    override func stateNames(for options: AdamOptions) -> [String] { options.stateNames }

    override func problem(with options: AdamOptions) -> OptionProblem? {
        super.problem(with: options) ?? options.problem
    }

    override var nonNegativeStateNames: Set<String> { ["exp_avg_sq", "max_exp_avg_sq"] }

    override func update(_ parameter: inout Tensor, gradient: Tensor, state: inout [Tensor], step: Int,
                         isNewState: Bool, options: AdamOptions) {
        applyKernel(AdamKernel(options: options, step: step, decoupled: decoupledWeightDecay),
                    to: &parameter, gradient: gradient, state: &state)
    }
}
