/// A learning-rate schedule with a closed form in the epoch: the base class of ``StepLR``,
/// ``MultiStepLR``, ``ExponentialLR``, ``CosineAnnealingLR`` and ``LinearWarmup``.
///
/// Creating a scheduler records each group's learning rate as its base rate and sets the epoch-0
/// rate; ``step()`` (once per epoch, after the optimizer's steps) advances the epoch and sets every
/// group's rate to `learningRate(base:epoch:)` of its base rate, as PyTorch's `LRScheduler`:
///
/// ```swift
/// let optimizer = SGD(model.parameters(), learningRate: 0.1, momentum: 0.9)
/// let schedule = StepLR(optimizer, stepSize: 30, gamma: 0.1)
/// for epoch in 0..<90 {
///     train(epoch)                 // optimizer.step() per batch
///     schedule.step()
/// }
/// ```
public class LearningRateScheduler {
    /// The optimizer whose learning rates this schedule sets.
    public let optimizer: any Optimizer
    /// Each group's learning rate when the scheduler was created (or as a loaded state set it).
    public internal(set) var baseLearningRates: [Double]
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

/// A learning-rate schedule whose progress can be saved with a checkpoint and restored, as PyTorch's
/// `scheduler.state_dict()` / `load_state_dict`. Loading does not touch the optimizer's learning rates: those are
/// in the optimizer's own state.
public protocol CheckpointableSchedule: AnyObject {
    /// The schedule's progress (`last_epoch`, …) as rank-0 or one-dimensional tensors.
    func stateDict() -> [String: Tensor]

    /// Replaces the progress by that of a dictionary made by ``stateDict()``; nothing changes when it throws.
    ///
    /// - Throws: ``OptimizerStateError`` on a missing, unexpected or invalid entry.
    func loadStateDict(_ dictionary: [String: Tensor]) throws
}

/// Reads entries of a schedule's state dictionary, checking shapes and that no key is left over.
struct ScheduleStateReader {
    let dictionary: [String: Tensor]

    /// The rank-0 value at `key`.
    func scalar(_ key: String) throws -> Double {
        guard let t = dictionary[key] else { throw OptimizerStateError.missingKey(key) }
        guard t.shape == [] else { throw OptimizerStateError.shapeMismatch(key: key, expected: [], found: t.shape) }
        return t.item
    }

    /// The rank-0 count at `key`: a whole, non-negative number.
    func count(_ key: String) throws -> Int {
        let v = try scalar(key)
        guard v >= 0, v == v.rounded(), v < 1e15 else { throw OptimizerStateError.invalidValue(key: key, reason: "\(v) is not a count") }
        return Int(v)
    }

    /// Throws for the first key not in `known`.
    func checkKeys(_ known: Set<String>) throws {
        if let extra = dictionary.keys.sorted().first(where: { !known.contains($0) }) { throw OptimizerStateError.unexpectedKey(extra) }
    }
}

extension LearningRateScheduler: CheckpointableSchedule {
    /// `last_epoch` (``epoch``) and `base_lrs` (``baseLearningRates``), PyTorch's names.
    public func stateDict() -> [String: Tensor] {
        ["last_epoch": Tensor(Double(epoch)), "base_lrs": Tensor(shape: [baseLearningRates.count], scalars: baseLearningRates)]
    }

    public func loadStateDict(_ dictionary: [String: Tensor]) throws {
        let reader = ScheduleStateReader(dictionary: dictionary)
        try reader.checkKeys(["last_epoch", "base_lrs"])
        let epoch = try reader.count("last_epoch")
        guard let base = dictionary["base_lrs"] else { throw OptimizerStateError.missingKey("base_lrs") }
        guard base.shape == [baseLearningRates.count] else {
            throw OptimizerStateError.shapeMismatch(key: "base_lrs", expected: [baseLearningRates.count], found: base.shape)
        }
        guard base.doubles.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw OptimizerStateError.invalidValue(key: "base_lrs", reason: "\(base.doubles) are not all finite and non-negative")
        }
        self.epoch = epoch
        baseLearningRates = base.doubles
    }
}
