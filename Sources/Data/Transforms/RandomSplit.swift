/// Splits `dataset` into non-overlapping random subsets of the given lengths (PyTorch's `random_split`).
///
/// The assignment depends only on `seed` (and the lengths), so a train/validation split is the same on
/// every run:
///
/// ```swift
/// let parts = randomSplit(train, [50000, 10000], seed: 42)
/// let (trainPart, validation) = (parts[0], parts[1])
/// ```
///
/// - Precondition: lengths are non-negative and sum to `dataset.count`.
public func randomSplit<D: Dataset>(_ dataset: D, _ lengths: [Int], seed: UInt64) -> [Subset<D>] {
    precondition(lengths.allSatisfy { $0 >= 0 }, "randomSplit: negative length in \(lengths)")
    precondition(lengths.reduce(0, +) == dataset.count,
                 "randomSplit: lengths \(lengths) sum to \(lengths.reduce(0, +)), dataset has \(dataset.count) examples")
    let order = RandomGenerator(seed: seed).permutation(dataset.count)
    var start = 0
    return lengths.map { n in
        defer { start += n }
        return Subset(dataset, indices: Array(order[start..<(start + n)]))
    }
}

/// Splits `dataset` into random subsets holding the given fractions of it (which sum to 1); the examples
/// left over by rounding down go one each to the first subsets, as PyTorch does.
///
/// - Precondition: fractions are in [0, 1] and sum to 1 (within 1e-9).
public func randomSplit<D: Dataset>(_ dataset: D, fractions: [Double], seed: UInt64) -> [Subset<D>] {
    precondition(fractions.allSatisfy { $0 >= 0 && $0 <= 1 } && Swift.abs(fractions.reduce(0, +) - 1) < 1e-9,
                 "randomSplit: fractions \(fractions) must lie in [0, 1] and sum to 1")
    var lengths = fractions.map { Int((Double(dataset.count) * $0).rounded(.down)) }
    var remainder = dataset.count - lengths.reduce(0, +)
    var i = 0
    while remainder > 0 { lengths[i % lengths.count] += 1; remainder -= 1; i += 1 }
    return randomSplit(dataset, lengths, seed: seed)
}
