import Data
import ExampleSupport
import Foundation
import NN
import Optim

/// What one run of the MLP example uses.
struct MLPConfiguration {
    var epochs = 5
    var batchSize = 64
    var learningRate = 1e-3
    var seed: UInt64 = 0
    var outputDirectory = "out/mlp"
    /// Steps per epoch to run (all when nil); the smoke test uses a few.
    var stepLimit: Int? = nil
}

/// What the run measured.
struct MLPResult {
    var testAccuracy: [Double] = []
    var secondsPerEpoch: [Double] = []
    var stepLosses: [Double] = []
    var confusion: ConfusionMatrix
}

/// W1 of the workloads: Linear 784→512, ReLU, 512→256, ReLU, 256→10.
func makeMLP() -> Sequential {
    Sequential(Linear(784, 512), ReLU(), Linear(512, 256), ReLU(), Linear(256, 10))
}

/// Test-set accuracy and confusion matrix, evaluated without recording in eval mode.
func evaluate<D: Dataset>(_ model: Module, on test: D, classNames: [String]) -> ConfusionMatrix where D.Element == (Tensor, Int) {
    model.eval()
    defer { model.train() }
    var confusion = ConfusionMatrix(classNames: classNames)
    let loader = DataLoader(test, batchSize: 1000)
    Graph.noGrad {
        for (images, labels) in loader {
            let logits = model(Variable(images.reshaped([images.shape[0], -1])))
            confusion.add(truth: labels, predicted: logits.value.argmax(alongAxis: 1))
        }
    }
    return confusion
}

/// Trains the MLP with Adam and cross-entropy, evaluating after every epoch, then writes curves and a checkpoint.
func trainMLP<D: Dataset, T: Dataset>(_ configuration: MLPConfiguration, train: D, test: T, classNames: [String],
                                      log: (String) -> Void = { print($0) }) throws -> MLPResult
where D.Element == (Tensor, Int), T.Element == (Tensor, Int) {
    RandomGenerator.manualSeed(configuration.seed)
    let model = makeMLP()
    let optimizer = Adam(model.parameters(), learningRate: configuration.learningRate)
    let loader = DataLoader(train, batchSize: configuration.batchSize, shuffle: true, seed: configuration.seed, prefetch: 2)
    var result = MLPResult(confusion: ConfusionMatrix(classNames: classNames))
    let stepsPerEpoch = min(loader.count, configuration.stepLimit ?? .max)

    for epoch in 1...configuration.epochs {
        let progress = ProgressBar(total: stepsPerEpoch, label: "epoch \(epoch)/\(configuration.epochs)")
        var runningLoss = 0.0
        for (step, (images, labels)) in loader.enumerated() {
            if step == stepsPerEpoch { break }
            let logits = model(Variable(images.reshaped([images.shape[0], -1])))
            let loss = crossEntropy(logits, labels)
            optimizer.zeroGrad()
            loss.backward()
            optimizer.step()
            let value = loss.value.item
            result.stepLosses.append(value)
            runningLoss = step == 0 ? value : 0.98 * runningLoss + 0.02 * value
            progress.advance(metrics: ["loss": runningLoss])
        }
        result.secondsPerEpoch.append(progress.elapsed)
        result.confusion = evaluate(model, on: test, classNames: classNames)
        result.testAccuracy.append(result.confusion.accuracy)
        log(String(format: "epoch %d: test accuracy %.4f  (%.1f s)", epoch, result.confusion.accuracy, progress.elapsed))
    }

    log("\nconfusion matrix on the test set (rows: true class, columns: predicted):\n" + result.confusion.table)
    try writeOutputs(result, model: model, optimizer: optimizer, configuration: configuration, log: log)
    return result
}

private func writeOutputs(_ result: MLPResult, model: Module, optimizer: Optimizer,
                          configuration: MLPConfiguration, log: (String) -> Void) throws {
    let directory = URL(fileURLWithPath: configuration.outputDirectory)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)

    var lossPlot = LinePlot(title: "MLP training loss", xLabel: "step", yLabel: "cross-entropy")
    lossPlot.add("train loss", y: result.stepLosses)
    lossPlot.add("running mean (100 steps)", y: movingAverage(result.stepLosses, window: 100))
    try lossPlot.write(to: directory.appendingPathComponent("loss.png").path)

    var accuracyPlot = LinePlot(title: "MLP test accuracy", xLabel: "epoch", yLabel: "accuracy")
    accuracyPlot.add("test accuracy", x: result.testAccuracy.indices.map { Double($0 + 1) }, y: result.testAccuracy)
    try accuracyPlot.write(to: directory.appendingPathComponent("accuracy.png").path)

    try model.save(to: directory.appendingPathComponent("model.safetensors"),
                   metadata: ["model": "mlp-784-512-256-10", "epochs": "\(configuration.epochs)"])
    try SafeTensors.write(optimizer.stateDict(), to: directory.appendingPathComponent("optimizer.safetensors"))
    log("wrote loss.png, accuracy.png, model.safetensors and optimizer.safetensors to \(directory.path)")
}

/// The mean of each value and the `window − 1` before it.
func movingAverage(_ values: [Double], window: Int) -> [Double] {
    var sum = 0.0
    return values.indices.map { i in
        sum += values[i]
        if i >= window { sum -= values[i - window] }
        return sum / Double(min(i + 1, window))
    }
}
