/// Batch normalisation over the channel dimension (dimension 1): the shared implementation of
/// ``BatchNorm1d`` and ``BatchNorm2d`` (PyTorch's `_BatchNorm`).
///
/// For each channel `c`, with statistics over every other dimension (batch and spatial):
///
/// `y = (x − μ_c) / √(σ²_c + ε) · γ_c + β_c`
///
/// - In training mode (or whenever running statistics are not tracked), `μ` and `σ²` are the batch's mean
///   and **biased** variance (divided by `n`, the number of values per channel). The running statistics are
///   then updated with the **unbiased** variance (divided by `n − 1`):
///   `running ← (1 − f)·running + f·batch`, where `f = momentum`, or `f = 1 / numBatchesTracked` (a cumulative
///   average) when `momentum` is nil; `numBatchesTracked` counts the training-mode calls.
/// - In evaluation mode with tracked statistics, `μ` and `σ²` are the running mean and variance.
///
/// With batch statistics the normalisation is one fused op (its statistics and closed-form backward run
/// per channel on the raw elements; a recorded backward falls back to differentiable operations, so
/// higher-order gradients work); with running statistics it is a per-channel affine map of `Variable`
/// operations. Either way gradients flow to the input, through the batch statistics when they are used. Running statistics are buffers (saved in
/// ``Module/stateDict()`` under PyTorch's names `running_mean`, `running_var` and `num_batches_tracked`, the
/// last an integer buffer written as `I64`; the older names `runningMean`, … still load), not trained; `γ` (``weight``, ones) and `β` (``bias``, zeros) are parameters
/// when `affine`.
public class BatchNorm: Module {
    /// `γ`, shape `[numFeatures]`, or nil when not affine.
    @Parameter public var weight: Variable?
    /// `β`, shape `[numFeatures]`, or nil when not affine.
    @Parameter public var bias: Variable?
    /// The running-statistics buffers, registered under PyTorch's names (`running_mean`, `running_var`,
    /// `num_batches_tracked`), which Swift properties cannot carry; nil when statistics are not tracked, so the
    /// state dictionary has none (as PyTorch's `None` buffers). Reflection skips this struct.
    private struct Statistics {
        let mean: Buffer
        let variance: Buffer
        let batches: IntegerBuffer
    }
    private let statistics: Statistics?
    private var _runningMean: Buffer? { statistics?.mean }
    private var _runningVar: Buffer? { statistics?.variance }

    /// The number of channels `C`.
    public let numFeatures: Int
    /// `ε`, added to the variance for stability.
    public let eps: Double
    /// The weight of the newest batch in the running statistics; nil for a cumulative average.
    public let momentum: Double?
    /// Whether running statistics are kept (and used in evaluation mode).
    public var trackRunningStats: Bool { _runningMean != nil }

    private let layerName: String
    private let acceptedRanks: [Int]
    private let shapeDescription: String

    init(layerName: String, acceptedRanks: [Int], shapeDescription: String, numFeatures: Int, eps: Double,
         momentum: Double?, affine: Bool, trackRunningStats: Bool, dtype: DType) {
        precondition(numFeatures > 0, "\(layerName): numFeatures \(numFeatures) must be positive")
        precondition(eps >= 0, "\(layerName): eps \(eps) must be non-negative")
        if let m = momentum { precondition(m >= 0 && m <= 1, "\(layerName): momentum \(m) is not in [0, 1]") }
        self.layerName = layerName
        self.acceptedRanks = acceptedRanks
        self.shapeDescription = shapeDescription
        self.numFeatures = numFeatures
        self.eps = eps
        self.momentum = momentum
        weight = affine ? Variable(Tensor.ones([numFeatures], dtype: dtype)) : nil
        bias = affine ? Variable(Tensor.zeros([numFeatures], dtype: dtype)) : nil
        statistics = trackRunningStats
            ? Statistics(mean: Buffer(wrappedValue: Tensor.zeros([numFeatures], dtype: dtype)),
                         variance: Buffer(wrappedValue: Tensor.ones([numFeatures], dtype: dtype)),
                         batches: IntegerBuffer(wrappedValue: IntTensor(scalar: 0)))
            : nil
        super.init()
        if let statistics {
            registerBuffer("running_mean", box: statistics.mean)
            registerBuffer("running_var", box: statistics.variance)
            registerBuffer("num_batches_tracked", box: statistics.batches)
        }
    }

    /// The names this layer's buffers had before they took PyTorch's: checkpoints written then still load.
    public override var legacyStateNames: [String: String] {
        ["runningMean": "running_mean", "runningVar": "running_var", "numBatchesTracked": "num_batches_tracked"]
    }

    /// The running mean per channel, shape `[numFeatures]` (zeros at first); nil when statistics are not tracked.
    public var runningMean: Tensor? {
        get { _runningMean?.wrappedValue }
        set { setStatistic(_runningMean, newValue, "runningMean") }
    }

    /// The running (unbiased) variance per channel, shape `[numFeatures]` (ones at first); nil when not tracked.
    public var runningVar: Tensor? {
        get { _runningVar?.wrappedValue }
        set { setStatistic(_runningVar, newValue, "runningVar") }
    }

    /// The number of training-mode forward passes so far; nil when statistics are not tracked.
    public var numBatchesTracked: Int? { statistics?.batches.wrappedValue.item }

