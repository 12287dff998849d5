/// The hyper-parameters of ``Adadelta``, with PyTorch's defaults.
public struct AdadeltaOptions: OptimizerOptions {
    /// Factor γ applied to the update (default 1).
    public var learningRate = 1.0
    /// Decay ρ of both running averages (default 0.9).
    public var rho = 0.9
    /// ε inside both square roots (default 1e-6).
    public var eps = 1e-6
    /// L2 penalty λ added to the gradient (default 0).
    public var weightDecay = 0.0

    /// PyTorch's defaults.
    public init() {}

    /// The hyper-parameters under PyTorch's names, for state dictionaries.
    public static var fields: [OptionField<AdadeltaOptions>] {
        [.number("lr", \.learningRate), .number("rho", \.rho), .number("eps", \.eps), .number("weight_decay", \.weightDecay)]
    }
}

/// Adadelta (Zeiler, 2012) — PyTorch's `torch.optim.Adadelta`: a per-element step size from the ratio of
/// running root-mean-squares of past updates and past gradients, so the default γ = 1 needs no tuning.
///
/// For each parameter θ with gradient g:
///
///     g ← g + λθ
///     v ← ρv + (1 − ρ)g²
///     Δ ← √(u + ε) / √(v + ε) · g
///     u ← ρu + (1 − ρ)Δ²
///     θ ← θ − γΔ
///
/// State per parameter: `step`, `square_avg` (v) and `acc_delta` (u), both starting at zero.
public final class Adadelta: GroupedOptimizer<AdadeltaOptions> {
    /// Adadelta over one group of parameters.
    public convenience init(_ parameters: [Variable], learningRate: Double = 1, rho: Double = 0.9, eps: Double = 1e-6,
                            weightDecay: Double = 0) {
        self.init(groups: [ParameterGroup(parameters: parameters)], learningRate: learningRate, rho: rho, eps: eps,
                  weightDecay: weightDecay)
    }

    /// Adadelta over parameter groups; the arguments are the defaults for values a group does not override.
    ///
    /// - Precondition: γ and λ finite and ≥ 0; 0 ≤ ρ ≤ 1; ε finite and > 0.
    public init(groups: [ParameterGroup<AdadeltaOptions>], learningRate: Double = 1, rho: Double = 0.9, eps: Double = 1e-6,
                weightDecay: Double = 0) {
        var defaults = AdadeltaOptions()
        defaults.learningRate = learningRate
        defaults.rho = rho
        defaults.eps = eps
        defaults.weightDecay = weightDecay
        super.init(groups: groups, defaults: defaults)
    }

    override func stateNames(for options: AdadeltaOptions) -> [String] { ["square_avg", "acc_delta"] }

    override func problem(with options: AdadeltaOptions) -> OptionProblem? {
        .first(super.problem(with: options), .unitInterval("rho", options.rho), .finitePositive("eps", options.eps))
    }

    override var nonNegativeStateNames: Set<String> { ["square_avg", "acc_delta"] }

    override func update(_ parameter: inout Tensor, gradient: Tensor, state: inout [Tensor], step: Int,
                         isNewState: Bool, options: AdadeltaOptions) {
        applyKernel(AdadeltaKernel(options: options), to: &parameter, gradient: gradient, state: &state)
    }
}

struct AdadeltaKernel: UpdateKernel {
    let options: AdadeltaOptions

    func update<T: TensorScalar>(parameter p: UnsafeMutableBufferPointer<T>, gradient g: UnsafeBufferPointer<T>,
                                 state: [UnsafeMutableBufferPointer<T>]) {
        let lr = T(options.learningRate), rho = T(options.rho), eps = T(options.eps), decay = T(options.weightDecay)
        let squareAverage = state[0], accumulatedDelta = state[1]
        for i in 0..<p.count {
            let gi = g[i] + decay * p[i]
            squareAverage[i] = rho * squareAverage[i] + (1 - rho) * gi * gi
            let delta = T.vectorizableSquareRoot(accumulatedDelta[i] + eps) / T.vectorizableSquareRoot(squareAverage[i] + eps) * gi
            accumulatedDelta[i] = rho * accumulatedDelta[i] + (1 - rho) * delta * delta
            p[i] -= lr * delta
        }
    }
}
