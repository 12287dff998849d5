import Distributed
import Foundation
import NN
import Optim

/// The workloads of WORKLOADS.md measured data-parallel: the global batch of 64 split over the ranks.
enum ParallelWorkload: String {
    case w1 = "W1", w2 = "W2", w4 = "W4"

    /// One data-parallel training step on a per-rank batch of `batch`.
    func makeStep(batch: Int, group: ProcessGroup) -> () -> Void {
        let generator = RandomGenerator(seed: UInt64(group.rank))
        switch self {
        case .w1:
            return classifierStep(Sequential(Linear(784, 512), ReLU(), Linear(512, 256), ReLU(), Linear(256, 10)),
                                  input: [batch, 784], group: group, generator: generator)
        case .w2:
            return classifierStep(Sequential(Conv2d(1, 32, kernelSize: 3), ReLU(), MaxPool2d(kernelSize: 2), Flatten(),
                                             Linear(5408, 128), ReLU(), Linear(128, 10)),
                                  input: [batch, 1, 28, 28], group: group, generator: generator)
        case .w4:
            return dcganStep(batch: batch, group: group, generator: generator)
        }
    }
}

/// Cross-entropy and Adam(1e-3) on fixed random inputs, gradients averaged over the ranks.
private func classifierStep(_ model: Module, input: [Int], group: ProcessGroup, generator: RandomGenerator) -> () -> Void {
    let parallel = DistributedDataParallel(model, group: group)
    let optimizer = Adam(model.parameters(), learningRate: 1e-3)
    let x = Variable(Tensor.rand(input, generator: generator))
    let y = (0..<input[0]).map { _ in Int(generator.nextBelow(10)) }
    return {
        optimizer.zeroGrad()
        crossEntropy(model(x), y).backward()
        parallel.synchronizeGradients()
        optimizer.step()
    }
}

/// W4's DCGAN: one discriminator update on real and fake images, then one generator update; both networks
/// data-parallel. The generator's backward runs through the discriminator without sending its gradients.
private func dcganStep(batch: Int, group: ProcessGroup, generator: RandomGenerator) -> () -> Void {
    let netG = DCGANGenerator()
    let netD = Sequential(Conv2d(1, 64, kernelSize: 4, stride: 2, padding: 1), LeakyReLU(negativeSlope: 0.2),
                          Conv2d(64, 128, kernelSize: 4, stride: 2, padding: 1), BatchNorm2d(128),
                          LeakyReLU(negativeSlope: 0.2), Flatten(), Linear(6272, 1))
    let parallelG = DistributedDataParallel(netG, group: group)
    let parallelD = DistributedDataParallel(netD, group: group)
    let optimizerG = Adam(netG.parameters(), learningRate: 2e-4, betas: (0.5, 0.999))
    let optimizerD = Adam(netD.parameters(), learningRate: 2e-4, betas: (0.5, 0.999))
    let real = Variable(Tensor.rand([batch, 1, 28, 28], generator: generator) * 2 - 1)
    let ones = Variable(Tensor.ones([batch, 1])), zeros = Variable(Tensor.zeros([batch, 1]))
    return {
        let fake = netG(Variable(Tensor.randn([batch, 100], generator: generator)))
        optimizerD.zeroGrad()
        (binaryCrossEntropyWithLogits(netD(real), ones) + binaryCrossEntropyWithLogits(netD(fake.detach()), zeros)).backward()
        parallelD.synchronizeGradients()
        optimizerD.step()
        optimizerG.zeroGrad()
        parallelD.withoutGradientSync { binaryCrossEntropyWithLogits(netD(fake), ones).backward() }
        parallelG.synchronizeGradients()
        optimizerG.step()
    }
}

/// Times `steps` steps after 5 warm-up steps on every rank, and prints global samples per second from rank 0 (the
/// slowest rank's time decides: a step ends with a collective).
func measureScaling(_ workload: ParallelWorkload, steps: Int, group: ProcessGroup) {
    let globalBatch = 64
    BLAS.threadCount = 1
    let step = workload.makeStep(batch: globalBatch / group.worldSize, group: group)
    for _ in 0..<5 { step() }
    group.barrier()
    var times: [Double] = []
    for _ in 0..<steps {
        let start = DispatchTime.now().uptimeNanoseconds
        step()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    let median = group.allReduce(Tensor([times.sorted()[times.count / 2]]), .max).item
    if group.isMain {
        print(String(format: "%@ ranks %d × 1 thread: median step %.2f ms, %.0f samples/s (global batch %d)",
                     workload.rawValue, group.worldSize, median * 1e3, Double(globalBatch) / median, globalBatch))
    }
}

/// W4's generator: z 100 → Linear 6272 → BatchNorm1d → ReLU → 128×7×7 → two transposed convolutions up to 1×28×28.
private final class DCGANGenerator: Module {
    let head = Sequential(Linear(100, 6272), BatchNorm1d(6272), ReLU())
    let tail = Sequential(ConvTranspose2d(128, 64, kernelSize: 4, stride: 2, padding: 1), BatchNorm2d(64), ReLU(),
                          ConvTranspose2d(64, 1, kernelSize: 4, stride: 2, padding: 1), Tanh())

    override func forward(_ z: Variable) -> Variable { tail(head(z).reshaped([-1, 128, 7, 7])) }
}
