/// Divides the learning rate when a metric stops improving — PyTorch's `ReduceLROnPlateau`.
///
/// Call ``step(metric:)`` once per epoch with the validation metric. A metric `a` improves on the
/// best so far `b` when
///
///     mode min, relative:  a < b(1 − threshold)      mode max, relative:  a > b(1 + threshold)
///     mode min, absolute:  a < b − threshold         mode max, absolute:  a > b + threshold
///
/// After more than `patience` epochs without improvement each group's rate becomes
/// max(γ · factor, minLearningRate) (changes smaller than `eps` are skipped), and the count of bad
/// epochs stays at zero for `cooldown` epochs.
public final class ReduceLROnPlateau {
    /// Whether smaller or larger metrics are better.
    public enum Mode: Sendable { case min, max }
    /// How `threshold` is compared: as a fraction of the best value or in the metric's units.
    public enum ThresholdMode: Sendable { case relative, absolute }

    /// The optimizer whose learning rates this schedule sets.
    public let optimizer: any Optimizer
    /// Whether smaller (`.min`, losses) or larger (`.max`, accuracies) metrics are better.
    public let mode: Mode
    /// The factor applied to the learning rate on a plateau (< 1).
    public let factor: Double
    /// The number of epochs without improvement tolerated before the rate is reduced.
    public let patience: Int
    /// The least improvement that counts, see ``thresholdMode``.
    public let threshold: Double
    /// Whether ``threshold`` is relative to the best value or absolute.
    public let thresholdMode: ThresholdMode
    /// The number of epochs after a reduction during which bad epochs are not counted.
    public let cooldown: Int
    /// The lowest learning rate, for every group.
    public let minLearningRate: Double
    /// The smallest change of a learning rate that is applied.
    public let eps: Double

    /// The best metric so far (+∞ in min mode, −∞ in max mode before the first step).
    public private(set) var best: Double
    /// Epochs since the last improvement (reset after a reduction and during cool-down).
    public private(set) var badEpochs = 0
    /// Epochs of cool-down left.
    public private(set) var cooldownRemaining = 0
    /// The number of ``step(metric:)`` calls so far.
    public private(set) var epoch = 0

    /// Watches a metric and reduces `optimizer`'s rates on plateaus; the defaults are PyTorch's.
    ///
    /// - Precondition: `factor` < 1, `patience` ≥ 0, `cooldown` ≥ 0, `threshold` ≥ 0.
    public init(_ optimizer: any Optimizer, mode: Mode = .min, factor: Double = 0.1, patience: Int = 10,
                threshold: Double = 1e-4, thresholdMode: ThresholdMode = .relative, cooldown: Int = 0,
                minLearningRate: Double = 0, eps: Double = 1e-8) {
        precondition(factor < 1, "ReduceLROnPlateau: factor must be below 1, got \(factor)")
        precondition(patience >= 0 && cooldown >= 0 && threshold >= 0,
                     "ReduceLROnPlateau: patience \(patience), cooldown \(cooldown) and threshold \(threshold) must not be negative")
        self.optimizer = optimizer
        self.mode = mode
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.thresholdMode = thresholdMode
        self.cooldown = cooldown
        self.minLearningRate = minLearningRate
        self.eps = eps
        self.best = mode == .min ? .infinity : -.infinity
    }

    /// Whether `metric` improves on ``best`` by more than the threshold.
    public func isImprovement(_ metric: Double) -> Bool {
        switch (mode, thresholdMode) {
        case (.min, .relative): return metric < best * (1 - threshold)
        case (.min, .absolute): return metric < best - threshold
        case (.max, .relative): return metric > best * (1 + threshold)
        case (.max, .absolute): return metric > best + threshold
        }
    }

    /// Records this epoch's metric and reduces the learning rates after a plateau.
    public func step(metric: Double) {
        epoch += 1
        if isImprovement(metric) {
            best = metric
            badEpochs = 0
        } else {
            badEpochs += 1
        }
        if cooldownRemaining > 0 {
            cooldownRemaining -= 1
            badEpochs = 0
        }
        if badEpochs > patience {
            optimizer.learningRates = optimizer.learningRates.map { old in
                let new = Swift.max(old * factor, minLearningRate)
                return old - new > eps ? new : old
            }
            cooldownRemaining = cooldown
            badEpochs = 0
        }
    }
}

extension ReduceLROnPlateau: CheckpointableSchedule {
    /// `best`, `num_bad_epochs`, `cooldown_counter` and `last_epoch`, PyTorch's names.
    public func stateDict() -> [String: Tensor] {
        ["best": Tensor(best), "num_bad_epochs": Tensor(Double(badEpochs)),
         "cooldown_counter": Tensor(Double(cooldownRemaining)), "last_epoch": Tensor(Double(epoch))]
    }

    public func loadStateDict(_ dictionary: [String: Tensor]) throws {
        let reader = ScheduleStateReader(dictionary: dictionary)
        try reader.checkKeys(["best", "num_bad_epochs", "cooldown_counter", "last_epoch"])
        let best = try reader.scalar("best")
        guard !best.isNaN else { throw OptimizerStateError.invalidValue(key: "best", reason: "NaN is not a metric") }
        let bad = try reader.count("num_bad_epochs"), cooldown = try reader.count("cooldown_counter"), epoch = try reader.count("last_epoch")
        self.best = best
        badEpochs = bad
        cooldownRemaining = cooldown
        self.epoch = epoch
    }
}
