// Sorting on Variables: the positions come from the Tensor versions (Tensor+Sorting.swift, which also states the
// order rule for NaN and ties); the values are the input gathered at them, so their gradient is the gather's —
// the upstream gradient scatter-added to the chosen positions — and every order of derivative works.

extension Variable {
    /// The `k` largest (or smallest) elements along `axis` and their positions (PyTorch's `topk`); order, NaN
    /// rule and shapes as ``Tensor/topk(k:axis:largest:sorted:)``.
    ///
    /// Gradient: `∂/∂x` is `g` placed at the chosen positions, zero elsewhere.
    public func topk(k: Int, axis: Int = -1, largest: Bool = true, sorted: Bool = true) -> (values: Variable, indices: TensorIndices) {
        let indices = value.sortingIndices(axis: axis, descending: largest, keep: k, op: "topk")
        return (gatheredSorting(indices, axis: axis), indices)
    }

    /// The elements sorted along `axis` and where each came from (PyTorch's `sort`); always stable, NaNs last
    /// (first when `descending`); see ``Tensor/sorted(axis:descending:stable:)``.
    ///
    /// Gradient: `∂/∂x[indices[p]] = g[p]`, the sorted gradient put back in the original order.
    public func sorted(axis: Int = -1, descending: Bool = false, stable: Bool = false) -> (values: Variable, indices: TensorIndices) {
        let n = rank == 0 ? 1 : shape[normalizeAxis(axis, rank: rank, op: "sort")]
        let indices = value.sortingIndices(axis: axis, descending: descending, keep: n, op: "sort")
        return (gatheredSorting(indices, axis: axis), indices)
    }

    /// The largest element along `axis` and its index (PyTorch's `max(dim)`): the first one on ties, the first
    /// NaN when the line holds one. Shapes as ``Tensor/max(axis:keepDims:)``.
    ///
    /// Gradient: all of `g` to that one index, as PyTorch — unlike ``max(axes:keepDims:)`` (no indices), which
    /// splits it equally between tied maxima.
    public func max(axis: Int, keepDims: Bool = false) -> (values: Variable, indices: TensorIndices) {
        extremum(axis: axis, keepDims: keepDims, largest: true)
    }

    /// The smallest element along `axis` and its index (PyTorch's `min(dim)`); gradient to that one index, as
    /// ``max(axis:keepDims:)``.
    public func min(axis: Int, keepDims: Bool = false) -> (values: Variable, indices: TensorIndices) {
        extremum(axis: axis, keepDims: keepDims, largest: false)
    }

    private func extremum(axis: Int, keepDims: Bool, largest: Bool) -> (values: Variable, indices: TensorIndices) {
        let (kept, reduced) = value.extremumIndices(axis: axis, largest: largest)
        let indices = keepDims ? kept : TensorIndices(shape: reduced, values: kept.values)
        return (gatheredSorting(kept, axis: axis).reshaped(indices.shape), indices)
    }

    /// This variable gathered at sorting `indices` (a scalar as one element along axis 0).
    private func gatheredSorting(_ indices: TensorIndices, axis: Int) -> Variable {
        guard rank == 0 else { return gathered(axis: axis, indices: indices) }
        let flat = TensorIndices(shape: [indices.values.count], values: indices.values)
        return reshaped([1]).gathered(axis: 0, indices: flat).reshaped(indices.shape)
    }
}
