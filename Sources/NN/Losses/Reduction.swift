/// How a loss combines its per-element values (PyTorch's `reduction`).
public enum Reduction: Sendable {
    /// The mean over elements (the default); for weighted classification losses, the weighted mean.
    case mean
    /// The sum over elements.
    case sum
    /// No reduction: one loss per element (per sample for classification losses).
    case none

    /// `values` reduced: mean, sum, or unchanged.
    func apply(_ values: Variable) -> Variable {
        switch self {
        case .mean: return values.mean()
        case .sum: return values.sum()
        case .none: return values
        }
    }
}

/// Traps unless `input` and `target` have one shape; `loss` names the caller.
func checkSameShape(_ input: Variable, _ target: Variable, _ loss: String) {
    precondition(input.shape == target.shape, "\(loss): input of shape \(input.shape) and target of shape \(target.shape) differ")
}
