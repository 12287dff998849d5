/// The hyper-parameters of ``RMSProp``, with PyTorch's defaults.
public struct RMSPropOptions: OptimizerOptions {
    /// Step size γ (default 1e-2).
    public var learningRate = 1e-2
    /// Smoothing constant α of the squared-gradient average (default 0.99).
    public var alpha = 0.99
    /// ε added to the denominator (default 1e-8).
    public var eps = 1e-8
    /// L2 penalty λ added to the gradient (default 0).
    public var weightDecay = 0.0
    /// Momentum factor μ (default 0).
    public var momentum = 0.0
    /// Whether to normalise by the estimated variance instead of the raw second moment (default false).
    public var centered = false

    /// PyTorch's defaults.
    public init() {}

    /// The hyper-parameters under PyTorch's names, for state dictionaries.
    public static var fields: [OptionField<RMSPropOptions>] {
        [.number("lr", \.learningRate), .number("alpha", \.alpha), .number("eps", \.eps),
         .number("weight_decay", \.weightDecay), .number("momentum", \.momentum), .flag("centered", \.centered)]
    }
}

/// RMSProp (Hinton, 2012) with optional momentum and centring — PyTorch's `torch.optim.RMSprop`.
///
/// For each parameter θ with gradient g:
///
///     g ← g + λθ
///     v ← αv + (1 − α)g²
///     ḡ ← αḡ + (1 − α)g                 (centered)
///     d ← √(v − ḡ²) + ε  (centered)   or   d ← √v + ε
///     b ← μb + g/d,  θ ← θ − γb         (μ > 0)
///     θ ← θ − γg/d                      (μ = 0)
///
/// State per parameter: `step`, `square_avg` (v), `momentum_buffer` (b, when μ > 0) and
/// `grad_avg` (ḡ, when centered).
public final class RMSProp: GroupedOptimizer<RMSPropOptions> {
    /// RMSProp over one group of parameters.
    public convenience init(_ parameters: [Variable], learningRate: Double = 1e-2, alpha: Double = 0.99,
                            eps: Double = 1e-8, weightDecay: Double = 0, momentum: Double = 0, centered: Bool = false) {
        self.init(groups: [ParameterGroup(parameters: parameters)], learningRate: learningRate, alpha: alpha,
                  eps: eps, weightDecay: weightDecay, momentum: momentum, centered: centered)
    }

    /// RMSProp over parameter groups; the arguments are the defaults for values a group does not override.
    ///
    /// - Precondition: γ, λ, μ finite and ≥ 0; 0 ≤ α ≤ 1; ε finite and > 0.
    public init(groups: [ParameterGroup<RMSPropOptions>], learningRate: Double = 1e-2, alpha: Double = 0.99,
                eps: Double = 1e-8, weightDecay: Double = 0, momentum: Double = 0, centered: Bool = false) {
        var defaults = RMSPropOptions()
        defaults.learningRate = learningRate
        defaults.alpha = alpha
        defaults.eps = eps
        defaults.weightDecay = weightDecay
        defaults.momentum = momentum
        defaults.centered = centered
        super.init(groups: groups, defaults: defaults)
    }

    override func stateNames(for options: RMSPropOptions) -> [String] {
        ["square_avg"] + (options.momentum > 0 ? ["momentum_buffer"] : []) + (options.centered ? ["grad_avg"] : [])
    }

    override func problem(with options: RMSPropOptions) -> OptionProblem? {
        .first(
            super.problem(with: options),
            .unitInterval("alpha", options.alpha),
            .finitePositive("eps", options.eps),
            .finiteAtLeastZero("momentum", options.momentum))
    }

    override var nonNegativeStateNames: Set<String> { ["square_avg"] }

    override func update(_ parameter: inout Tensor, gradient: Tensor, state: inout [Tensor], step: Int,
                         isNewState: Bool, options: RMSPropOptions) {
        applyKernel(RMSPropKernel(options: options), to: &parameter, gradient: gradient, state: &state)
    }
}

struct RMSPropKernel: UpdateKernel {
    let options: RMSPropOptions

    func update<T: TensorScalar>(parameter p: UnsafeMutableBufferPointer<T>, gradient g: UnsafeBufferPointer<T>,
                                 state: [UnsafeMutableBufferPointer<T>]) {
        let lr = T(options.learningRate), alpha = T(options.alpha), eps = T(options.eps)
        let decay = T(options.weightDecay), momentum = T(options.momentum)
        let useMomentum = options.momentum > 0, centered = options.centered
        let squareAvg = state[0]
        let buffer = useMomentum ? state[1] : squareAvg
        let gradAvg = centered ? state[state.count - 1] : squareAvg
        for i in 0..<p.count {
            let gi = g[i] + decay * p[i]
            squareAvg[i] = flushSubnormal(alpha * squareAvg[i] + (1 - alpha) * gi * gi)
            var variance = squareAvg[i]
            if centered {
                gradAvg[i] = flushSubnormal(gradAvg[i] + (1 - alpha) * (gi - gradAvg[i]))
                variance -= gradAvg[i] * gradAvg[i]
            }
            let denominator = T.vectorizableSquareRoot(variance) + eps
            if useMomentum {
                buffer[i] = flushSubnormal(momentum * buffer[i] + gi / denominator)
                p[i] -= lr * buffer[i]
            } else {
                p[i] -= lr * gi / denominator
            }
        }
    }
}
