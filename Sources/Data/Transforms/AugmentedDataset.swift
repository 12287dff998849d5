import Foundation

/// A dataset whose examples pass through a ``RandomTransform`` on every read, with randomness fixed by a
/// seed, the example's index and how many times the example has been read. Made by
/// ``Dataset/augmentingInputs(_:seed:)`` and ``Dataset/augmented(_:seed:)``.
///
/// The `k`-th read of example `i` (counting from 0) draws from a fresh `RandomGenerator` seeded with
/// a mix of `seed`, `i` and `k`. A ``DataLoader`` reads every example once per epoch, so in epoch `k`
/// every example gets its `k`-th augmentation: different every epoch, identical on every run, and
/// independent of the shuffling order, of prefetching on a background thread and of which thread
/// reads which example. ``element(at:)`` is safe to call from several threads (the read counts are
/// locked).
///
/// ```swift
/// let parts = randomSplit(try CIFAR10(directory: dir, split: .train), [45000, 5000], seed: 0)
/// let augment = RandomTransform.randomCrop(size: 32, padding: 4).then(.randomHorizontalFlip())
/// let train = parts[0].augmentingInputs(augment, seed: 1)   // augment after splitting, so validation is not
/// let loader = DataLoader(train, batchSize: 128, shuffle: true, seed: 0, prefetch: 2)
/// ```
///
/// Every read counts, so reading examples outside the loader (say, to plot `train[0]`) moves those
/// examples on to their next augmentation, and an epoch abandoned with `break` while prefetching
/// leaves some examples read ahead. To resume a run at epoch `k`, or to get back in step, call
/// ``resume(atEpoch:)``.
public final class AugmentedDataset<Base: Dataset, Element>: Dataset, @unchecked Sendable {
    /// The underlying dataset.
    public let base: Base
    /// The seed that, with each example's index and read count, fixes its randomness.
    public let seed: UInt64
    /// The function applied to each of `base`'s examples with that read's generator.
    public let augment: (Base.Element, RandomGenerator) -> Element

    private let lock = NSLock()
    private var reads: [Int]

    /// A view of `base` whose examples pass through `augment`.
    public init(_ base: Base, seed: UInt64, augment: @escaping (Base.Element, RandomGenerator) -> Element) {
        self.base = base
        self.seed = seed
        self.augment = augment
        self.reads = [Int](repeating: 0, count: base.count)
    }

    /// The number of examples, the same as `base`'s.
    public var count: Int { base.count }

    /// Example `index` of `base`, augmented with the randomness of its next read.
    public func element(at index: Int) -> Element {
        precondition(index >= 0 && index < reads.count, "AugmentedDataset: index \(index) out of range 0..<\(reads.count)")
        lock.lock()
        let k = reads[index]
        reads[index] += 1
        lock.unlock()
        return element(at: index, read: k)
    }

    /// Example `index` of `base` as augmented on its `read`-th read (counting from 0), without counting a read.
    public func element(at index: Int, read: Int) -> Element {
        augment(base.element(at: index), RandomGenerator(seed: epochSeed(epochSeed(seed, index), read)))
    }

    /// How many times example `index` has been read.
    public func readCount(of index: Int) -> Int {
        lock.lock(); defer { lock.unlock() }
        return reads[index]
    }

    /// Sets every example's read count to `epoch`, so that the next epoch read gives every example its
    /// augmentation of epoch `epoch`.
    ///
    /// - Precondition: `epoch >= 0`.
    public func resume(atEpoch epoch: Int) {
        precondition(epoch >= 0, "AugmentedDataset.resume: negative epoch \(epoch)")
        lock.lock(); defer { lock.unlock() }
        reads = [Int](repeating: epoch, count: reads.count)
    }
}

extension Dataset {
    /// A dataset of `(input, label)` pairs whose inputs pass through the random `transform` on every read,
    /// with fresh, seeded randomness each epoch (see ``AugmentedDataset``).
    ///
    /// ```swift
    /// let train = cifar.augmentingInputs(.randomCrop(size: 32, padding: 4).then(.randomHorizontalFlip()), seed: 0)
    /// ```
    public func augmentingInputs<Input, Label, Output>(
        _ transform: RandomTransform<Input, Output>, seed: UInt64
    ) -> AugmentedDataset<Self, (Output, Label)> where Element == (Input, Label) {
        let f = transform.apply
        return AugmentedDataset(self, seed: seed) { example, g in (f(example.0, g), example.1) }
    }

    /// A dataset whose examples pass through the random `transform` on every read, with fresh, seeded
    /// randomness each epoch (see ``AugmentedDataset``).
    public func augmented<Output>(_ transform: RandomTransform<Element, Output>, seed: UInt64) -> AugmentedDataset<Self, Output> {
        AugmentedDataset(self, seed: seed, augment: transform.apply)
    }
}
