import Foundation

/// The order in which a ``DataLoader`` visits a dataset's indices each epoch (PyTorch's `Sampler`), for
/// orders other than sequential or a plain shuffle: a subset (``SubsetRandomSampler``), or draws by weight
/// (``WeightedRandomSampler``).
///
/// ```swift
/// let sampler = WeightedRandomSampler(weights: labels.map { 1 / Double(classCounts[$0]) }, sampleCount: train.count)
/// let loader = DataLoader(train, batchSize: 64, sampler: sampler)
/// ```
public protocol Sampler: Sendable {
    /// The number of indices each epoch visits.
    var count: Int { get }

    /// The indices epoch `epoch` visits, in order; ``count`` of them. The same epoch gives the same indices.
    func indices(epoch: Int) -> [Int]
}

/// The given indices in a fresh random order every epoch (PyTorch's `SubsetRandomSampler`): a validation
/// split that shares one dataset with the training split.
public struct SubsetRandomSampler: Sampler {
    /// The indices sampled.
    public let subset: [Int]
    /// With the epoch number, fixes each epoch's order.
    public let seed: UInt64

    /// Samples `subset` without replacement, in an order fixed by `seed` and the epoch.
    public init(_ subset: [Int], seed: UInt64 = 0) {
        self.subset = subset
        self.seed = seed
    }

    public var count: Int { subset.count }

    public func indices(epoch: Int) -> [Int] {
        RandomGenerator(seed: epochSeed(seed, epoch)).permutation(subset.count).map { subset[$0] }
    }
}

/// `sampleCount` indices drawn with probability proportional to `weights` (PyTorch's `WeightedRandomSampler`):
/// oversampling rare classes with weights 1 / (examples in the class).
///
/// With replacement an index may come many times; without, each at most once, drawn one after another from
/// those left, with the weights of those left (as `torch.multinomial` without replacement).
public struct WeightedRandomSampler: Sampler {
    /// The weight of each dataset index.
    public let weights: [Double]
    /// The number of indices drawn per epoch.
    public let sampleCount: Int
    /// Whether an index may be drawn more than once per epoch.
    public let replacement: Bool
    /// With the epoch number, fixes each epoch's draws.
    public let seed: UInt64

    /// - Precondition: weights finite and ≥ 0, some positive; `sampleCount ≥ 0`, and without replacement at
    ///   most the number of positive weights.
    public init(weights: [Double], sampleCount: Int, replacement: Bool = true, seed: UInt64 = 0) {
        precondition(weights.allSatisfy { $0.isFinite && $0 >= 0 } && weights.contains { $0 > 0 },
                     "WeightedRandomSampler: weights must be finite, non-negative and not all zero")
        let positive = weights.filter { $0 > 0 }.count
        precondition(sampleCount >= 0 && (replacement || sampleCount <= positive),
                     "WeightedRandomSampler: cannot draw \(sampleCount) indices \(replacement ? "" : "without replacement ")from \(positive) with positive weight")
        self.weights = weights
        self.sampleCount = sampleCount
        self.replacement = replacement
        self.seed = seed
    }

    public var count: Int { sampleCount }

    public func indices(epoch: Int) -> [Int] {
        let generator = RandomGenerator(seed: epochSeed(seed, epoch))
        if replacement {
            var cumulative: [Double] = []
            cumulative.reserveCapacity(weights.count)
            var total = 0.0
            for w in weights { total += w; cumulative.append(total) }
            return (0..<sampleCount).map { _ in
                // The first index whose cumulative weight exceeds u: index i with probability wᵢ / Σw.
                let u = generator.nextUniform() * total
                var lo = 0, hi = cumulative.count - 1
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if cumulative[mid] > u { hi = mid } else { lo = mid + 1 }
                }
                return lo
            }
        }
        // Efraimidis–Spirakis: the largest keys u^(1/w) are a draw without replacement by weight.
        let keys = weights.map { w in w > 0 ? Foundation.pow(generator.nextUniform(), 1 / w) : -1 }
        return Array(keys.indices.sorted { keys[$0] > keys[$1] }.prefix(sampleCount))
    }
}
