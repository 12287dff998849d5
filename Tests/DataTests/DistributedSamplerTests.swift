import Testing
@testable import Data
import AutoGrad

/// DistributedSampler against PyTorch's rules, worked out by hand, and against a single-process DataLoader.
@Suite struct DistributedSamplerTests {
    /// Without shuffling, 10 examples over 3 ranks pad to 12 by repeating the first two: rank r takes r, r+3, r+6, r+9.
    @Test func padsWithTheFirstIndicesAndInterleaves() {
        let shards = (0..<3).map { DistributedSampler(count: 10, worldSize: 3, rank: $0, shuffle: false).indices(epoch: 0) }
        #expect(shards == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]])
        let dropped = (0..<3).map { DistributedSampler(count: 10, worldSize: 3, rank: $0, shuffle: false, dropLast: true).indices(epoch: 0) }
        #expect(dropped == [[0, 3, 6], [1, 4, 7], [2, 5, 8]])
        // Fewer examples than ranks: padding repeats the list as often as needed.
        let tiny = (0..<4).map { DistributedSampler(count: 1, worldSize: 4, rank: $0, shuffle: false).indices(epoch: 0) }
        #expect(tiny == [[0], [0], [0], [0]])
    }

    /// Shuffled shards cover the epoch exactly once, change with the epoch, and — batch by batch — hold the examples
    /// of a single process's batch of the global size with the same seed.
    @Test func shardsMakeUpTheSingleProcessBatches() {
        let count = 96, world = 2, perRank = 8
        let samplers = (0..<world).map { DistributedSampler(count: count, worldSize: world, rank: $0, seed: 5) }
        let loader = DataLoader(ArrayDataset(Array(0..<count).map { Tensor([Float($0)]) }), batchSize: perRank * world,
                                shuffle: true, seed: 5)
        for epoch in 0..<2 {
            let shards = samplers.map { $0.indices(epoch: epoch) }
            #expect(Set(shards.joined()) == Set(0..<count) && shards.joined().count == count)
            let single = loader.order(epoch: epoch)
            for b in 0..<(count / (perRank * world)) {
                let together = shards.flatMap { $0[(b * perRank)..<((b + 1) * perRank)] }
                #expect(Set(together) == Set(single[(b * perRank * world)..<((b + 1) * perRank * world)]), "batch \(b) of epoch \(epoch)")
            }
        }
        #expect(samplers[0].indices(epoch: 0) != samplers[0].indices(epoch: 1))
    }

    /// A per-example tensor drawn for the global batch follows the examples: row i of rank r's share is the row of the
    /// global batch at the place of rank r's i-th example, so that noise pairs with the same images as in one process.
    @Test func rowsFollowTheExamplesOfTheGlobalBatch() {
        let count = 24, world = 3, perRank = 4, global = perRank * world
        let loader = DataLoader(ArrayDataset(Array(0..<count).map { Tensor([Float($0)]) }), batchSize: global, shuffle: true, seed: 3)
        let single = loader.order(epoch: 1)
        // The "noise" of each place in the global batch of batch 1: the example index it pairs with in one process.
        let noise = Tensor(shape: [global, 1], scalars: (0..<global).map { Float(single[global + $0]) })
        for rank in 0..<world {
            let sampler = DistributedSampler(count: count, worldSize: world, rank: rank, seed: 3)
            let examples = Array(sampler.indices(epoch: 1)[perRank..<(2 * perRank)])
            let rows = sampler.rows(of: noise)
            #expect(rows.shape == [perRank, 1])
            #expect(rows.floats.map { Int($0) } == examples, "rank \(rank)")
        }
        let one = DistributedSampler(count: count, worldSize: 1, rank: 0)
        #expect(one.rows(of: noise) == noise)
    }
}
