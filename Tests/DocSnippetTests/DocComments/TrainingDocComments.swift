import Foundation
import Data
import NN
import Optim
import Training

// The swift snippets of the `///` comments of Training as the comments show them (scripts/sync-doc-snippets.py
// copies them here, DocSnippetSyncTests fails when they differ), one function per snippet, grouped by source file.
// A function's parameters are what its snippet assumes; compiled, not run (they write files or train).

// MARK: Sources/Training/Metrics

func confusionMatrixComment(model: Module, test: LabeledTensorDataset) throws {
    // snippet: Sources/Training/Metrics/ConfusionMatrix.swift#1
    var confusion = ConfusionMatrix(classNames: ["cat", "dog", "bird"])
    for (images, labels) in DataLoader(test, batchSize: 500) {
        confusion.add(truth: labels, predicted: model(Variable(images)).value.argmax(axis: 1))
    }
    print(confusion.table)
    print(confusion.scores(average: .macro).f1)
    try confusion.heatMap().save(to: URL(fileURLWithPath: "confusion.png"))
    // end snippet
}

func metricsComment(logits: Tensor, labels: [Int], fit: Tensor, targets: Tensor) {
    // snippet: Sources/Training/Metrics/Metrics.swift#1
    let predicted = logits.argmax(axis: 1)
    let accuracy = Metrics.accuracy(predicted: predicted, truth: labels)
    let f1 = Metrics.precisionRecallF1(predicted: predicted, truth: labels, classCount: 10, average: .macro).f1
    let r2 = Metrics.r2Score(predicted: fit.doubles, truth: targets.doubles)
    // end snippet
    _ = (accuracy, f1, r2)
}

// MARK: Sources/Training/Progress/ProgressBar.swift

func progressBarComment(loader: [(Tensor, [Int])], epoch: Int, step: (Tensor, [Int]) -> Double) {
    // snippet: Sources/Training/Progress/ProgressBar.swift#1
    let progress = ProgressBar(total: loader.count, label: "epoch \(epoch)")
    for (x, y) in loader {
        let loss = step(x, y)
        progress.advance(metrics: ["loss": loss])
    }
    // end snippet
}

// MARK: Sources/Training/TrainingCheckpoint.swift

func trainingStateComment(generator: Module, optimizerG: Optimizer, discriminator: Module, optimizerD: Optimizer) {
    // snippet: Sources/Training/TrainingCheckpoint.swift#1
    let state = TrainingState(model: generator, optimizer: optimizerG,
                              parts: ["discriminator": .model(discriminator), "optimizer-discriminator": .optimizer(optimizerD)])
    // end snippet
    _ = state
}

func checkpointDirectoryComment(model: Module, optimizer: Optimizer, schedule: any CheckpointableSchedule,
                                totalSteps: Int, trainOneStep: () -> Void) throws {
    // snippet: Sources/Training/TrainingCheckpoint.swift#2
    let checkpoints = try CheckpointDirectory(URL(fileURLWithPath: "runs/mlp"), keepLast: 3)
    let state = TrainingState(model: model, optimizer: optimizer, schedule: schedule)
    var step = try checkpoints.restoreLatest(into: state)?.step ?? 0   // --resume
    while step < totalSteps {
        trainOneStep(); step += 1
        if step % 500 == 0 { try checkpoints.save(state, step: step) }
    }
    // end snippet
}
