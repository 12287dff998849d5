import Data
import Foundation
import NN
import Optim
import Testing
import Training

// The snippets of the README and of the NN, Optim, Data and Training articles as the docs show them
// (scripts/sync-doc-snippets.py copies them here, DocSnippetSyncTests fails when they differ). Each sits in a
// function whose parameters are what the snippet assumes; those that need no data on disk also run.

func readmeQuickStart(images: Tensor, labels: [Int]) {
    // snippet: README.md#1
    let model = Sequential(Linear(784, 512), ReLU(), Linear(512, 10))
    let optimizer = Adam(model.parameters(), learningRate: 1e-3)

    let loss = crossEntropy(model(Variable(images)), labels)   // images: Tensor [64, 784], labels: [Int]
    optimizer.zeroGrad()
    loss.backward()
    optimizer.step()
    // end snippet
}

func nnOverview(images: Tensor, labels: [Int]) {
    // snippet: Sources/NN/NN.docc/NN.md#1
    let model = Sequential(
        Flatten(),
        Linear(784, 128), ReLU(),
        Dropout(p: 0.2),
        Linear(128, 10)
    )
    let logits = model(Variable(images))          // [batch, 10]
    let loss = crossEntropy(logits, labels)        // mean over the batch
    model.zeroGrad()
    loss.backward()
    // an optimiser from the Optim module updates model.parameters()
    // end snippet
}

func nnCustomModule() {
    // snippet: Sources/NN/NN.docc/NN.md#2
    final class ResidualBlock: Module {
        let fc1: Linear
        let fc2: Linear
        @Parameter var gate: Variable
        @Buffer var calls: Tensor = Tensor.zeros([])

        init(width: Int) {
            fc1 = Linear(width, width)
            fc2 = Linear(width, width)
            gate = Variable(Tensor.zeros([1]))
            super.init()
        }

        override func forward(_ x: Variable) -> Variable {
            if isTraining { calls = calls + 1 }
            return x + fc2(gelu(fc1(x))) * gate
        }
    }

    let block = ResidualBlock(width: 64)
    print(block.namedParameters().map(\.name))
    // ["gate", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    // end snippet
}

func optimOverview<Batches: Sequence>(model: Module, loader: Batches) where Batches.Element == (Tensor, [Int]) {
    // snippet: Sources/Optim/Optim.docc/Optim.md#1
    let optimizer = AdamW(model.parameters(), learningRate: 3e-4)
    let schedule = LinearWarmup(optimizer, startFactor: 0.01, totalEpochs: 5,
                                then: CosineAnnealingLR(optimizer, period: 95))
    for _ in 0..<100 {
        for (x, y) in loader {
            optimizer.zeroGrad()
            let loss = crossEntropy(model(Variable(x)), y)
            loss.backward()
            clipGradNorm(optimizer.parameters(), maxNorm: 1)
            optimizer.step()
        }
        schedule.step()
    }
    // end snippet
}

func optimParameterGroups(encoder: Module, biases: [Variable]) {
    // snippet: Sources/Optim/Optim.docc/Optim.md#2
    let sgd = SGD(groups: [
        ParameterGroup(parameters: encoder.parameters(), learningRate: 1e-3),
        ParameterGroup(parameters: biases, weightDecay: 0) { $0.momentum = 0.5 },
    ], learningRate: 1e-2, momentum: 0.9, weightDecay: 5e-4)
    // end snippet
    _ = sgd
}

func optimNonFiniteCheck(model: Module, optimizer: Optimizer, x: Tensor, y: [Int], step: Int) throws {
    // snippet: Sources/Optim/Optim.docc/Optim.md#3
    let loss = crossEntropy(model(Variable(x)), y)
    try NonFiniteCheck.loss(loss, step: step)
    loss.backward()
    try NonFiniteCheck.gradients(model.namedParameters(), step: step)
    optimizer.step()
    // end snippet
}

func dataLoading(dataDir: String, losses: [Double], trainStep: (Tensor, [Int]) -> Void) throws {
    // snippet: Sources/Data/Data.docc/Data.md#1
    let train = try FashionMNIST(directory: dataDir, split: .train)
    let parts = randomSplit(train, [50000, 10000], seed: 0)
    let loader = DataLoader(parts[0], batchSize: 64, shuffle: true, seed: 0, dropLast: true, prefetch: 2)
    for _ in 0..<10 {
        for (images, labels) in loader {      // Tensor [64, 1, 28, 28], [Int]
            trainStep(images, labels)         // forward, loss, backward, step
        }
    }

    var plot = Plot(title: "Fashion-MNIST", xLabel: "step", legend: .summary)
    plot.add("train loss", y: losses)
    try plot.save(to: URL(fileURLWithPath: "loss.png"))
    // end snippet
}

