import Foundation

/// The hyper-parameters of ``Adam`` and ``AdamW``, with PyTorch's defaults (AdamW's weight decay
/// defaults to 1e-2 in its initialisers).
public struct AdamOptions: OptimizerOptions {
    /// Step size γ (default 1e-3).
    public var learningRate = 1e-3
    /// Decay rates (β₁, β₂) of the first and second moment estimates (default (0.9, 0.999)).
    public var betas = (0.9, 0.999)
    /// ε added to the denominator (default 1e-8).
    public var eps = 1e-8
    /// Weight decay λ: an L2 penalty for ``Adam``, a decoupled decay for ``AdamW``.
    public var weightDecay = 0.0
    /// Whether to use the maximum of past second moments (AMSGrad; default false).
    public var amsgrad = false

    /// PyTorch's defaults.
    public init() {}

    init(learningRate: Double, betas: (Double, Double), eps: Double, weightDecay: Double, amsgrad: Bool) {
        (self.learningRate, self.betas, self.eps, self.weightDecay, self.amsgrad) =
            (learningRate, betas, eps, weightDecay, amsgrad)
    }

    /// The hyper-parameters under PyTorch's names, for state dictionaries.
    public static var fields: [OptionField<AdamOptions>] {
        [.number("lr", \.learningRate), .pair("betas", \.betas), .number("eps", \.eps),
         .number("weight_decay", \.weightDecay), .flag("amsgrad", \.amsgrad)]
    }

    /// The state names shared by Adam and AdamW.
    var stateNames: [String] {
        amsgrad ? ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"] : ["exp_avg", "exp_avg_sq"]
    }

    var problem: String? {
        if !(eps >= 0) { return "invalid eps \(eps)" }
        if !(betas.0 >= 0 && betas.0 < 1) { return "invalid beta1 \(betas.0)" }
        if !(betas.1 >= 0 && betas.1 < 1) { return "invalid beta2 \(betas.1)" }
        return nil
    }
}

/// The Adam update of PyTorch's `torch.optim.Adam` and `AdamW`, for step t (counted from 1):
///
///     θ ← θ(1 − γλ)              (decoupled, AdamW)   or   g ← g + λθ   (Adam)
///     m ← β₁m + (1 − β₁)g
///     v ← β₂v + (1 − β₂)g²
///     v̂ ← max(v̂, v)              (AMSGrad; the denominator then uses v̂ instead of v)
///     θ ← θ − γ/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
struct AdamKernel: UpdateKernel {
    let options: AdamOptions
    let step: Int
    let decoupled: Bool

    func update<T: TensorScalar>(parameter p: UnsafeMutableBufferPointer<T>, gradient g: UnsafeBufferPointer<T>,
                                 state: [UnsafeMutableBufferPointer<T>]) {
        let (beta1, beta2) = options.betas
        // m̂/(√v̂ + ε) = m·c₂/(c₁·(√v + ε·c₂)) with cᵢ = √(1 − βᵢᵗ) for i = 2 and 1 − β₁ᵗ for i = 1:
        // both corrections fold into two scalars, leaving one division per element (the divider is
        // the loop's bottleneck).
        let correction2Sqrt = (1 - pow(beta2, Double(step))).squareRoot()
        let stepSize = T(options.learningRate * correction2Sqrt / (1 - pow(beta1, Double(step))))
        let scaledEps = T(options.eps * correction2Sqrt)
        let b1 = T(beta1), b2 = T(beta2)
        let decay = T(options.weightDecay), shrink = T(1 - options.learningRate * options.weightDecay)
        let n = p.count
        let (pp, gp) = (p.baseAddress!, g.baseAddress!)
        let (m, v) = (state[0].baseAddress!, state[1].baseAddress!)
        // The options are tested once, outside the loops, so each loop is branch-free and vectorises.
        if decoupled && decay != 0 {
            for i in 0..<n { pp[i] *= shrink }
        }
        let coupledDecay = decoupled ? 0 : decay
        if options.amsgrad {
            let maxV = state[2].baseAddress!
            for i in 0..<n {
                let gi = gp[i] + coupledDecay * pp[i]
                m[i] = flushSubnormal(m[i] + (1 - b1) * (gi - m[i]))
                v[i] = flushSubnormal(b2 * v[i] + (1 - b2) * gi * gi)
                let second = Swift.max(maxV[i], v[i])
                maxV[i] = second
                pp[i] -= stepSize * m[i] / (T.vectorizableSquareRoot(second) + scaledEps)
            }
        } else if coupledDecay != 0 {
            for i in 0..<n {
                let gi = gp[i] + coupledDecay * pp[i]
                m[i] = flushSubnormal(m[i] + (1 - b1) * (gi - m[i]))
                v[i] = flushSubnormal(b2 * v[i] + (1 - b2) * gi * gi)
                pp[i] -= stepSize * m[i] / (T.vectorizableSquareRoot(v[i]) + scaledEps)
            }
        } else {
            for i in 0..<n {
                let gi = gp[i]
                m[i] = flushSubnormal(m[i] + (1 - b1) * (gi - m[i]))
                v[i] = flushSubnormal(b2 * v[i] + (1 - b2) * gi * gi)
                pp[i] -= stepSize * m[i] / (T.vectorizableSquareRoot(v[i]) + scaledEps)
            }
        }
    }
}
