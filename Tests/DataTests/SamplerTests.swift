import Foundation
import Testing
@testable import Data

@Suite struct SamplerTests {
    @Test func subsetRandomSamplerVisitsEachIndexOnceInAFreshOrderPerEpoch() {
        let sampler = SubsetRandomSampler([3, 5, 8, 13, 21, 34], seed: 9)
        let first = sampler.indices(epoch: 0), second = sampler.indices(epoch: 1)
        #expect(first.sorted() == [3, 5, 8, 13, 21, 34] && second.sorted() == first.sorted())
        #expect(first != second && sampler.indices(epoch: 0) == first && sampler.count == 6)
    }

    @Test func weightedDrawsWithReplacementFollowTheWeights() {
        let weights = [1.0, 0, 3, 6]
        let sampler = WeightedRandomSampler(weights: weights, sampleCount: 20_000, seed: 4)
        var counts = [0, 0, 0, 0]
        for i in sampler.indices(epoch: 0) { counts[i] += 1 }
        #expect(counts[1] == 0)
        // Binomial standard deviations are at most √(20000 · 0.25) ≈ 71: allow five of them.
        for (c, w) in zip(counts, weights) { #expect(abs(Double(c) - 20_000 * w / 10) < 360) }
        #expect(sampler.indices(epoch: 3) == sampler.indices(epoch: 3) && sampler.indices(epoch: 3) != sampler.indices(epoch: 4))
    }

    @Test func weightedDrawsWithoutReplacementAreDistinctAndFavourHeavyIndices() {
        let sampler = WeightedRandomSampler(weights: [100, 1, 1, 1, 0, 1], sampleCount: 3, replacement: false, seed: 1)
        var firstIsHeavy = 0
        for epoch in 0..<200 {
            let drawn = sampler.indices(epoch: epoch)
            #expect(Set(drawn).count == 3 && !drawn.contains(4))
            if drawn[0] == 0 { firstIsHeavy += 1 }
        }
        // Index 0 comes first with probability 100/104.
        #expect(firstIsHeavy > 180)
    }

    @Test func aLoaderWithASamplerBatchesItsIndices() {
        let data = ArrayDataset(Array(0..<10))
        let sampler = SubsetRandomSampler([1, 3, 5, 7, 9], seed: 2)
        let loader = DataLoader(data, batchSize: 2, sampler: sampler) { $0 }
        #expect(loader.count == 3)
        let batches = Array(IteratorSequence(loader.batches(epoch: 0)))
        #expect(batches.flatMap { $0 } == sampler.indices(epoch: 0) && batches.map(\.count) == [2, 2, 1])
    }

    @Test func workerThreadsGiveTheSameBatchesAsNone() {
        // Elements that take uneven time to make, so workers finish out of order.
        let data = ArrayDataset(Array(0..<97)).map { i -> Int in
            usleep(useconds_t((i * 7919) % 5) * 200)
            return i
        }
        let reference = Array(IteratorSequence(DataLoader(data, batchSize: 4, shuffle: true, seed: 3) { $0 }.batches(epoch: 2)))
        for workers in [1, 3, 8] {
            let loader = DataLoader(data, batchSize: 4, shuffle: true, seed: 3, workers: workers) { $0 }
            #expect(Array(IteratorSequence(loader.batches(epoch: 2))) == reference, "\(workers) workers")
        }
        // An epoch abandoned early stops its workers instead of hanging.
        for batch in DataLoader(data, batchSize: 4, workers: 4, collate: { $0 }) where batch[0] >= 8 { break }
    }
}
