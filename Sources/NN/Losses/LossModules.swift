// The losses as configured values (PyTorch's `nn.MSELoss`, `nn.CrossEntropyLoss`, …): hold the
// options once, apply with `criterion(prediction, target)`. Each calls its function.

/// ``mseLoss(_:_:reduction:)`` with fixed options.
public struct MSELoss: Sendable {
    public var reduction: Reduction
    public init(reduction: Reduction = .mean) { self.reduction = reduction }
    public func callAsFunction(_ input: Variable, _ target: Variable) -> Variable { mseLoss(input, target, reduction: reduction) }
}

/// ``l1Loss(_:_:reduction:)`` with fixed options.
public struct L1Loss: Sendable {
    public var reduction: Reduction
    public init(reduction: Reduction = .mean) { self.reduction = reduction }
    public func callAsFunction(_ input: Variable, _ target: Variable) -> Variable { l1Loss(input, target, reduction: reduction) }
}

/// ``huberLoss(_:_:delta:reduction:)`` with fixed options.
public struct HuberLoss: Sendable {
    public var delta: Double
    public var reduction: Reduction
    public init(delta: Double = 1, reduction: Reduction = .mean) { self.delta = delta; self.reduction = reduction }
    public func callAsFunction(_ input: Variable, _ target: Variable) -> Variable {
        huberLoss(input, target, delta: delta, reduction: reduction)
    }
}

/// ``smoothL1Loss(_:_:beta:reduction:)`` with fixed options.
public struct SmoothL1Loss: Sendable {
    public var beta: Double
    public var reduction: Reduction
    public init(beta: Double = 1, reduction: Reduction = .mean) { self.beta = beta; self.reduction = reduction }
    public func callAsFunction(_ input: Variable, _ target: Variable) -> Variable {
        smoothL1Loss(input, target, beta: beta, reduction: reduction)
    }
}

/// ``crossEntropy(_:_:weight:ignoreIndex:labelSmoothing:reduction:)`` with fixed options.
public struct CrossEntropyLoss {
    public var weight: Tensor?
    public var ignoreIndex: Int
    public var labelSmoothing: Double
    public var reduction: Reduction
    public init(weight: Tensor? = nil, ignoreIndex: Int = -100, labelSmoothing: Double = 0, reduction: Reduction = .mean) {
        self.weight = weight; self.ignoreIndex = ignoreIndex; self.labelSmoothing = labelSmoothing; self.reduction = reduction
    }
    /// The loss of `logits` against class indices.
    public func callAsFunction(_ logits: Variable, _ targets: [Int]) -> Variable {
        crossEntropy(logits, targets, weight: weight, ignoreIndex: ignoreIndex, labelSmoothing: labelSmoothing, reduction: reduction)
    }
    /// The loss of `logits` against class probabilities (`ignoreIndex` does not apply).
    public func callAsFunction(_ logits: Variable, probabilities: Variable) -> Variable {
        crossEntropy(logits, probabilities: probabilities, weight: weight, labelSmoothing: labelSmoothing, reduction: reduction)
    }
}

/// ``nllLoss(_:_:weight:ignoreIndex:reduction:)`` with fixed options.
public struct NLLLoss {
    public var weight: Tensor?
    public var ignoreIndex: Int
    public var reduction: Reduction
    public init(weight: Tensor? = nil, ignoreIndex: Int = -100, reduction: Reduction = .mean) {
        self.weight = weight; self.ignoreIndex = ignoreIndex; self.reduction = reduction
    }
    public func callAsFunction(_ logProbabilities: Variable, _ targets: [Int]) -> Variable {
        nllLoss(logProbabilities, targets, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction)
    }
}

/// ``binaryCrossEntropy(_:_:weight:reduction:)`` with fixed options.
public struct BCELoss {
    public var weight: Tensor?
    public var reduction: Reduction
    public init(weight: Tensor? = nil, reduction: Reduction = .mean) { self.weight = weight; self.reduction = reduction }
    public func callAsFunction(_ input: Variable, _ target: Variable) -> Variable {
        binaryCrossEntropy(input, target, weight: weight, reduction: reduction)
    }
}

/// ``binaryCrossEntropyWithLogits(_:_:weight:posWeight:reduction:)`` with fixed options.
public struct BCEWithLogitsLoss {
    public var weight: Tensor?
    public var posWeight: Tensor?
    public var reduction: Reduction
    public init(weight: Tensor? = nil, posWeight: Tensor? = nil, reduction: Reduction = .mean) {
        self.weight = weight; self.posWeight = posWeight; self.reduction = reduction
    }
    public func callAsFunction(_ input: Variable, _ target: Variable) -> Variable {
        binaryCrossEntropyWithLogits(input, target, weight: weight, posWeight: posWeight, reduction: reduction)
    }
}
