/// Scales the learning rate linearly from `startFactor` to `endFactor` of its base value over
/// `totalEpochs` epochs, then keeps it there or hands over to another schedule — PyTorch's
/// `LinearLR`, optionally followed by a schedule as in `SequentialLR`:
///
///     γₑ = γ₀ · (s + (f − s) · e / n)                  for e < n
///     γₑ = γ₀ · f                                      for e ≥ n, without a following schedule
///     γₑ = following.learningRate(base: γ₀, epoch: e − n)    for e ≥ n, with one
///
/// ```swift
/// let cosine = CosineAnnealingLR(optimizer, period: 95)
/// let schedule = LinearWarmup(optimizer, startFactor: 0.01, totalEpochs: 5, then: cosine)
/// ```
///
/// The following schedule is driven by this one (do not call its ``step()``); it is given this
/// schedule's base rates, so the order of creation does not matter.
public final class LinearWarmup: LearningRateScheduler {
    /// s: the fraction of the base rate at epoch 0.
    public let startFactor: Double
    /// f: the fraction of the base rate reached at `totalEpochs`.
    public let endFactor: Double
    /// n: the length of the warm-up in epochs.
    public let totalEpochs: Int
    /// The schedule that takes over after the warm-up, if any.
    public let following: LearningRateScheduler?

    /// - Precondition: 0 < `startFactor` ≤ 1, 0 ≤ `endFactor` ≤ 1, `totalEpochs` > 0.
    public init(_ optimizer: any Optimizer, startFactor: Double = 1.0 / 3, endFactor: Double = 1,
                totalEpochs: Int = 5, then following: LearningRateScheduler? = nil) {
        precondition(startFactor > 0 && startFactor <= 1, "LinearWarmup: startFactor must be in (0, 1], got \(startFactor)")
        precondition(endFactor >= 0 && endFactor <= 1, "LinearWarmup: endFactor must be in [0, 1], got \(endFactor)")
        precondition(totalEpochs > 0, "LinearWarmup: totalEpochs must be positive, got \(totalEpochs)")
        precondition(following.map { $0.optimizer === optimizer } ?? true,
                     "LinearWarmup: the following schedule must drive the same optimizer")
        self.startFactor = startFactor
        self.endFactor = endFactor
        self.totalEpochs = totalEpochs
        self.following = following
        super.init(optimizer)
        applyLearningRates()
    }

    public override func step() {
        super.step()
        if let following, epoch >= totalEpochs { following.epoch = epoch - totalEpochs }
    }

    public override func learningRate(base: Double, epoch: Int) -> Double {
        if epoch >= totalEpochs, let following {
            return following.learningRate(base: base, epoch: epoch - totalEpochs)
        }
        let progress = Double(Swift.min(epoch, totalEpochs)) / Double(totalEpochs)
        return base * (startFactor + (endFactor - startFactor) * progress)
    }
}
