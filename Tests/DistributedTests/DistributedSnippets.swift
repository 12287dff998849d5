import Data
import Distributed
import NN
import Optim

// The snippet of the Distributed article as the doc shows it (scripts/sync-doc-snippets.py copies it here,
// DocSnippetSyncTests fails when they differ); compiled, not run: it needs mpirun and Fashion-MNIST.
func distributedOverview(train: FashionMNIST) throws {
    // snippet: Sources/Distributed/Distributed.docc/Distributed.md#1
    let group = try ProcessGroup.world()
    group.abortingOnError {
        let model = Sequential(Linear(784, 512), ReLU(), Linear(512, 10))
        let parallel = DistributedDataParallel(model, group: group)        // rank 0's weights everywhere
        let optimizer = Adam(model.parameters(), learningRate: 1e-3)
        let sampler = DistributedSampler(count: train.count, worldSize: group.worldSize, rank: group.rank, seed: 0)
        for epoch in 0..<5 {
            for (images, labels) in DataLoader(sampler.shard(train, epoch: epoch), batchSize: 64 / group.worldSize) {
                optimizer.zeroGrad()
                crossEntropy(model(Variable(images.reshaped([-1, 784]))), labels).backward()
                parallel.synchronizeGradients()
                optimizer.step()
            }
            if group.isMain { print("epoch \(epoch) done") }               // log and save from rank 0 only
        }
    }
    // end snippet
}

// The swift snippets of Distributed's `///` comments, copied and checked the same way; compiled, not run.

// MARK: Sources/Distributed/Collectives.swift

func collectivesComment(group: ProcessGroup, loss: Double) {
    // snippet: Sources/Distributed/Collectives.swift#1
    let meanLoss = group.allReduce(Tensor([Float(loss)]), .average)
    // end snippet
    _ = meanLoss
}

// MARK: Sources/Distributed/DistributedDataParallel.swift

func distributedDataParallelComment(makeModel: () -> Module, shardLoader: [(Tensor, [Int])]) throws {
    // snippet: Sources/Distributed/DistributedDataParallel.swift#1
    let group = try ProcessGroup.world()
    let model = makeModel()
    let parallel = DistributedDataParallel(model, group: group)   // rank 0's parameters everywhere
    let optimizer = Adam(model.parameters(), learningRate: 1e-3)
    for (images, labels) in shardLoader {                          // this rank's share of the global batch
        optimizer.zeroGrad()
        crossEntropy(model(Variable(images)), labels).backward()   // all-reduces start during backward
        parallel.synchronizeGradients()                             // wait: grads are now the ranks' mean
        optimizer.step()
    }
    // end snippet
}

// MARK: Sources/Distributed/ProcessGroup.swift

func processGroupComment() throws {
    // snippet: Sources/Distributed/ProcessGroup.swift#1
    let group = try ProcessGroup.world()
    if group.isMain { print("training on \(group.worldSize) processes") }
    let total = group.allReduce(Tensor([Float(group.rank)]))   // 0 + 1 + … on every rank
    // end snippet
    _ = total
}
