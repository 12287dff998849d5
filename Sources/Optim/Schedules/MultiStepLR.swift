import Foundation

/// Multiplies the learning rate by γ at each milestone epoch — PyTorch's `MultiStepLR`:
/// γₑ = γ₀ · gamma^(number of milestones ≤ e). A milestone listed twice decays twice.
public final class MultiStepLR: LearningRateScheduler {
    /// The epochs at which the rate decays, ascending.
    public let milestones: [Int]
    /// The decay factor.
    public let gamma: Double

    /// Decays `optimizer`'s rates by `gamma` at each of `milestones` (in any order).
    public init(_ optimizer: any Optimizer, milestones: [Int], gamma: Double = 0.1) {
        self.milestones = milestones.sorted()
        self.gamma = gamma
        super.init(optimizer)
        applyLearningRates()
    }

    public override func learningRate(base: Double, epoch: Int) -> Double {
        base * pow(gamma, Double(milestones.count { $0 <= epoch }))
    }
}
