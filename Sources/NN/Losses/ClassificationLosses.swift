/// Logits or log-probabilities `[N, C]`, `[N, C, d1, …]` or `[C]` as a `[M, C]` matrix with one
/// row per target, and the shape of the per-target loss (`[N, d1, …]`, or `[]` for `[C]`).
private func rowsByClass(_ x: Variable, _ targets: [Int], _ loss: String) -> (rows: Variable, outputShape: [Int]) {
    precondition(x.rank >= 1, "\(loss): input must have a class dimension, got shape \(x.shape)")
    let rows: Variable, outputShape: [Int]
    switch x.rank {
    case 1:
        rows = x.reshaped([1, x.shape[0]]); outputShape = []
    case 2:
        rows = x; outputShape = [x.shape[0]]
    default:
        // [N, C, d…] → [N, d…, C] → [N·Πd, C]
        rows = x.permuted([0] + Array(2..<x.rank) + [1]).reshaped([-1, x.shape[1]])
        outputShape = [x.shape[0]] + Array(x.shape[2...])
    }
    precondition(targets.count == rows.shape[0],
                 "\(loss): input of shape \(x.shape) needs \(rows.shape[0]) targets (shape \(outputShape)), got \(targets.count)")
    return (rows, outputShape)
}

/// The weight of each target's class (0 where the target is `ignoreIndex`) and a valid index to gather.
private func targetWeights(_ targets: [Int], classes: Int, weight: Tensor?, ignoreIndex: Int, dtype: DType, _ loss: String)
    -> (weights: Tensor, indices: [Int]) {
    if let weight {
        precondition(weight.shape == [classes], "\(loss): class weights of shape \(weight.shape) for \(classes) classes")
    }
    let classWeight = weight?.doubles
    var weights = [Double](), indices = [Int]()
    weights.reserveCapacity(targets.count); indices.reserveCapacity(targets.count)
    for t in targets {
        if t == ignoreIndex { weights.append(0); indices.append(0); continue }
        precondition(t >= 0 && t < classes, "\(loss): target \(t) is not a class index in 0..<\(classes) (nor ignoreIndex \(ignoreIndex))")
        weights.append(classWeight?[t] ?? 1)
        indices.append(t)
    }
    return (Tensor(shape: [targets.count], scalars: weights, dtype: dtype), indices)
}

/// Negative log-likelihood of class indices given log-probabilities, with optional label smoothing:
/// the shared body of ``nllLoss(_:_:weight:ignoreIndex:reduction:)`` and ``crossEntropy(_:_:weight:ignoreIndex:labelSmoothing:reduction:)``.
private func negativeLogLikelihood(_ logProbabilities: Variable, _ targets: [Int], weight: Tensor?, ignoreIndex: Int,
                                   labelSmoothing: Double, reduction: Reduction, _ loss: String) -> Variable {
    precondition(labelSmoothing >= 0 && labelSmoothing <= 1, "\(loss): labelSmoothing \(labelSmoothing) is not in [0, 1]")
    let (rows, outputShape) = rowsByClass(logProbabilities, targets, loss)
    let (m, classes) = (rows.shape[0], rows.shape[1])
    let (w, indices) = targetWeights(targets, classes: classes, weight: weight, ignoreIndex: ignoreIndex, dtype: rows.dtype, loss)
    // −w[tᵢ]·log p(tᵢ); 0 for ignored targets.
    let picked = rows.gathered(axis: 1, indices: TensorIndices(shape: [m, 1], values: indices)).reshaped([m])
    var perTarget = -picked * Variable(w)
    if labelSmoothing > 0 {
        // PyTorch: (1 − ε)·nll + ε/C · (−Σ_c w_c log p_c), the second term also 0 for ignored targets.
        let classWeights = weight.map { Variable($0.to(rows.dtype).reshaped([1, classes])) }
        let spread = -(classWeights.map { rows * $0 } ?? rows).sum(axes: [1])
        let kept = Variable(Tensor(shape: [m], scalars: targets.map { $0 == ignoreIndex ? 0.0 : 1.0 }, dtype: rows.dtype))
        perTarget = perTarget * (1 - labelSmoothing) + spread * kept * (labelSmoothing / Double(classes))
    }
    switch reduction {
    case .none: return perTarget.reshaped(outputShape)
    case .sum: return perTarget.sum()
    // The weighted mean: divided by the total weight of the targets, ignored ones excluded (NaN when that is 0, as PyTorch).
    case .mean: return perTarget.sum() / w.sum().item
    }
}

