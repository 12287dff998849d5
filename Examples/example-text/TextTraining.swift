import Data
import Distributed
import ExampleSupport
import Foundation
import NN
import Optim
import Training

/// The hyper-parameters of one training run (issue 18's defaults for the GPT: W7; see `TextModel.defaults`).
struct TrainingConfiguration {
    var steps = 2000
    var batchSize = 12
    var contextLength = 64
    var learningRate = 1e-3
    /// Linear warm-up steps, then a cosine down to `learningRate / 10` at the last step (nanoGPT's schedule).
    var warmupSteps = 100
    var weightDecay = 0.1
    var clipNorm = 1.0
    var betas = (0.9, 0.99)
    var evalEvery = 200
    /// The validation windows evaluated each time (spread evenly over the validation text; see `validationWindows`).
    var evalWindows = 480
    var seed: UInt64 = 0
    /// The ranks to train on data-parallel, ``batchSize`` being the global batch split evenly over them; one process
    /// when nil.
    var group: ProcessGroup? = nil
}

/// Trains a ``LanguageModel`` on random windows of the training tokens, measuring the validation loss on a fixed
/// set of windows.
///
/// With ``TrainingConfiguration/group`` it trains data-parallel: each rank reads its ``DistributedSampler`` share of
/// every global batch and the gradients are averaged over ranks before clipping (so every rank clips the same
/// gradient); the model has no batch statistics, so 2 ranks × B train as 1 process × 2B does. The training loss
/// recorded is the mean over ranks; only rank 0 evaluates, prints and saves.
final class LanguageModelTrainer {
    let model: LanguageModel
    let configuration: TrainingConfiguration
    let optimizer: AdamW
    let schedule: LinearWarmup
    private(set) var trainLosses: [Double] = []
    private(set) var validationLosses: [(step: Int, loss: Double)] = []
    private(set) var tokensPerSecond: Double = 0
    /// The data-parallel replica of the model; made when training starts, after a resume, so that rank 0's restored
    /// weights are the ones broadcast.
    private var parallel: DistributedDataParallel?

    init(model: LanguageModel, configuration c: TrainingConfiguration) {
        self.model = model
        configuration = c
        // nanoGPT's groups: weight decay on matrices (weights, embeddings), none on biases and norms.
        let parameters = model.parameters()
        optimizer = AdamW(groups: [ParameterGroup(parameters: parameters.filter { $0.rank >= 2 }, weightDecay: c.weightDecay),
                                   ParameterGroup(parameters: parameters.filter { $0.rank < 2 }, weightDecay: 0)],
                          learningRate: c.learningRate, betas: c.betas)
        let warmup = max(min(c.warmupSteps, c.steps - 1), 1)
        let cosine = CosineAnnealingLR(optimizer, period: max(c.steps - warmup, 1), minimum: c.learningRate / 10)
        // startFactor 1/(n+1): step k of the warm-up runs at (k+1)/(n+1) of the rate, as nanoGPT's get_lr.
        schedule = LinearWarmup(optimizer, startFactor: 1 / Double(warmup + 1), totalEpochs: warmup, then: cosine)
    }

    /// The mean cross-entropy of next-token prediction over `windows`, in batches, without recording.
    func loss(on windows: [(TensorIndices, TensorIndices)]) -> Double {
        Graph.noGrad {
            var total = 0.0
            for start in stride(from: 0, to: windows.count, by: 48) {
                let batch = Array(windows[start..<min(start + 48, windows.count)])
                let (x, y) = (TensorIndices.collate(batch.map(\.0)), TensorIndices.collate(batch.map(\.1)))
                total += stepLoss(x, y).value.doubles[0] * Double(batch.count)
            }
            return total / Double(windows.count)
        }
    }

    private func stepLoss(_ x: TensorIndices, _ y: TensorIndices) -> Variable {
        let logits = model.logits(x)
        return crossEntropy(logits.reshaped([x.values.count, logits.shape[2]]), y.values)
    }

    /// Everything a checkpoint set holds: the model, AdamW's state, the schedule, the global generator and the loss
    /// history (`history.safetensors`). The batches follow from the seed and the step alone.
    var trainingState: TrainingState {
        TrainingState(model: model, optimizer: optimizer, schedule: schedule, parts: [
            "history": CheckpointPart(save: { [unowned self] in
                ["train_losses": Tensor(shape: [trainLosses.count], scalars: trainLosses),
                 "validation_steps": Tensor(shape: [validationLosses.count], scalars: validationLosses.map { Double($0.step) }),
                 "validation_losses": Tensor(shape: [validationLosses.count], scalars: validationLosses.map(\.loss))]
            }, load: { [unowned self] state in
                guard state.count == 3, let train = state["train_losses"], train.rank == 1,
                      let steps = state["validation_steps"], steps.rank == 1, let losses = state["validation_losses"],
                      losses.shape == steps.shape, steps.doubles.allSatisfy({ $0 >= 1 && $0 == $0.rounded() && $0 <= 1e12 }) else {
                    throw HistoryError()
                }
                trainLosses = train.doubles
                validationLosses = zip(steps.doubles, losses.doubles).map { (Int($0), $1) }
            }),
        ])
    }

    /// A checkpoint's `history.safetensors` that is not the loss history this trainer writes.
    struct HistoryError: Error, CustomStringConvertible {
        var description: String { "history.safetensors does not hold train_losses, validation_steps and validation_losses" }
    }

