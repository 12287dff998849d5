import Data
import Distributed
import Foundation
import NN
import Optim
import Training

/// What one classifier-training run uses.
public struct ClassifierTrainingConfiguration {
    public var epochs: Int
    public var batchSize: Int
    public var seed: UInt64
    /// Where curves and checkpoints go.
    public var outputDirectory: String
    /// A short name for titles and checkpoint metadata, e.g. "mlp".
    public var modelName: String
    /// Steps per epoch to run (all when nil); smoke tests use a few.
    public var stepLimit: Int?
    /// Where a checkpoint set (model, optimizer, step, RNG) is saved after every epoch; none when nil.
    public var checkpointDirectory: String?
    /// Whether to continue from the newest complete set in ``checkpointDirectory`` (from the start when there is none).
    public var resume: Bool
    /// The ranks to train on data-parallel, `batchSize` being the global batch; one process when nil.
    public var group: ProcessGroup?

    public init(epochs: Int = 5, batchSize: Int = 64, seed: UInt64 = 0, outputDirectory: String,
                modelName: String, stepLimit: Int? = nil, checkpointDirectory: String? = nil, resume: Bool = false,
                group: ProcessGroup? = nil) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.seed = seed
        self.outputDirectory = outputDirectory
        self.modelName = modelName
        self.stepLimit = stepLimit
        self.checkpointDirectory = checkpointDirectory
        self.resume = resume
        self.group = group
    }
}

/// What a classifier-training run measured.
public struct ClassifierTrainingResult {
    public var testAccuracy: [Double] = []
    public var secondsPerEpoch: [Double] = []
    /// Median milliseconds of one training step (forward, backward, optimiser step), per epoch.
    public var msPerStep: [Double] = []
    public var stepLosses: [Double] = []
    public var confusion: ConfusionMatrix
}

/// Test-set confusion matrix of `model`, evaluated in eval mode without recording.
///
/// `prepare` turns a collated image batch into the model's input (e.g. flattening for an MLP).
public func evaluateClassifier<D: Dataset>(_ model: Module, on test: D, classNames: [String],
                                           prepare: (Tensor) -> Tensor = { $0 }) -> ConfusionMatrix
where D.Element == (Tensor, Int) {
    model.eval()
    defer { model.train() }
    var confusion = ConfusionMatrix(classNames: classNames)
    Graph.noGrad {
        for (images, labels) in DataLoader(test, batchSize: 500) {
            confusion.add(truth: labels, predicted: model(Variable(prepare(images))).value.argmax(axis: 1))
        }
    }
    return confusion
}

