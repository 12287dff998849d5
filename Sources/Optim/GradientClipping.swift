import Foundation

/// Scales all gradients together so that their global norm is at most `maxNorm` — PyTorch's
/// `torch.nn.utils.clip_grad_norm_`.
///
/// The total norm is taken over the gradients of all parameters as if concatenated,
/// ‖g‖ₚ = (Σᵢ |gᵢ|ᵖ)^(1/p) (the largest |gᵢ| for p = ∞). Every gradient is multiplied by
/// min(1, maxNorm / (‖g‖ₚ + 10⁻⁶)). Parameters without a gradient are skipped.
///
/// - Returns: the total norm before clipping (0 when no parameter has a gradient).
/// - Precondition: `normType` > 0 (may be `.infinity`).
@discardableResult
public func clipGradNorm(_ parameters: [Variable], maxNorm: Double, normType: Double = 2) -> Double {
    precondition(normType > 0, "clipGradNorm: normType must be positive, got \(normType)")
    let gradients = parameters.compactMap(\.grad)
    guard !gradients.isEmpty else { return 0 }
    var total: Double
    if normType == .infinity {
        total = gradients.map { normPart($0, normType) }.max()!
    } else {
        total = pow(gradients.reduce(0) { $0 + normPart($1, normType) }, 1 / normType)
    }
    let coefficient = maxNorm / (total + 1e-6)
    if !(coefficient >= 1) {
        for parameter in parameters {
            if let gradient = parameter.grad { parameter.grad = gradient * coefficient }
        }
    }
    return total
}

/// Clamps every gradient element to [−clipValue, clipValue] — PyTorch's `torch.nn.utils.clip_grad_value_`.
/// Parameters without a gradient are skipped.
///
/// - Precondition: `clipValue` ≥ 0.
public func clipGradValue(_ parameters: [Variable], clipValue: Double) {
    precondition(clipValue >= 0, "clipGradValue: clipValue must not be negative, got \(clipValue)")
    for parameter in parameters {
        if let gradient = parameter.grad { parameter.grad = gradient.clamped(min: -clipValue, max: clipValue) }
    }
}

/// Σ|gᵢ|ᵖ of one gradient (its largest |gᵢ| when p = ∞), accumulated in Double: for p = 1 and 2 in eight
/// accumulators (element i into lane i mod 8, the lanes added in order at the end), because one Double running sum
/// is a chain of dependent adds, a few cycles per element, which made the norm a noticeable part of a small model's
/// training step.
private func normPart(_ gradient: Tensor, _ p: Double) -> Double {
    switch gradient.dtype {
    case .float32: return gradient.withUnsafeBufferPointer(as: Float.self) { normPart($0, p) }
    case .float64: return gradient.withUnsafeBufferPointer(as: Double.self) { normPart($0, p) }
    }
}

private func normPart<T: TensorScalar>(_ elements: UnsafeBufferPointer<T>, _ p: Double) -> Double {
    var result = 0.0
    if p == .infinity {
        for x in elements { result = Swift.max(result, Swift.abs(Double(x))) }
    } else if p == 2 {
        result = laneSum(elements) { $0 * $0 }
    } else if p == 1 {
        result = laneSum(elements) { Swift.abs($0) }
    } else {
        for x in elements { result += pow(Swift.abs(Double(x)), p) }
    }
    return result
}

/// Σ term(xᵢ) in Double over eight lanes (see ``normPart(_:_:)``).
@inline(__always)
private func laneSum<T: TensorScalar>(_ elements: UnsafeBufferPointer<T>, _ term: (Double) -> Double) -> Double {
    var lanes = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    let count = elements.count, whole = count & ~7
    var i = 0
    while i < whole {
        lanes.0 += term(Double(elements[i]))
        lanes.1 += term(Double(elements[i + 1]))
        lanes.2 += term(Double(elements[i + 2]))
        lanes.3 += term(Double(elements[i + 3]))
        lanes.4 += term(Double(elements[i + 4]))
        lanes.5 += term(Double(elements[i + 5]))
        lanes.6 += term(Double(elements[i + 6]))
        lanes.7 += term(Double(elements[i + 7]))
        i += 8
    }
    var rest = 0.0
    while i < count {
        rest += term(Double(elements[i]))
        i += 1
    }
    return ((lanes.0 + lanes.1) + (lanes.2 + lanes.3)) + ((lanes.4 + lanes.5) + (lanes.6 + lanes.7)) + rest
}
