import Foundation

/// Batches of a ``Dataset``: batching, seeded reshuffling every epoch, drop-last, collation into
/// tensors and optional background prefetch (PyTorch's `DataLoader`).
///
/// ```swift
/// let loader = DataLoader(train, batchSize: 64, shuffle: true, seed: 0, dropLast: true)
/// for _ in 0..<5 {
///     for (images, labels) in loader {   // images: Tensor [64, 1, 28, 28], labels: [Int]
///         trainStep(images, labels)
///     }
/// }
/// ```
///
/// Each `for` loop over the loader is one epoch. With `shuffle`, epoch `k` visits the examples in
/// an order fixed by `seed` and `k` alone, so runs repeat exactly, every epoch differs, and a run
/// resumed at epoch `k` (``epoch``) sees what it would have seen. Without `shuffle` examples come in
/// index order. ``batches(epoch:)`` gives one epoch's batches without advancing the counter.
///
/// With `prefetch > 0`, a background thread reads and collates up to `prefetch` batches ahead of
/// the consumer (a bounded queue). With `workers > 0`, that many threads make batches concurrently
/// (PyTorch's `num_workers`, as threads), still handed out in order and up to `max(prefetch, 2 · workers)`
/// ahead. The batches are identical to those without either; the dataset must then tolerate
/// ``Dataset/element(at:)`` from several threads at once.
///
/// A ``Sampler`` chooses other orders: a subset (``SubsetRandomSampler``) or draws by weight
/// (``WeightedRandomSampler``); it replaces `shuffle`.
public final class DataLoader<D: Dataset, Batch>: Sequence {
    /// The dataset read.
    public let dataset: D
    /// The number of examples per batch (the last batch may be smaller unless `dropLast`).
    public let batchSize: Int
    /// Whether each epoch visits the examples in a fresh random order.
    public let shuffle: Bool
    /// The seed that, with the epoch number, fixes each epoch's order.
    public let seed: UInt64
    /// Whether a final batch smaller than `batchSize` is left out.
    public let dropLast: Bool
    /// How many batches a background thread prepares ahead (0: none, batches are made on demand).
    public let prefetch: Int
    /// How many threads make batches concurrently (0: none beyond the prefetch thread).
    public let workers: Int
    /// The order of each epoch's indices, when not sequential or shuffled.
    public let sampler: (any Sampler)?
    /// Combines one batch's examples.
    public let collate: ([D.Element]) -> Batch
    /// The epoch the next `for` loop (``makeIterator()``) will produce; counts from 0. Settable to resume.
    public var epoch: Int = 0

    /// A loader that combines each batch's examples with `collate`.
    ///
    /// - Precondition: `batchSize > 0`, `prefetch >= 0`, `workers >= 0`; no `shuffle` with a `sampler`.
    public init(_ dataset: D, batchSize: Int, shuffle: Bool = false, seed: UInt64 = 0,
                dropLast: Bool = false, prefetch: Int = 0, workers: Int = 0, sampler: (any Sampler)? = nil,
                collate: @escaping ([D.Element]) -> Batch) {
        precondition(batchSize > 0, "DataLoader: batchSize must be positive, got \(batchSize)")
        precondition(prefetch >= 0, "DataLoader: prefetch must be non-negative, got \(prefetch)")
        precondition(workers >= 0, "DataLoader: workers must be non-negative, got \(workers)")
        precondition(!(shuffle && sampler != nil), "DataLoader: shuffle and a sampler exclude each other; the sampler sets the order")
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.dropLast = dropLast
        self.prefetch = prefetch
        self.workers = workers
        self.sampler = sampler
        self.collate = collate
    }

    /// The number of batches in one epoch.
    public var count: Int {
        let n = sampler?.count ?? dataset.count
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize
    }

    /// The order in which epoch `epoch` visits the dataset's indices.
    public func order(epoch: Int) -> [Int] {
        if let sampler { return sampler.indices(epoch: epoch) }
        guard shuffle else { return Array(0..<dataset.count) }
        return RandomGenerator(seed: epochSeed(seed, epoch)).permutation(dataset.count)
    }

