import Data
import Distributed
import Foundation
import NN
import Optim
import Training

/// A small classifier; `seed` fixes its initial weights.
func makeClassifier(seed: UInt64, width: Int = 64, depth: Int = 1) -> Sequential {
    let g = RandomGenerator(seed: seed)
    let hidden = (1..<depth).flatMap { _ in [Linear(width, width, generator: g), Tanh()] as [Module] }
    return Sequential([Linear(20, width, generator: g), Tanh()] + hidden + [Linear(width, 10, generator: g)])
}

/// 640 random examples, the same on every rank.
func syntheticData() -> LabeledTensorDataset {
    let g = RandomGenerator(seed: 99)
    return LabeledTensorDataset(inputs: Tensor.randn([640, 20], generator: g), labels: (0..<640).map { _ in Int(g.nextBelow(10)) })
}

/// One SGD step on a batch: zero, forward, backward, (synchronise), step.
func sgdStep(_ model: Module, _ optimizer: SGD, _ batch: (Tensor, [Int]), parallel: DistributedDataParallel? = nil) {
    optimizer.zeroGrad()
    crossEntropy(model(Variable(batch.0)), batch.1).backward()
    parallel?.synchronizeGradients()
    optimizer.step()
}

/// The parameters flattened into one float64 vector.
func flatParameters(_ model: Module) -> Tensor {
    Tensor(model.parameters().flatMap { $0.value.doubles })
}

/// Data-parallel training with a per-rank batch of 32 against one process training on the global batch of 64 (the
/// reference, computed on every rank): after each of 20 steps the replicas hold bit-identical parameters, and they match
/// the reference to float rounding. Each rank starts from different weights, so the initial broadcast is checked too.
func checkEquivalence(_ group: ProcessGroup, bucketBytes: Int) throws {
    let data = syntheticData()
    let model = makeClassifier(seed: 1000 + UInt64(group.rank))
    let parallel = DistributedDataParallel(model, group: group, bucketCapacityBytes: bucketBytes)
    let optimizer = SGD(model.parameters(), learningRate: 0.1, momentum: 0.9)
    let reference = makeClassifier(seed: 1000)
    let referenceOptimizer = SGD(reference.parameters(), learningRate: 0.1, momentum: 0.9)

    let globalBatch = 64, perRank = globalBatch / group.worldSize
    let sampler = DistributedSampler(count: data.count, worldSize: group.worldSize, rank: group.rank, seed: 7)
    let referenceLoader = DataLoader(data, batchSize: globalBatch, shuffle: true, seed: 7)
    var step = 0, epoch = 0, worst = 0.0
    while step < 20 {
        let shard = DataLoader(sampler.shard(data, epoch: epoch), batchSize: perRank)
        for (batch, referenceBatch) in zip(shard, IteratorSequence(referenceLoader.batches(epoch: epoch))) where step < 20 {
            sgdStep(model, optimizer, batch, parallel: parallel)
            sgdStep(reference, referenceOptimizer, referenceBatch)
            step += 1
            let mine = flatParameters(model)
            let all = group.allGather(mine).doubles
            for r in 1..<group.worldSize where Array(all[r * mine.count..<(r + 1) * mine.count]) != Array(all[..<mine.count]) {
                throw CheckFailure(description: "step \(step): rank \(r)'s parameters differ from rank 0's")
            }
            let difference = zip(mine.doubles, flatParameters(reference).doubles).map { abs($0 - $1) / max(1, abs($1)) }.max()!
            worst = max(worst, difference)
            if difference > 1e-5 {
                throw CheckFailure(description: "step \(step): parameters differ from one process with the global batch by \(difference)")
            }
        }
        epoch += 1
    }
    if group.isMain { print("\(parallel.bucketCount) buckets; largest relative difference from one process: \(worst)") }
}

/// Training in which rank 1 fails at step 3 — by throwing, by dying, by exiting with status 3, or by stalling outside the
/// collectives — while
/// rank 0 trains on; the job must end with an error.
func trainUntilFailure(_ group: ProcessGroup, failure: String) throws {
    let data = syntheticData()
    let model = makeClassifier(seed: 1)
    let parallel = DistributedDataParallel(model, group: group)
    let optimizer = SGD(model.parameters(), learningRate: 0.1)
    let sampler = DistributedSampler(count: data.count, worldSize: group.worldSize, rank: group.rank)
    for epoch in 0..<1000 {
        for (step, batch) in DataLoader(sampler.shard(data, epoch: epoch), batchSize: 32).enumerated() {
            if group.rank == 1 && step == 3 {
                switch failure {
                case "throw": throw CheckFailure(description: "rank 1 fails on purpose")
                case "crash": kill(getpid(), SIGKILL)
                case "exit": exit(3)
                default: sleep(100_000)
                }
            }
            sgdStep(model, optimizer, batch, parallel: parallel)
        }
    }
}

/// After two data-parallel steps, rank 0 saves checkpoint sets back to back while rank 1 throws half a second later, so
/// the job is aborted at an arbitrary point of a save (most of rank 0's time is spent inside one). The test then checks
/// that every set in the directory is complete.
func saveWhileAnotherRankFails(_ group: ProcessGroup, directory: URL) throws {
    let data = syntheticData()
    let model = makeClassifier(seed: 1, width: 256, depth: 2)
    let parallel = DistributedDataParallel(model, group: group)
    let optimizer = SGD(model.parameters(), learningRate: 0.01, momentum: 0.9)
    let sampler = DistributedSampler(count: data.count, worldSize: group.worldSize, rank: group.rank)
    for batch in DataLoader(sampler.shard(data, epoch: 0), batchSize: 32).prefix(2) {
        sgdStep(model, optimizer, batch, parallel: parallel)
    }
    group.barrier()
    guard group.isMain else {
        usleep(500_000)
        throw CheckFailure(description: "rank 1 fails on purpose while rank 0 saves")
    }
    let checkpoints = try CheckpointDirectory(directory, keepLast: 100_000)
    for step in 1...10_000 { try checkpoints.save(TrainingState(model: model, optimizer: optimizer), step: step) }
    throw CheckFailure(description: "rank 0 saved 10,000 sets without being stopped")
}

/// `checkReplicasMatch()` passes after data-parallel steps and, once rank 1 alone has changed one weight, fails on every
/// rank naming that parameter.
func checkReplicaCheck(_ group: ProcessGroup) throws {
    let data = syntheticData()
    let model = makeClassifier(seed: 1)
    let parallel = DistributedDataParallel(model, group: group)
    let optimizer = SGD(model.parameters(), learningRate: 0.1)
    let sampler = DistributedSampler(count: data.count, worldSize: group.worldSize, rank: group.rank)
    for batch in DataLoader(sampler.shard(data, epoch: 0), batchSize: 32).prefix(2) {
        sgdStep(model, optimizer, batch, parallel: parallel)
        try parallel.checkReplicasMatch()
    }
    let last = model.namedParameters()[2]
    if group.rank == 1 { last.variable.value = last.variable.value + 1e-3 }
    do {
        try parallel.checkReplicasMatch()
        throw CheckFailure(description: "checkReplicasMatch() missed a difference of 1e-3 in \(last.name)")
    } catch DistributedError.replicasDiffer(let parameter, let difference) {
        try expect(parameter == last.name && abs(difference - 1e-3) < 1e-6, "the replica check's report (\(parameter), \(difference))")
    }
    if group.isMain { print("replicas differ in \(last.name) as expected") }
}