func dataAugmentation(dataDir: String) throws {
    // snippet: Sources/Data/Data.docc/Data.md#2
    let cifar = try CIFAR10(directory: dataDir, split: .train)
    let augment = RandomTransform.randomCrop(size: 32, padding: 4).then(.randomHorizontalFlip())
    let loader = DataLoader(cifar.augmentingInputs(augment, seed: 0), batchSize: 128, shuffle: true, seed: 0)
    // end snippet
    _ = loader
}

func trainingCheckpoints(model: Module, optimizer: Optimizer, schedule: any CheckpointableSchedule, totalSteps: Int,
                         trainOneStep: () -> Void) throws {
    // snippet: Sources/Training/Training.docc/Training.md#1
    let checkpoints = try CheckpointDirectory(URL(fileURLWithPath: "runs/mlp"), keepLast: 3)
    let state = TrainingState(model: model, optimizer: optimizer, schedule: schedule)
    var step = try checkpoints.restoreLatest(into: state)?.step ?? 0
    while step < totalSteps {
        trainOneStep()
        step += 1
        if step % 500 == 0 { try checkpoints.save(state, step: step) }
    }
    // end snippet
}

func trainingParts(generator: Module, optimizerG: Optimizer, discriminator: Module, optimizerD: Optimizer) {
    // snippet: Sources/Training/Training.docc/Training.md#2
    let state = TrainingState(model: generator, optimizer: optimizerG, parts: [
        "discriminator": .model(discriminator),
        "optimizer-discriminator": .optimizer(optimizerD),
    ])
    // end snippet
    _ = state
}

@Suite struct LibrarySnippetRuns {
    @Test func modelSnippetsRun() throws {
        let images = Tensor.rand([4, 784]), labels = [1, 0, 3, 9]
        readmeQuickStart(images: images, labels: labels)
        nnOverview(images: images, labels: labels)
        nnCustomModule()
        let model = Sequential(Linear(784, 10))
        optimOverview(model: model, loader: [(images, labels)])
        try optimNonFiniteCheck(model: model, optimizer: SGD(model.parameters(), learningRate: 0.1), x: images, y: labels,
                                step: 1)
    }
}

func compressionDistillation(teacher: Module, student: Module, images: Tensor, labels: [Int]) {
    // snippet: Sources/NN/NN.docc/Compression.md#1
    let teacherLogits = Graph.noGrad { teacher(Variable(images)).value }
    let loss = distillationLoss(student(Variable(images)), Variable(teacherLogits), labels, temperature: 2, alpha: 0.5)
    // end snippet
    _ = loss
}

func compressionPruning(model: Sequential, step: Int) {
    // snippet: Sources/NN/NN.docc/Compression.md#2
    let targets: [MagnitudePruning.Target] = [(model[0], "weight"), (model[4], "weight"), (model[6], "weight")]
    let schedule = PolynomialSparsitySchedule(final: 0.9, begin: 0, end: 600)
    // every 20 training steps:
    MagnitudePruning.prune(targets, toSparsity: schedule.sparsity(at: step))
    // after fine-tuning:
    for (module, name) in targets { module.removePruning(name) }
    // end snippet
}

func compressionChannelPruning(model: Sequential) -> Sequential {
    // snippet: Sources/NN/NN.docc/Compression.md#3
    // W2: Conv2d(1, 32, 3), ReLU, MaxPool2d(2), Flatten, Linear(5408, 128), ReLU, Linear(128, 10)
    let smaller = StructuredPruning.removeChannels(of: model, at: 0, keep: 16)   // Conv2d(1, 16, 3), …, Linear(2704, 128)
    // end snippet
    return smaller
}

func compressionStaticQuantization(model: Sequential, images: Tensor, url: URL) throws -> Sequential {
    // snippet: Sources/NN/NN.docc/Compression.md#4
    let calibration = (0..<16).map { images.sliced(axis: 0, start: $0 * 64, end: $0 * 64 + 64) }
    let int8 = quantizeStatic(model, calibration: calibration)
    try int8.saveQuantized(to: url)   // I8 weights, F32 scales, input_scale and input_zero_point per convolution
    // end snippet
    return int8
}