/// Trains `model` with cross-entropy: a progress bar per epoch, test accuracy after each, then the
/// confusion matrix, loss and accuracy curves (PNG) and checkpoints of model and optimiser.
///
/// With ``ClassifierTrainingConfiguration/checkpointDirectory`` it saves a checkpoint set after every epoch; with
/// ``ClassifierTrainingConfiguration/resume`` it first restores the newest complete one and calls `resumeData` with
/// the number of epochs it holds, so that data with per-epoch state (an ``AugmentedDataset``) can catch up.
///
/// With ``ClassifierTrainingConfiguration/group`` each rank trains on its ``DistributedSampler`` share of every global
/// batch and the gradients are averaged over ranks (``DistributedDataParallel``); the loss reported is the mean over
/// ranks, and only rank 0 evaluates and writes checkpoints and outputs. On resume every rank reads the checkpoint, so
/// that the optimizer's state is the same on all.
///
/// - Throws: ``NonFiniteError`` at the first NaN or infinite loss or gradient (before the optimizer
///   step it would poison, and before anything is written); ``CheckpointError`` for a set that does not fit;
///   or the error of a file that could not be written.
public func trainClassifier<D: Dataset, T: Dataset>(
    _ model: Module, optimizer: Optimizer, configuration: ClassifierTrainingConfiguration,
    train: D, test: T, classNames: [String], prepare: (Tensor) -> Tensor = { $0 },
    resumeData: (Int) -> Void = { _ in }, log: (String) -> Void = { print($0) }
) throws -> ClassifierTrainingResult where D.Element == (Tensor, Int), T.Element == (Tensor, Int) {
    let group = configuration.group
    let isMain = group?.isMain ?? true
    // One process reads the global batch; a rank reads its share of it, in the same order (see DistributedSampler).
    // With one rank the sampler's order is a shuffled DataLoader's with the same seed.
    let sampler = DistributedSampler(count: train.count, worldSize: group?.worldSize ?? 1, rank: group?.rank ?? 0,
                                     seed: configuration.seed)
    let localBatch = configuration.batchSize / sampler.worldSize
    func batches(epoch: Int) -> DataLoader<Subset<D>, (Tensor, [Int])>.Iterator {
        DataLoader(sampler.shard(train, epoch: epoch), batchSize: localBatch, prefetch: 2).batches(epoch: epoch)
    }
    var result = ClassifierTrainingResult(confusion: ConfusionMatrix(classNames: classNames))
    let batchCount = (sampler.samplesPerRank + localBatch - 1) / localBatch
    let stepsPerEpoch = min(batchCount, configuration.stepLimit ?? .max)
    model.train()

    // Sets are saved at the end of an epoch; the loader's order depends only on its seed and the epoch number,
    // so a resumed run sees the same batches an uninterrupted one would.
    let checkpoints = try configuration.checkpointDirectory.map { try CheckpointDirectory(URL(fileURLWithPath: $0)) }
    let state = TrainingState(model: model, optimizer: optimizer)
    var firstEpoch = 1
    if configuration.resume, let checkpoints, let set = try checkpoints.restoreLatest(into: state) {
        guard let epoch = set.metadata["epoch"].flatMap(Int.init), epoch >= 1 else {
            throw CheckpointError.mismatch(path: set.url.path, reason: "its metadata names no epoch")
        }
        firstEpoch = epoch + 1
        resumeData(epoch)
        log("resumed from \(set.url.path) (epoch \(epoch), step \(set.step))")
    }
    // After a resume, so that rank 0's restored parameters are the ones broadcast.
    let parallel = group.map { DistributedDataParallel(model, group: $0) }

    for epoch in firstEpoch..<(configuration.epochs + 1) {
        let progress = ProgressBar(total: stepsPerEpoch, label: "epoch \(epoch)/\(configuration.epochs)")
        var runningLoss = 0.0
        var stepTimes: [Double] = []
        for (step, (images, labels)) in IteratorSequence(batches(epoch: epoch - 1)).enumerated() {
            if step == stepsPerEpoch { break }
            let globalStep = (epoch - 1) * stepsPerEpoch + step + 1
            let start = DispatchTime.now().uptimeNanoseconds
            let loss = crossEntropy(model(Variable(prepare(images))), labels)
            try NonFiniteCheck.loss(loss, step: globalStep)
            optimizer.zeroGrad()
            loss.backward()
            parallel?.synchronizeGradients()
            // The check reads every gradient once; its time is left out of the step time reported.
            let checkStart = DispatchTime.now().uptimeNanoseconds
            try NonFiniteCheck.gradients(model.namedParameters(), step: globalStep)
            let checkNanoseconds = DispatchTime.now().uptimeNanoseconds - checkStart
            optimizer.step()
            stepTimes.append(Double(DispatchTime.now().uptimeNanoseconds - start - checkNanoseconds) / 1e6)
            let value = group?.allReduce(loss.value, .average).item ?? loss.value.item
            result.stepLosses.append(value)
            runningLoss = step == 0 ? value : 0.98 * runningLoss + 0.02 * value
            progress.advance(metrics: ["loss": runningLoss])
        }
        result.secondsPerEpoch.append(progress.elapsed)
        result.msPerStep.append(stepTimes.sorted()[stepTimes.count / 2])
        guard isMain else { continue }
        result.confusion = evaluateClassifier(model, on: test, classNames: classNames, prepare: prepare)
        result.testAccuracy.append(result.confusion.accuracy)
        log(String(format: "epoch %d: test accuracy %.4f  (%.1f s, %.2f ms per step)", epoch, result.confusion.accuracy,
                   progress.elapsed, result.msPerStep.last!))
        try checkpoints?.save(state, step: epoch * stepsPerEpoch,
                              metadata: ["model": configuration.modelName, "epoch": "\(epoch)"])
    }

    guard isMain else { return result }
    log("\nconfusion matrix on the test set (rows: true class, columns: predicted):\n" + result.confusion.table)
    log("\n" + result.confusion.report)
    try writeClassifierOutputs(result, model: model, optimizer: optimizer, configuration: configuration, log: log)
    return result
}

private func writeClassifierOutputs(_ result: ClassifierTrainingResult, model: Module, optimizer: Optimizer,
                                    configuration: ClassifierTrainingConfiguration, log: (String) -> Void) throws {
    let directory = URL(fileURLWithPath: configuration.outputDirectory)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)

    var lossPlot = Plot(title: "\(configuration.modelName) training loss", xLabel: "step", yLabel: "cross-entropy",
                        legend: .summary)
    lossPlot.add("train loss", y: result.stepLosses)
    lossPlot.add("running mean (100 steps)", y: movingAverage(result.stepLosses, window: 100))
    try lossPlot.save(to: directory.appendingPathComponent("loss.png"))

    var accuracyPlot = Plot(title: "\(configuration.modelName) test accuracy", xLabel: "epoch", yLabel: "accuracy",
                            legend: .summary)
    accuracyPlot.add("test accuracy", x: result.testAccuracy.indices.map { Double($0 + 1) }, y: result.testAccuracy)
    try accuracyPlot.save(to: directory.appendingPathComponent("accuracy.png"))
    try result.confusion.heatMap(title: "\(configuration.modelName) confusion matrix")
        .save(to: directory.appendingPathComponent("confusion.png"))

    try model.save(to: directory.appendingPathComponent("model.safetensors"),
                   metadata: ["model": configuration.modelName, "epochs": "\(configuration.epochs)"])
    try SafeTensors.write(optimizer.stateDict(), to: directory.appendingPathComponent("optimizer.safetensors"))
    log("wrote loss.png, accuracy.png, confusion.png, model.safetensors and optimizer.safetensors to \(directory.path)")
}

/// The mean of each value and the `window − 1` before it.
public func movingAverage(_ values: [Double], window: Int) -> [Double] {
    var sum = 0.0
    return values.indices.map { i in
        sum += values[i]
        if i >= window { sum -= values[i - window] }
        return sum / Double(min(i + 1, window))
    }
}

/// The message an example prints when training or writing its outputs fails: a diverged run
/// (``NonFiniteError``) is told apart from a file that could not be written.
public func trainingFailureMessage(_ error: Error, outputDirectory: String) -> String {
    if let error = error as? NonFiniteError {
        return "training diverged, \(error); stopped before writing outputs to \(outputDirectory). "
            + "Try a lower learning rate (--lr)."
    }
    return "could not write outputs to \(outputDirectory): \(error)"
}
