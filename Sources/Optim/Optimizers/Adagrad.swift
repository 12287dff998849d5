/// The hyper-parameters of ``Adagrad``, with PyTorch's defaults.
public struct AdagradOptions: OptimizerOptions {
    /// Step size γ (default 1e-2).
    public var learningRate = 1e-2
    /// Learning-rate decay η: step t uses γ / (1 + (t − 1)η) (default 0).
    public var learningRateDecay = 0.0
    /// L2 penalty λ added to the gradient (default 0).
    public var weightDecay = 0.0
    /// Starting value of the squared-gradient sum (default 0).
    public var initialAccumulatorValue = 0.0
    /// ε added to the denominator (default 1e-10).
    public var eps = 1e-10

    /// PyTorch's defaults.
    public init() {}

    /// The hyper-parameters under PyTorch's names, for state dictionaries.
    public static var fields: [OptionField<AdagradOptions>] {
        [.number("lr", \.learningRate), .number("lr_decay", \.learningRateDecay), .number("weight_decay", \.weightDecay),
         .number("initial_accumulator_value", \.initialAccumulatorValue), .number("eps", \.eps)]
    }
}

/// Adagrad (Duchi et al., 2011) — PyTorch's `torch.optim.Adagrad`.
///
/// For each parameter θ with gradient g, at step t (counted from 1 per parameter):
///
///     g ← g + λθ
///     γₜ ← γ / (1 + (t − 1)η)
///     s ← s + g²                        (s starts at the initial accumulator value)
///     θ ← θ − γₜ g / (√s + ε)
///
/// State per parameter: `step` and `sum` (s).
public final class Adagrad: GroupedOptimizer<AdagradOptions> {
    /// Adagrad over one group of parameters.
    public convenience init(_ parameters: [Variable], learningRate: Double = 1e-2, learningRateDecay: Double = 0,
                            weightDecay: Double = 0, initialAccumulatorValue: Double = 0, eps: Double = 1e-10) {
        self.init(groups: [ParameterGroup(parameters: parameters)], learningRate: learningRate,
                  learningRateDecay: learningRateDecay, weightDecay: weightDecay,
                  initialAccumulatorValue: initialAccumulatorValue, eps: eps)
    }

    /// Adagrad over parameter groups; the arguments are the defaults for values a group does not override.
    ///
    /// - Precondition: γ, η, λ and the initial accumulator value finite and ≥ 0; ε finite and > 0.
    public init(groups: [ParameterGroup<AdagradOptions>], learningRate: Double = 1e-2, learningRateDecay: Double = 0,
                weightDecay: Double = 0, initialAccumulatorValue: Double = 0, eps: Double = 1e-10) {
        var defaults = AdagradOptions()
        defaults.learningRate = learningRate
        defaults.learningRateDecay = learningRateDecay
        defaults.weightDecay = weightDecay
        defaults.initialAccumulatorValue = initialAccumulatorValue
        defaults.eps = eps
        super.init(groups: groups, defaults: defaults)
    }

    override func stateNames(for options: AdagradOptions) -> [String] { ["sum"] }

    override func initialState(named name: String, for parameter: Tensor, options: AdagradOptions) -> Tensor {
        .full(parameter.shape, options.initialAccumulatorValue, dtype: parameter.dtype)
    }

    override func problem(with options: AdagradOptions) -> OptionProblem? {
        .first(
            super.problem(with: options),
            .finiteAtLeastZero("lr_decay", options.learningRateDecay),
            .finiteAtLeastZero("initial_accumulator_value", options.initialAccumulatorValue),
            .finitePositive("eps", options.eps))
    }

    override var nonNegativeStateNames: Set<String> { ["sum"] }

    override func update(_ parameter: inout Tensor, gradient: Tensor, state: inout [Tensor], step: Int,
                         isNewState: Bool, options: AdagradOptions) {
        let stepSize = options.learningRate / (1 + Double(step - 1) * options.learningRateDecay)
        applyKernel(AdagradKernel(stepSize: stepSize, options: options), to: &parameter, gradient: gradient, state: &state)
    }
}

struct AdagradKernel: UpdateKernel {
    let stepSize: Double
    let options: AdagradOptions

    func update<T: TensorScalar>(parameter p: UnsafeMutableBufferPointer<T>, gradient g: UnsafeBufferPointer<T>,
                                 state: [UnsafeMutableBufferPointer<T>]) {
        let stepSize = T(stepSize), decay = T(options.weightDecay), eps = T(options.eps)
        let sum = state[0]
        for i in 0..<p.count {
            let gi = g[i] + decay * p[i]
            sum[i] += gi * gi
            p[i] -= stepSize * gi / (T.vectorizableSquareRoot(sum[i]) + eps)
        }
    }
}
