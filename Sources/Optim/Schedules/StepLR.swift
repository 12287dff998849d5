import Foundation

/// Multiplies the learning rate by γ every `stepSize` epochs — PyTorch's `StepLR`:
/// γₑ = γ₀ · gamma^⌊e / stepSize⌋.
public final class StepLR: LearningRateScheduler {
    /// The number of epochs between decays.
    public let stepSize: Int
    /// The decay factor.
    public let gamma: Double

    /// Decays `optimizer`'s rates by `gamma` every `stepSize` epochs.
    ///
    /// - Precondition: `stepSize` > 0.
    public init(_ optimizer: any Optimizer, stepSize: Int, gamma: Double = 0.1) {
        precondition(stepSize > 0, "StepLR: stepSize must be positive, got \(stepSize)")
        self.stepSize = stepSize
        self.gamma = gamma
        super.init(optimizer)
        applyLearningRates()
    }

    public override func learningRate(base: Double, epoch: Int) -> Double {
        base * pow(gamma, Double(epoch / stepSize))
    }
}
