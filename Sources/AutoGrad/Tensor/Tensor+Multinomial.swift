// Drawing category indices from rows of weights (PyTorch's `torch.multinomial`).

extension Tensor {
    /// `sampleCount` category indices drawn from each row of `weights` (PyTorch's `torch.multinomial`).
    ///
    /// Category `i` of a row is drawn with probability `wᵢ / Σⱼ wⱼ`: the weights need not sum to 1. With
    /// `replacement` every draw uses the whole row; without it, each draw removes the drawn category from the
    /// row (the weights of the remaining ones are renormalised), so a row's samples are all different and
    /// categories of weight 0 are never drawn.
    ///
    /// Shapes: `weights` `[n]` → `[sampleCount]`, or `[rows, n]` → `[rows, sampleCount]`.
    ///
    /// ```swift
    /// let next = Tensor.multinomial(logits.softmax(), sampleCount: 1, generator: RandomGenerator(seed: 7))
    /// ```
    ///
    /// - Precondition: rank 1 or 2, at least one category; every weight finite and non-negative and each row's
    ///   sum positive; `sampleCount ≥ 1`, and without replacement no more than the row's non-zero weights.
    ///   Otherwise the program stops naming `multinomial`, the shape and the offending row.
    public static func multinomial(_ weights: Tensor, sampleCount: Int, replacement: Bool = false,
                                   generator: RandomGenerator = .global) -> TensorIndices {
        precondition(weights.rank == 1 || weights.rank == 2,
                     "multinomial: weights must be [n] or [rows, n], got shape \(weights.shape)")
        let n = weights.shape[weights.rank - 1], rows = weights.rank == 1 ? 1 : weights.shape[0]
        precondition(n >= 1, "multinomial: weights of shape \(weights.shape) have no categories")
        precondition(sampleCount >= 1, "multinomial: sampleCount must be positive, got \(sampleCount)")
        let all = weights.doubles
        var result: [Int] = []
        result.reserveCapacity(rows * sampleCount)
        for r in 0..<rows {
            var row = Array(all[(r * n)..<((r + 1) * n)])
            let bad = row.firstIndex { !$0.isFinite || $0 < 0 }
            precondition(bad == nil, "multinomial: row \(r) of weights \(weights.shape) has weight \(bad.map { row[$0] } ?? 0) "
                         + "at category \(bad ?? 0); weights must be finite and non-negative")
            let positive = row.reduce(0) { $0 + ($1 > 0 ? 1 : 0) }
            precondition(positive > 0, "multinomial: row \(r) of weights \(weights.shape) sums to 0")
            precondition(replacement || sampleCount <= positive,
                         "multinomial: cannot draw \(sampleCount) samples without replacement from row \(r) of weights "
                         + "\(weights.shape), which has \(positive) non-zero weights")
            var cumulative = [Double](repeating: 0, count: n)
            for s in 0..<sampleCount {
                if s == 0 || !replacement { runningSums(row, into: &cumulative) }
                let drawn = drawCategory(cumulative, generator.nextUniform())
                result.append(drawn)
                if !replacement { row[drawn] = 0 }
            }
        }
        return TensorIndices(shape: weights.rank == 1 ? [sampleCount] : [rows, sampleCount], values: result)
    }
}

/// `cumulative[i] = Σ_{j ≤ i} weights[j]`.
private func runningSums(_ weights: [Double], into cumulative: inout [Double]) {
    var total = 0.0
    for (i, w) in weights.enumerated() {
        total += w
        cumulative[i] = total
    }
}

/// The first category whose running sum exceeds `u · total` for `u` in [0, 1): a binary search that never lands on a
/// category of weight 0 (its running sum equals its predecessor's, which already exceeds the target).
private func drawCategory(_ cumulative: [Double], _ u: Double) -> Int {
    let target = u * cumulative[cumulative.count - 1]
    var (low, high) = (0, cumulative.count - 1)
    while low < high {
        let mid = (low + high) / 2
        if cumulative[mid] > target { high = mid } else { low = mid + 1 }
    }
    return low
}
