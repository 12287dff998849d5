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
