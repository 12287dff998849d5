import ArgumentParser
import Data
import ExampleSupport
import Foundation
import Training

@main
struct ExampleRegression: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "example-regression",
        abstract: "Linear and polynomial regression: the classic workflow from split to test R².",
        discussion: """
            Draws noisy samples of y = 0.5x^3 - 2x + 1 (fixed seed), splits them into train, validation and \
            test sets, and fits one linear model per degree on standardised polynomial features (statistics \
            from the training set only) with minibatch SGD on the mean squared error, stopping early when \
            the validation error stops improving and keeping the best epoch's weights. Prints each model's \
            MSE on every split and its test MAE and R², and writes plots of the data with the fitted curves, \
            of the test residuals against x, and of their histogram.
            """
    )

    @Option(help: "Number of samples, split 60/20/20 into train, validation and test.") var samples = 500
    @Option(help: "Standard deviation of the noise on y.") var noise = 1.0
    @Option(help: "Polynomial degrees to fit, comma-separated (1 is a straight line).") var degrees = "1,3"
    @Option(help: "Maximum epochs per model.") var epochs = 300
    @Option(name: .customLong("batch-size"), help: "Examples per SGD step.") var batchSize = 32
    @Option(name: [.customLong("lr"), .customLong("learning-rate")], help: "SGD learning rate.") var learningRate = 0.05
    @Option(help: "SGD momentum.") var momentum = 0.9
    @Option(help: "Epochs without a validation improvement before training stops.") var patience = 20
    @Option(help: "Seed for the data, the split and the initial weights.") var seed: UInt64 = 0
    @Option(name: .customLong("output-dir"), help: "Where fit.png, residuals.png and residual-histogram.png are written.")
    var outputDirectory = "out/regression"

    /// The degrees asked for, in order.
    var degreeList: [Int] { degrees.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        guard samples >= 20 else { throw ValidationError("--samples must be at least 20, got \(samples)") }
        guard noise >= 0, noise.isFinite else { throw ValidationError("--noise must be a non-negative number, got \(noise)") }
        let list = degreeList
        guard !list.isEmpty, list.count == degrees.split(separator: ",").count, list.allSatisfy({ (1...9).contains($0) }) else {
            throw ValidationError("--degrees must be a comma-separated list of integers from 1 to 9, got \(degrees)")
        }
        guard epochs > 0 else { throw ValidationError("--epochs must be positive, got \(epochs)") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else { throw ValidationError("--lr must be a positive number, got \(learningRate)") }
        guard momentum >= 0, momentum < 1 else { throw ValidationError("--momentum must be in [0, 1), got \(momentum)") }
        guard patience > 0 else { throw ValidationError("--patience must be positive, got \(patience)") }
    }

    func run() throws {
        warnIfDebugBuild(example: "example-regression")
        requireWritableDirectory(outputDirectory)
        let data = RegressionData.generate(count: samples, noise: noise, seed: seed)
        let parts = split(data, fractions: [0.6, 0.2, 0.2], seed: seed)
        let (train, validation, test) = (parts[0], parts[1], parts[2])
        print("\(samples) samples of y = 0.5x^3 - 2x + 1 + noise (sd \(noise), seed \(seed)): " +
              "\(train.x.count) train, \(validation.x.count) validation, \(test.x.count) test")
        let configuration = RegressionConfiguration(epochs: epochs, batchSize: batchSize, learningRate: learningRate,
                                                    momentum: momentum, patience: patience, seed: seed)
        var fits: [RegressionFit] = []
        do {
            for degree in degreeList {
                fits.append(try fitRegression(degree: degree, train: train, validation: validation, configuration: configuration))
            }
        } catch {
            exitWithError("training diverged: \(error) (try a smaller --lr)")
        }

        print("\ndegree  epochs (best)  train MSE  valid MSE   test MSE   test MAE    test R2")
        for fit in fits {
            let predicted = fit.predict(test.x)
            let epochs = fit.stoppedEarly ? "\(fit.trainLoss.count) (\(fit.bestEpoch))" : "\(fit.trainLoss.count) (\(fit.bestEpoch))*"
            let padded = String(repeating: " ", count: Swift.max(13 - epochs.count, 0)) + epochs
            print(String(format: "%6d  ", fit.degree) + padded + String(format: " %10.4f %10.4f %10.4f %10.4f %10.4f",
                         Metrics.meanSquaredError(predicted: fit.predict(train.x), truth: train.y),
                         Metrics.meanSquaredError(predicted: fit.predict(validation.x), truth: validation.y),
                         Metrics.meanSquaredError(predicted: predicted, truth: test.y),
                         Metrics.meanAbsoluteError(predicted: predicted, truth: test.y),
                         Metrics.r2Score(predicted: predicted, truth: test.y)))
        }
        if fits.contains(where: { !$0.stoppedEarly }) {
            print("* ran every epoch without stopping early: more --epochs may still help")
        }
        print(String(format: "(the noise alone gives a test MSE of about %.4f)", noise * noise))

        let directory = URL(fileURLWithPath: outputDirectory)
        let (fitPlot, residualPlot) = regressionPlots(train: train, test: test, fits: fits)
        do {
            try fitPlot.save(to: directory.appendingPathComponent("fit.png"))
            try residualPlot.save(to: directory.appendingPathComponent("residuals.png"))
            try residualHistogram(test: test, fits: fits).save(to: directory.appendingPathComponent("residual-histogram.png"))
        } catch {
            exitWithError("could not write the plots to \(outputDirectory): \(error)")
        }
        print("wrote fit.png, residuals.png and residual-histogram.png to \(outputDirectory)")
    }
}
