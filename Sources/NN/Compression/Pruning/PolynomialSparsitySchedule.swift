import Foundation

/// The gradual pruning schedule of Zhu & Gupta (2017, "To prune, or not to prune"): sparsity rises from `initial` at
/// step `begin` to `final` at step `end` as
///
///     s(t) = final + (initial − final)·(1 − (t − begin)/(end − begin))³
///
/// fast at first, while many weights are redundant, and slowly near the end; constant outside [begin, end].
/// Prune to ``sparsity(at:)`` every few steps with ``MagnitudePruning/prune(_:toSparsity:)`` and keep training.
public struct PolynomialSparsitySchedule: Sendable {
    public let initial: Double, final: Double
    public let begin: Int, end: Int
    /// The power of the decay (3 in the paper).
    public let exponent: Double

    /// - Precondition: both sparsities are in [0, 1] and `begin < end`.
    public init(initial: Double = 0, final: Double, begin: Int, end: Int, exponent: Double = 3) {
        precondition((0...1).contains(initial) && (0...1).contains(final),
                     "PolynomialSparsitySchedule: sparsities \(initial) and \(final) must be in [0, 1]")
        precondition(begin < end, "PolynomialSparsitySchedule: begin \(begin) must come before end \(end)")
        (self.initial, self.final, self.begin, self.end, self.exponent) = (initial, final, begin, end, exponent)
    }

    /// The sparsity to prune to at `step`.
    public func sparsity(at step: Int) -> Double {
        let progress = Swift.min(1, Swift.max(0, Double(step - begin) / Double(end - begin)))
        return final + (initial - final) * pow(1 - progress, exponent)
    }
}