    private func setStatistic(_ box: Buffer?, _ value: Tensor?, _ name: String) {
        guard let box else {
            precondition(value == nil, "\(layerName).\(name): this layer does not track running statistics")
            return
        }
        guard let value, value.shape == [numFeatures] else {
            preconditionFailure("\(layerName).\(name): expected a tensor of shape [\(numFeatures)], got \(value.map { "\($0.shape)" } ?? "nil")")
        }
        box.wrappedValue = value
    }

    /// Clears the running statistics to mean 0, variance 1 and zero batches (PyTorch's `reset_running_stats`).
    public func resetRunningStats() {
        _runningMean?.wrappedValue = Tensor.zeros(like: _runningMean!.wrappedValue)
        _runningVar?.wrappedValue = Tensor.ones(like: _runningVar!.wrappedValue)
        statistics?.batches.wrappedValue = IntTensor(scalar: 0)
    }

    /// Normalises `x` per channel (see the type's discussion); the output has the input's shape.
    ///
    /// - Precondition: `x` has one of the accepted shapes with `numFeatures` channels at dimension 1; in
    ///   training mode each channel has more than one value.
    public override func forward(_ x: Variable) -> Variable {
        precondition(acceptedRanks.contains(x.rank) && x.shape[1] == numFeatures,
                     "\(layerName): expected an input of shape \(shapeDescription) with C = \(numFeatures), got \(x.shape)")
        if isTraining || !trackRunningStats {
            let count = x.value.count / numFeatures
            precondition(!isTraining || count > 1,
                         "\(layerName): expected more than 1 value per channel when training, got input of shape \(x.shape)")
            let op = BatchNormTraining(eps: eps)
            let y = if let weight, let bias { op(x, weight, bias) } else { op(x) }
            if isTraining { updateRunningStats(mean: op.mean, biasedVariance: op.variance, count: count) }
            return y
        }
        // Evaluation with running statistics: y = (x − μ)·(γ / √(σ² + ε)) + β, the per-channel factor formed on
        // C values, not on the whole input.
        let channelShape = [1, numFeatures] + Array(repeating: 1, count: x.rank - 2)
        let centered = x - Variable(runningMean!.reshaped(channelShape))
        let inverseStd = Variable((runningVar!.reshaped(channelShape) + eps).pow(-0.5))
        guard let weight, let bias else { return centered * inverseStd }
        return centered * (inverseStd * weight.reshaped(channelShape)) + bias.reshaped(channelShape)
    }

    private func updateRunningStats(mean: [Double], biasedVariance: [Double], count: Int) {
        guard let statistics else { return }
        let meanBox = statistics.mean, varBox = statistics.variance
        let batches = statistics.batches.wrappedValue.item + 1
        statistics.batches.wrappedValue = IntTensor(scalar: batches)
        let f = momentum ?? 1 / Double(batches)
        let batchMean = Tensor(shape: [numFeatures], scalars: mean, dtype: meanBox.wrappedValue.dtype)
        let correction = Double(count) / Double(count - 1)
        let unbiased = Tensor(shape: [numFeatures], scalars: biasedVariance.map { $0 * correction }, dtype: varBox.wrappedValue.dtype)
        meanBox.wrappedValue = meanBox.wrappedValue * (1 - f) + batchMean * f
        varBox.wrappedValue = varBox.wrappedValue * (1 - f) + unbiased * f
    }

    public override var summary: String {
        "\(numFeatures), eps: \(eps), momentum: \(momentum.map { "\($0)" } ?? "nil"), affine: \(weight != nil), "
            + "trackRunningStats: \(trackRunningStats)"
    }
}

/// Batch normalisation of `[N, C]` or `[N, C, L]` inputs over the batch (and length) per channel
/// (PyTorch's `nn.BatchNorm1d`). See ``BatchNorm`` for the math, the modes and the running statistics.
///
/// ```swift
/// let bn = BatchNorm1d(64)
/// let y = bn(Variable(Tensor.randn([32, 64])))   // per-feature zero mean, unit variance in training
/// ```
public final class BatchNorm1d: BatchNorm {
    /// Batch normalisation of `numFeatures` channels, with PyTorch's defaults.
    public init(_ numFeatures: Int, eps: Double = 1e-5, momentum: Double? = 0.1, affine: Bool = true,
                trackRunningStats: Bool = true, dtype: DType = .float32) {
        super.init(layerName: "BatchNorm1d", acceptedRanks: [2, 3], shapeDescription: "[N, C] or [N, C, L]",
                   numFeatures: numFeatures, eps: eps, momentum: momentum, affine: affine,
                   trackRunningStats: trackRunningStats, dtype: dtype)
    }
}

/// Batch normalisation of `[N, C, H, W]` inputs over batch, height and width per channel
/// (PyTorch's `nn.BatchNorm2d`). See ``BatchNorm`` for the math, the modes and the running statistics.
///
/// ```swift
/// let bn = BatchNorm2d(16)
/// let y = bn(Variable(Tensor.randn([8, 16, 32, 32])))   // same shape, normalised per channel
/// ```
public final class BatchNorm2d: BatchNorm {
    /// Batch normalisation of `numFeatures` channels, with PyTorch's defaults.
    public init(_ numFeatures: Int, eps: Double = 1e-5, momentum: Double? = 0.1, affine: Bool = true,
                trackRunningStats: Bool = true, dtype: DType = .float32) {
        super.init(layerName: "BatchNorm2d", acceptedRanks: [4], shapeDescription: "[N, C, H, W]",
                   numFeatures: numFeatures, eps: eps, momentum: momentum, affine: affine,
                   trackRunningStats: trackRunningStats, dtype: dtype)
    }
}
