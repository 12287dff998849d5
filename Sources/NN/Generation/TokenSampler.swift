import AutoGrad
import Foundation

/// Draws the next token of a language model from its logits, the way `generate` in PyTorch ecosystems does:
/// temperature, then top-k, then top-p (nucleus) filtering, then one draw from the softmax.
///
/// With logits `z` and temperature `τ`, the candidates are the `k` largest `z_i / τ` (all when `topK` is nil),
/// then the smallest set of those, taken in decreasing probability, whose probability sums to at least `p`
/// (all when `topP` is nil); the draw is from `softmax(z / τ)` renormalised over the candidates. Ties at the
/// top-k threshold are all kept, as `torch.topk`-based filters keep them.
///
/// ```swift
/// let sampler = TokenSampler(temperature: 0.8, topK: 40)
/// let next = sampler.sample(logits: lastPositionLogits, generator: RandomGenerator(seed: 1))
/// ```
public struct TokenSampler: Sendable, Equatable {
    /// Divides the logits before the softmax: below 1 sharpens the distribution, above 1 flattens it.
    public var temperature: Double
    /// Keeps only the `topK` likeliest tokens, when set.
    public var topK: Int?
    /// Keeps the likeliest tokens whose probabilities sum to at least `topP` (nucleus sampling), when set.
    public var topP: Double?

    /// A sampler; traps when `temperature` is not positive and finite, `topK` is below 1 or `topP` is not in (0, 1].
    public init(temperature: Double = 1, topK: Int? = nil, topP: Double? = nil) {
        precondition(temperature > 0 && temperature.isFinite, "TokenSampler: temperature must be positive and finite, got \(temperature)")
        if let topK { precondition(topK >= 1, "TokenSampler: topK must be at least 1, got \(topK)") }
        if let topP { precondition(topP > 0 && topP <= 1, "TokenSampler: topP must be in (0, 1], got \(topP)") }
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
    }

    /// The probability of each token after temperature and filtering (zero for filtered tokens); sums to 1.
    ///
    /// Traps when `logits` is empty or holds NaN.
    public func probabilities(logits: [Double]) -> [Double] {
        precondition(!logits.isEmpty, "TokenSampler: no logits")
        precondition(!logits.contains { $0.isNaN }, "TokenSampler: logits hold NaN")
        var scaled = logits.map { $0 / temperature }
        if let topK, topK < scaled.count {
            let threshold = scaled.sorted(by: >)[topK - 1]
            scaled = scaled.map { $0 >= threshold ? $0 : -.infinity }
        }
        let top = scaled.max()!
        var weights = top == -.infinity ? scaled.map { $0 == -.infinity ? 1 : 0 } : scaled.map { Foundation.exp($0 - top) }
        var total = weights.reduce(0, +)
        if let topP, topP < 1 {
            // The nucleus always holds the likeliest token, so a tiny topP still leaves something to draw.
            let order = weights.indices.sorted { weights[$0] > weights[$1] }
            var kept = 0.0
            var cut = order.count
            for (rank, i) in order.enumerated() {
                kept += weights[i]
                if kept >= topP * total { cut = rank + 1; break }
            }
            for i in order[cut...] { weights[i] = 0 }
            total = weights.reduce(0, +)
        }
        return weights.map { $0 / total }
    }

    /// One token index drawn from ``probabilities(logits:)`` with `generator`.
    public func sample(logits: [Double], generator: RandomGenerator) -> Int {
        let p = probabilities(logits: logits)
        var u = generator.nextUniform()
        for (i, w) in p.enumerated() where w > 0 {
            u -= w
            if u < 0 { return i }
        }
        return p.lastIndex { $0 > 0 }!
    }

    /// The likeliest token (the first of equals): what sampling tends to as the temperature goes to zero.
    public static func greedy(logits: [Double]) -> Int {
        precondition(!logits.isEmpty, "TokenSampler.greedy: no logits")
        return logits.indices.max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) }!
    }
}
