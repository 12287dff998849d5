import Foundation

/// The 1cycle policy (Smith & Topin, 2017) — PyTorch's `OneCycleLR`: the learning rate rises from
/// `maxLearningRate / divFactor` to `maxLearningRate` over the first `percentStart` of `totalSteps`, then
/// falls to `maxLearningRate / (divFactor · finalDivFactor)` by the last step. Call ``LearningRateScheduler/step()`` after every
/// batch, not every epoch.
///
/// Phase boundaries are at steps `percentStart · totalSteps − 1` and `totalSteps − 1` (with `threePhase`, the
/// rate first returns to the initial value at `2 · percentStart · totalSteps − 2`, then falls to the minimum).
/// Within a phase from rate a to rate b at fraction p of it, the rate is
///
///     cos:     b + (a − b) · (1 + cos πp) / 2
///     linear:  a + (b − a) · p
///
/// The optimizer's own learning rate is replaced; PyTorch's momentum cycling (`cycle_momentum`) is not done,
/// so compare with `cycle_momentum=False`.
///
/// ```swift
/// let optimizer = SGD(model.parameters(), learningRate: 0.1, momentum: 0.9)
/// let schedule = OneCycleLR(optimizer, maxLearningRate: 0.1, totalSteps: epochs * loader.count)
/// for _ in 0..<epochs {
///     for (x, y) in loader {
///         trainStep(x, y)
///         schedule.step()
///     }
/// }
/// ```
public final class OneCycleLR: LearningRateScheduler {
    /// How the rate moves within a phase.
    public enum Annealing: Sendable {
        /// Half a cosine period (the default).
        case cos
        /// A straight line.
        case linear
    }

    /// The peak learning rate.
    public let maxLearningRate: Double
    /// The number of steps in the cycle; stepping past it is an error.
    public let totalSteps: Int
    /// The fraction of the cycle spent rising.
    public let percentStart: Double
    /// How the rate moves within a phase.
    public let annealing: Annealing
    /// The initial rate is `maxLearningRate / divFactor`.
    public let divFactor: Double
    /// The final rate is the initial rate divided by `finalDivFactor`.
    public let finalDivFactor: Double
    /// Whether the rate returns to the initial value before falling to the final one.
    public let threePhase: Bool

    /// A cycle of `totalSteps` steps peaking at `maxLearningRate`, with PyTorch's defaults.
    ///
    /// - Precondition: `maxLearningRate` finite and > 0, `totalSteps` > 0, 0 < `percentStart` < 1 (≤ 0.5 with
    ///   `threePhase`), `divFactor` and `finalDivFactor` finite and > 0.
    public init(_ optimizer: any Optimizer, maxLearningRate: Double, totalSteps: Int, percentStart: Double = 0.3,
                annealing: Annealing = .cos, divFactor: Double = 25, finalDivFactor: Double = 1e4, threePhase: Bool = false) {
        precondition(maxLearningRate.isFinite && maxLearningRate > 0, "OneCycleLR: maxLearningRate must be positive, got \(maxLearningRate)")
        precondition(totalSteps > 0, "OneCycleLR: totalSteps must be positive, got \(totalSteps)")
        precondition(percentStart > 0 && percentStart < (threePhase ? 0.5 + 1e-12 : 1),
                     "OneCycleLR: percentStart must be in (0, \(threePhase ? "0.5]" : "1)")), got \(percentStart)")
        precondition(divFactor.isFinite && divFactor > 0 && finalDivFactor.isFinite && finalDivFactor > 0,
                     "OneCycleLR: divFactor \(divFactor) and finalDivFactor \(finalDivFactor) must be positive")
        self.maxLearningRate = maxLearningRate
        self.totalSteps = totalSteps
        self.percentStart = percentStart
        self.annealing = annealing
        self.divFactor = divFactor
        self.finalDivFactor = finalDivFactor
        self.threePhase = threePhase
        super.init(optimizer)
        applyLearningRates()
    }

    /// The rate at `epoch` (a step of the cycle); the same for every group, whatever its base rate.
    ///
    /// - Precondition: `epoch` ≤ ``totalSteps``, as PyTorch raises past the end of the cycle.
    public override func learningRate(base: Double, epoch: Int) -> Double {
        precondition(epoch <= totalSteps, "OneCycleLR: stepped \(epoch) times, past totalSteps \(totalSteps)")
        let initial = maxLearningRate / divFactor, minimum = initial / finalDivFactor
        let rise = percentStart * Double(totalSteps) - 1
        let phases: [(end: Double, from: Double, to: Double)] = threePhase
            ? [(rise, initial, maxLearningRate), (2 * percentStart * Double(totalSteps) - 2, maxLearningRate, initial),
               (Double(totalSteps - 1), initial, minimum)]
            : [(rise, initial, maxLearningRate), (Double(totalSteps - 1), maxLearningRate, minimum)]
        var start = 0.0
        for (i, phase) in phases.enumerated() {
            if Double(epoch) <= phase.end || i == phases.count - 1 {
                let p = (Double(epoch) - start) / (phase.end - start)
                switch annealing {
                case .cos: return phase.to + (phase.from - phase.to) * (1 + cos(Double.pi * p)) / 2
                case .linear: return phase.from + (phase.to - phase.from) * p
                }
            }
            start = phase.end
        }
        return minimum
    }
}
