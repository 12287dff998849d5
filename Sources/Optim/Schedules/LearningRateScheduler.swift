/// A learning-rate schedule with a closed form in the epoch: the base class of ``StepLR``,
/// ``MultiStepLR``, ``ExponentialLR``, ``CosineAnnealingLR`` and ``LinearWarmup``.
///
/// Creating a scheduler records each group's learning rate as its base rate and sets the epoch-0
/// rate; ``step()`` (once per epoch, after the optimizer's steps) advances the epoch and sets every
/// group's rate to `learningRate(base:epoch:)` of its base rate, as PyTorch's `LRScheduler`:
///
/// ```swift
/// let optimizer = SGD(model.parameters, learningRate: 0.1, momentum: 0.9)
/// let schedule = StepLR(optimizer, stepSize: 30, gamma: 0.1)
/// for epoch in 0..<90 {
///     train(epoch)                 // optimizer.step() per batch
///     schedule.step()
/// }
/// ```
public class LearningRateScheduler {
    /// The optimizer whose learning rates this schedule sets.
    public let optimizer: any Optimizer
    /// Each group's learning rate when the scheduler was created.
    public let baseLearningRates: [Double]
    /// The number of ``step()`` calls so far (PyTorch's `last_epoch`).
    public internal(set) var epoch = 0

    init(_ optimizer: any Optimizer) {
        self.optimizer = optimizer
        self.baseLearningRates = optimizer.learningRates
    }

    /// Sets the learning rates of the current epoch; subclasses call it at the end of their initialiser.
    func applyLearningRates() {
        optimizer.learningRates = baseLearningRates.map { learningRate(base: $0, epoch: epoch) }
    }

    /// Advances one epoch and sets each group's learning rate.
    public func step() {
        epoch += 1
        applyLearningRates()
    }

    /// The learning rate at `epoch` of a group whose base rate is `base`.
    public func learningRate(base: Double, epoch: Int) -> Double {
        fatalError("\(Self.self) must override learningRate(base:epoch:)")
    }
}
