/// Which examples each rank of a data-parallel job reads in each epoch (PyTorch's `DistributedSampler`).
///
/// Every rank builds the same sampler (same `count`, `seed`, `worldSize`) with its own `rank`. Each epoch the indices
/// are shuffled from the seed and the epoch alone — in the same order as a ``DataLoader`` with that seed — then
/// padded by repeating the first ones (or, with `dropLast`, cut) to a multiple of `worldSize`, and rank `r` takes
/// every `worldSize`-th from position `r`. So every rank gets the same number of examples, together they cover the
/// epoch, and batch `k` of size `B` on each of `W` ranks holds exactly the examples of batch `k` of size `W·B` in
/// one process reading the same data with the same seed.
///
/// ```swift
/// let sampler = DistributedSampler(count: train.count, worldSize: group.worldSize, rank: group.rank, seed: 0)
/// for epoch in 0..<epochs {
///     let loader = DataLoader(sampler.shard(train, epoch: epoch), batchSize: 64 / group.worldSize)
///     for (images, labels) in loader { trainStep(images, labels) }
/// }
/// ```
public struct DistributedSampler: Sendable {
    /// The number of examples in the dataset.
    public let count: Int
    /// The number of ranks sharing it.
    public let worldSize: Int
    /// This rank.
    public let rank: Int
    /// Whether each epoch visits the examples in a fresh random order.
    public let shuffle: Bool
    /// The seed that, with the epoch number, fixes each epoch's order; the same on every rank.
    public let seed: UInt64
    /// Whether examples beyond a multiple of `worldSize` are left out rather than padded with repeats.
    public let dropLast: Bool

    /// A sampler for `rank` of `worldSize` over a dataset of `count` examples.
    ///
    /// - Precondition: `worldSize` > 0, `0 ≤ rank < worldSize`, `count` ≥ 0.
    public init(count: Int, worldSize: Int, rank: Int, shuffle: Bool = true, seed: UInt64 = 0, dropLast: Bool = false) {
        precondition(worldSize > 0, "DistributedSampler: worldSize must be positive, got \(worldSize)")
        precondition(rank >= 0 && rank < worldSize, "DistributedSampler: rank \(rank) is not in 0..<\(worldSize)")
        precondition(count >= 0, "DistributedSampler: count must not be negative, got \(count)")
        self.count = count
        self.worldSize = worldSize
        self.rank = rank
        self.shuffle = shuffle
        self.seed = seed
        self.dropLast = dropLast
    }

    /// The number of examples each rank reads per epoch.
    public var samplesPerRank: Int {
        dropLast ? count / worldSize : (count + worldSize - 1) / worldSize
    }

    /// This rank's indices into the dataset for epoch `epoch`, in the order to read them.
    public func indices(epoch: Int) -> [Int] {
        var order = shuffle ? RandomGenerator(seed: epochSeed(seed, epoch)).permutation(count) : Array(0..<count)
        let total = samplesPerRank * worldSize
        if total <= order.count {
            order.removeLast(order.count - total)
        } else if !order.isEmpty {
            let original = order
            while order.count < total { order += original.prefix(total - order.count) }
        }
        return stride(from: rank, to: order.count, by: worldSize).map { order[$0] }
    }

    /// This rank's rows of `globalBatch`, a per-example tensor that every rank draws alike for the whole global batch
    /// (noise, mixing weights): rows `rank`, `rank + worldSize`, … — the places that this rank's examples have in the
    /// global batch (see ``indices(epoch:)``). Each rank thus gets different values, and each example is paired with
    /// the values one process reading the global batch would pair it with.
    ///
    /// ```swift
    /// let noise = sampler.rows(of: Tensor.randn([globalBatch, 100], generator: random))   // [globalBatch / worldSize, 100]
    /// ```
    ///
    /// - Precondition: `globalBatch` has at least one axis, whose length is a multiple of ``worldSize``.
    public func rows(of globalBatch: Tensor) -> Tensor {
        precondition(globalBatch.rank >= 1 && globalBatch.shape[0] % worldSize == 0,
                     "DistributedSampler.rows: a global batch of shape \(globalBatch.shape) does not split over \(worldSize) ranks")
        guard worldSize > 1 else { return globalBatch }
        return globalBatch.sliced(axis: 0, start: rank, end: globalBatch.shape[0], step: worldSize)
    }

    /// The view of `dataset` this rank reads in epoch `epoch`.
    ///
    /// - Precondition: `dataset.count` equals ``count``.
    public func shard<D: Dataset>(_ dataset: D, epoch: Int) -> Subset<D> {
        precondition(dataset.count == count, "DistributedSampler: dataset has \(dataset.count) examples, sampler was made for \(count)")
        return Subset(dataset, indices: indices(epoch: epoch))
    }
}
