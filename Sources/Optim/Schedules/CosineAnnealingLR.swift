import Foundation

/// Anneals the learning rate along a cosine from its base value to `minimum` over `period`
/// epochs — the closed form of PyTorch's `CosineAnnealingLR` (SGDR without restarts):
///
///     γₑ = η_min + (γ₀ − η_min) · (1 + cos(π e / T_max)) / 2
///
/// Past `period` epochs the cosine continues, so the rate rises again.
public final class CosineAnnealingLR: LearningRateScheduler {
    /// T_max: the number of epochs from the base rate to the minimum.
    public let period: Int
    /// η_min: the rate reached after `period` epochs.
    public let minimum: Double

    /// Anneals `optimizer`'s rates to `minimum` over `period` epochs.
    ///
    /// - Precondition: `period` > 0.
    public init(_ optimizer: any Optimizer, period: Int, minimum: Double = 0) {
        precondition(period > 0, "CosineAnnealingLR: period must be positive, got \(period)")
        self.period = period
        self.minimum = minimum
        super.init(optimizer)
        applyLearningRates()
    }

    public override func learningRate(base: Double, epoch: Int) -> Double {
        minimum + (base - minimum) * (1 + cos(Double.pi * Double(epoch) / Double(period))) / 2
    }
}