/// Negative log-likelihood loss on log-probabilities (PyTorch's `nll_loss`):
/// `ℓᵢ = −w[tᵢ]·x[i, tᵢ]`.
///
/// - Parameters:
///   - input: log-probabilities `[N, C]`, `[N, C, d1, …]` (class dimension second) or `[C]`.
///   - targets: class indices in `0..<C`, one per sample in row-major order of `[N, d1, …]`.
///   - weight: optional class weights `[C]`; with `.mean` the result is `Σ ℓᵢ / Σ w[tᵢ]`.
///   - ignoreIndex: targets equal to it contribute nothing, not even to the mean's denominator.
///   - reduction: mean (the default), sum or none over the samples.
/// - Precondition: every target is a class index or `ignoreIndex`; as many targets as rows.
public func nllLoss(_ input: Variable, _ targets: [Int], weight: Tensor? = nil, ignoreIndex: Int = -100,
                    reduction: Reduction = .mean) -> Variable {
    negativeLogLikelihood(input, targets, weight: weight, ignoreIndex: ignoreIndex, labelSmoothing: 0, reduction: reduction, "nllLoss")
}

/// Cross-entropy of logits against class indices (PyTorch's `cross_entropy`):
/// `ℓᵢ = −w[tᵢ]·log softmax(xᵢ)[tᵢ]`, computed stably through `logSoftmax`.
///
/// With `labelSmoothing = ε` the target is mixed with the uniform distribution as PyTorch does:
/// `ℓᵢ = (1 − ε)·(−w[tᵢ] log pᵢ[tᵢ]) + ε/C · Σ_c (−w_c log pᵢ[c])`, and `.mean` divides by `Σ w[tᵢ]`.
///
/// ```swift
/// let logits = Variable(Tensor(shape: [2, 3], scalars: [1, 2, 3, 1, 1, 1] as [Float]), requiresGrad: true)
/// let loss = crossEntropy(logits, [2, 0])   // (0.4076 + 1.0986) / 2
/// ```
///
/// - Parameters: as ``nllLoss(_:_:weight:ignoreIndex:reduction:)``, with logits as input.
public func crossEntropy(_ logits: Variable, _ targets: [Int], weight: Tensor? = nil, ignoreIndex: Int = -100,
                         labelSmoothing: Double = 0, reduction: Reduction = .mean) -> Variable {
    precondition(logits.rank >= 1, "crossEntropy: logits must have a class dimension, got shape \(logits.shape)")
    let logProbabilities = logits.logSoftmax(axis: logits.rank == 1 ? 0 : 1)
    return negativeLogLikelihood(logProbabilities, targets, weight: weight, ignoreIndex: ignoreIndex,
                                 labelSmoothing: labelSmoothing, reduction: reduction, "crossEntropy")
}

/// Cross-entropy of logits against class probabilities (soft labels), PyTorch's `cross_entropy`
/// with a floating-point target: `ℓᵢ = −Σ_c w_c·q[i, c]·log softmax(xᵢ)[c]`, with
/// `q = (1 − ε)·target + ε/C` under label smoothing. `.mean` divides by the number of samples.
/// Differentiable in `logits` and `probabilities`.
///
/// - Precondition: `probabilities` has the shape of `logits`.
public func crossEntropy(_ logits: Variable, probabilities: Variable, weight: Tensor? = nil,
                         labelSmoothing: Double = 0, reduction: Reduction = .mean) -> Variable {
    checkSameShape(logits, probabilities, "crossEntropy")
    precondition(labelSmoothing >= 0 && labelSmoothing <= 1, "crossEntropy: labelSmoothing \(labelSmoothing) is not in [0, 1]")
    let axis = logits.rank == 1 ? 0 : 1
    let classes = logits.shape[axis]
    let q = labelSmoothing > 0 ? probabilities * (1 - labelSmoothing) + labelSmoothing / Double(classes) : probabilities
    var terms = logits.logSoftmax(axis: axis) * q
    if let weight {
        precondition(weight.shape == [classes], "crossEntropy: class weights of shape \(weight.shape) for \(classes) classes")
        var shape = [Int](repeating: 1, count: logits.rank)
        shape[axis] = classes
        terms = terms * Variable(weight.to(logits.dtype).reshaped(shape))
    }
    let perSample = -terms.sum(axes: [axis])
    return reduction.apply(perSample)
}