    /// Runs steps `firstStep...configuration.steps` over random windows of `train`; every `evalEvery` steps (and at
    /// the end) the loss on `validation`, then a checkpoint set in `checkpoints` (when given) with `metadata`.
    /// Resuming at `firstStep` after a set saved at `firstStep − 1` draws the batches an uninterrupted run draws.
    /// `afterStep` runs after every optimizer step, on every rank (tests check the replicas there).
    ///
    /// - Throws: ``NonFiniteError`` when a loss or gradient stops being finite, before the optimizer uses it (and
    ///   before anything is saved); `ResumeMismatchError` when the ranks of a data-parallel run resumed at different
    ///   steps; the checkpoint directory's errors when a set cannot be written.
    func train(_ train: LanguageModelWindows, validation: [(TensorIndices, TensorIndices)], from firstStep: Int = 1,
               checkpoints: CheckpointDirectory? = nil, metadata: [String: String] = [:],
               afterStep: () throws -> Void = {}) throws {
        let c = configuration
        precondition(firstStep >= 1, "LanguageModelTrainer.train: firstStep \(firstStep) must be at least 1")
        let group = c.group
        let isMain = group?.isMain ?? true
        try requireRanksResumedAlike(firstStep, group: group, unit: "step",
                                     directory: checkpoints?.url.path ?? "the checkpoint directory")
        guard firstStep <= c.steps else { return }
        if let group, parallel == nil { parallel = DistributedDataParallel(model, group: group) }
        // With one rank, the order of a shuffled DataLoader; remainders dropped, as its dropLast does.
        let sampler = DistributedSampler(count: train.count, worldSize: group?.worldSize ?? 1, rank: group?.rank ?? 0,
                                         seed: c.seed, dropLast: true)
        precondition(c.batchSize % sampler.worldSize == 0, "LanguageModelTrainer.train: batch \(c.batchSize) does not split over \(sampler.worldSize) ranks")
        let localBatch = c.batchSize / sampler.worldSize
        var epoch = 0
        var batches = DataLoader(sampler.shard(train, epoch: epoch), batchSize: localBatch, dropLast: true).makeIterator()
        func nextBatch() -> (TensorIndices, TensorIndices) {
            if let batch = batches.next() { return batch }
            epoch += 1
            batches = DataLoader(sampler.shard(train, epoch: epoch), batchSize: localBatch, dropLast: true).makeIterator()
            guard let batch = batches.next() else {
                preconditionFailure("LanguageModelTrainer: no batch of \(c.batchSize) windows")
            }
            return batch
        }
        for _ in 1..<firstStep { _ = nextBatch() }
        let progress = ProgressBar(total: c.steps - firstStep + 1, label: "train", plainEvery: 100)
        let start = Date()
        model.train()
        for step in firstStep...c.steps {
            let batch = nextBatch()
            let loss = stepLoss(batch.0, batch.1)
            var value = try NonFiniteCheck.loss(loss, step: step)
            optimizer.zeroGrad()
            loss.backward()
            parallel?.synchronizeGradients()
            try NonFiniteCheck.gradients(model.namedParameters(), step: step)
            clipGradNorm(model.parameters(), maxNorm: c.clipNorm)
            optimizer.step()
            schedule.step()
            try afterStep()
            // The ranks' windows hold equally many tokens, so the mean of their mean losses is the global batch's.
            if let group { value = group.allReduce(Tensor(shape: [1], scalars: [value]), .average).doubles[0] }
            trainLosses.append(value)
            tokensPerSecond = Double((step - firstStep + 1) * c.batchSize * c.contextLength) / Date().timeIntervalSince(start)
            if isMain { progress.advance(metrics: ["loss": value, "tok/s": tokensPerSecond]) }
            if (step % c.evalEvery == 0 || step == c.steps) && isMain {
                model.eval()
                let validationLoss = self.loss(on: validation)
                model.train()
                validationLosses.append((step, validationLoss))
                print(String(format: "step %d: train loss %.4f (mean of the last %d), validation loss %.4f", step,
                             trainLosses.suffix(c.evalEvery).reduce(0, +) / Double(min(c.evalEvery, trainLosses.count)),
                             min(c.evalEvery, trainLosses.count), validationLoss))
                try checkpoints?.save(trainingState, step: step, metadata: metadata)
            }
        }
        model.eval()
    }

    /// Checks that every rank holds the same weights (see `DistributedDataParallel.checkReplicasMatch()`); does
    /// nothing in one process or before training started.
    func checkReplicasMatch() throws {
        try parallel?.checkReplicasMatch()
    }

    /// Training loss (mean of 50 steps) and validation loss against the step.
    func plot(title: String) -> Plot {
        var plot = Plot(title: title, xLabel: "step", yLabel: "cross-entropy (nats per token)", legend: .summary)
        plot.add("train (mean of 50 steps)", y: movingAverage(trainLosses, window: 50))
        plot.add("validation", x: validationLosses.map { Double($0.step) }, y: validationLosses.map(\.loss))
        return plot
    }
}

/// `count` windows of `tokens` spread evenly: the windows of `contextLength` tokens tiling the text, of which
/// those at indices `j · tiles / count` for `j < count` (all of them when there are fewer). The PyTorch script
/// evaluates the same windows.
func validationWindows(_ tokens: [Int], contextLength: Int, count: Int, source: String) throws(DataError)
    -> [(TensorIndices, TensorIndices)] {
    let tiles = try LanguageModelWindows(tokens: tokens, contextLength: contextLength, stride: contextLength, source: source)
    let n = min(count, tiles.count)
    return (0..<n).map { tiles[$0 * tiles.count / n] }
}
