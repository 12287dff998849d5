import Foundation

/// Multiplies the learning rate by γ every epoch — PyTorch's `ExponentialLR`: γₑ = γ₀ · gammaᵉ.
public final class ExponentialLR: LearningRateScheduler {
    /// The decay factor per epoch.
    public let gamma: Double

    /// Decays `optimizer`'s rates by `gamma` every epoch.
    public init(_ optimizer: any Optimizer, gamma: Double) {
        self.gamma = gamma
        super.init(optimizer)
        applyLearningRates()
    }

    public override func learningRate(base: Double, epoch: Int) -> Double {
        base * pow(gamma, Double(epoch))
    }
}
