/// Counts of values in equal-width bins (NumPy's `histogram`, PyTorch's `histc`).
public struct Histogram: Equatable, Sendable {
    /// The `bins + 1` bin edges, increasing.
    public let edges: [Double]
    /// The number of values in each bin.
    public let counts: [Int]

    /// Counts `values` in `bins` equal bins over `range`, by default the finite values' extent (a
    /// unit-wide range around a single value, `0...1` for none). Bins are half-open, `[a, b)`, except the
    /// last, `[a, b]`; values outside the range and non-finite values are not counted.
    ///
    /// - Precondition: `bins ≥ 1`.
    public init(_ values: [Double], bins: Int, range: ClosedRange<Double>? = nil) {
        precondition(bins >= 1, "Histogram: bins \(bins) must be at least 1")
        let finite = values.filter(\.isFinite)
        var lo = range?.lowerBound ?? finite.min() ?? 0, hi = range?.upperBound ?? finite.max() ?? 1
        if lo == hi { lo -= 0.5; hi += 0.5 }
        let width = (hi - lo) / Double(bins)
        edges = (0...bins).map { $0 == bins ? hi : lo + Double($0) * width }
        var counts = [Int](repeating: 0, count: bins)
        for v in finite where v >= lo && v <= hi {
            counts[Swift.min(Int((v - lo) / width), bins - 1)] += 1
        }
        self.counts = counts
    }

    /// The width of every bin.
    public var binWidth: Double { (edges.last! - edges[0]) / Double(counts.count) }

    /// The middle of each bin.
    public var centers: [Double] { zip(edges, edges.dropFirst()).map { ($0 + $1) / 2 } }
}