    /// Epoch `epoch`'s batches, without advancing ``epoch``.
    public func batches(epoch: Int) -> Iterator {
        let order = self.order(epoch: epoch)
        let batchSize = self.batchSize, dataset = self.dataset, collate = self.collate
        let ranges = (0..<count).map { b in (b * batchSize)..<Swift.min((b + 1) * batchSize, order.count) }
        let make: @Sendable (Int) -> Batch = { [unchecked = UncheckedBox((dataset, collate))] b in
            let (dataset, collate) = unchecked.value
            return collate(ranges[b].map { dataset.element(at: order[$0]) })
        }
        return Iterator(batchCount: ranges.count, make: make, prefetch: prefetch, workers: workers)
    }

    /// Starts the next epoch: returns its batches and advances ``epoch``.
    public func makeIterator() -> Iterator {
        defer { epoch += 1 }
        return batches(epoch: epoch)
    }

    /// The batches of one epoch, in order.
    public struct Iterator: IteratorProtocol {
        private let batchCount: Int
        private let make: @Sendable (Int) -> Batch
        private let prefetcher: Prefetcher<Batch>?
        private var position = 0

        init(batchCount: Int, make: @escaping @Sendable (Int) -> Batch, prefetch: Int, workers: Int) {
            self.batchCount = batchCount
            self.make = make
            self.prefetcher = (prefetch > 0 || workers > 0) && batchCount > 0
                ? Prefetcher(count: batchCount, capacity: Swift.max(prefetch, 2 * workers), workers: Swift.max(workers, 1), make: make)
                : nil
        }

        /// The next batch, or `nil` after the last.
        public mutating func next() -> Batch? {
            guard position < batchCount else { return nil }
            defer { position += 1 }
            if let prefetcher { return prefetcher.take() }
            return make(position)
        }
    }
}

extension DataLoader {
    /// A loader whose batches are the examples collated with ``Collatable/collate(_:)``
    /// (e.g. `Tensor` examples `[...]` become a `Tensor` `[B, ...]`).
    public convenience init(_ dataset: D, batchSize: Int, shuffle: Bool = false, seed: UInt64 = 0,
                            dropLast: Bool = false, prefetch: Int = 0, workers: Int = 0, sampler: (any Sampler)? = nil)
    where D.Element: Collatable, Batch == D.Element.Batch {
        self.init(dataset, batchSize: batchSize, shuffle: shuffle, seed: seed, dropLast: dropLast,
                  prefetch: prefetch, workers: workers, sampler: sampler, collate: D.Element.collate)
    }

    /// A loader over pairs whose batches collate each component: a dataset of `(Tensor, Int)`
    /// (image, label) gives batches `(Tensor [B, ...], [Int])`.
    public convenience init<A: Collatable, B: Collatable>(
        _ dataset: D, batchSize: Int, shuffle: Bool = false, seed: UInt64 = 0,
        dropLast: Bool = false, prefetch: Int = 0, workers: Int = 0, sampler: (any Sampler)? = nil
    ) where D.Element == (A, B), Batch == (A.Batch, B.Batch) {
        self.init(dataset, batchSize: batchSize, shuffle: shuffle, seed: seed, dropLast: dropLast,
                  prefetch: prefetch, workers: workers, sampler: sampler, collate: { pairs in (A.collate(pairs.map { $0.0 }), B.collate(pairs.map { $0.1 })) })
    }
}

/// A seed for epoch `epoch` of a loader seeded with `seed`: a 64-bit mix of both, so neighbouring
/// epochs get unrelated generator states.
func epochSeed(_ seed: UInt64, _ epoch: Int) -> UInt64 {
    var z = seed ^ (UInt64(bitPattern: Int64(epoch)) &* 0xD6E8_FEB8_6659_FD93)
    z = (z ^ (z >> 32)) &* 0xD6E8_FEB8_6659_FD93
    z = (z ^ (z >> 32)) &* 0xD6E8_FEB8_6659_FD93
    return z ^ (z >> 32)
}

/// Moves a value that is only ever used by one thread at a time across a thread boundary.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
