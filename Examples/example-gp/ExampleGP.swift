import ArgumentParser
import AutoGrad
import Data
import ExampleSupport
import Foundation

@main
struct ExampleGP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "example-gp",
        abstract: "Gaussian-process regression: fit kernel hyper-parameters by maximising the log marginal likelihood.",
        discussion: """
            Draws a function from a GP prior with known hyper-parameters (fixed seed), observes it with noise, \
            and learns length scale, signal variance and noise variance (in log space) with Adam through a \
            differentiable Cholesky factorisation. Prints the learned values next to the truth and the test \
            RMSE, and writes a PNG of the posterior mean with a ±2σ band and the training points.
            """
    )

    @Option(name: .customLong("train-points"), help: "Number of noisy training observations.") var trainPoints = 60
    @Option(name: .customLong("test-points"), help: "Number of test inputs on a grid.") var testPoints = 200
    @Option(help: "Adam steps.") var steps = 300
    @Option(name: [.customLong("lr"), .customLong("learning-rate")], help: "Adam learning rate.") var learningRate = 0.05
    @Option(help: "Seed for the data.") var seed: UInt64 = 0
    @Option(name: .customLong("true-length-scale"), help: "Length scale of the generating GP.") var trueLengthScale = 0.8
    @Option(name: .customLong("true-signal-variance"), help: "Signal variance of the generating GP.") var trueSignalVariance = 1.5
    @Option(name: .customLong("true-noise-variance"), help: "Noise variance of the observations.") var trueNoiseVariance = 0.04
    @Option(help: "Where the plot (PNG) is written.") var plot = "out/gp/posterior.png"

    func validate() throws {
        guard trainPoints >= 2 else { throw ValidationError("--train-points must be at least 2, got \(trainPoints)") }
        guard testPoints >= 2 else { throw ValidationError("--test-points must be at least 2, got \(testPoints)") }
        guard steps > 0 else { throw ValidationError("--steps must be positive, got \(steps)") }
        guard learningRate > 0, learningRate.isFinite else { throw ValidationError("--lr must be a positive number, got \(learningRate)") }
        for (name, value) in [("--true-length-scale", trueLengthScale), ("--true-signal-variance", trueSignalVariance),
                              ("--true-noise-variance", trueNoiseVariance)] {
            guard value > 0, value.isFinite else { throw ValidationError("\(name) must be a positive number, got \(value)") }
        }
        guard plot.hasSuffix(".png") else { throw ValidationError("--plot must name a .png file, got \(plot)") }
    }

    func run() throws {
        warnIfDebugBuild(example: "example-gp")
        let truth = GPHyperparameters(lengthScale: trueLengthScale, signalVariance: trueSignalVariance, noiseVariance: trueNoiseVariance)
        let initial = GPHyperparameters(lengthScale: 1, signalVariance: 1, noiseVariance: 0.1)
        let data: GPData, fit: GPFit
        do {
            data = try GPData.generate(truth: truth, trainCount: trainPoints, testCount: testPoints, seed: seed)
            print("\(trainPoints) noisy observations of a function drawn from the GP prior (seed \(seed)); \(testPoints) test points")
            fit = try fitGP(data, initial: initial, steps: steps, learningRate: learningRate)
        } catch {
            exitWithError("\(error)")
        }
        let h = fit.hyperparameters
        print("")
        print("hyper-parameter      learned     truth")
        print(String(format: "length scale      %10.4f %9.4f", h.lengthScale, truth.lengthScale))
        print(String(format: "signal variance   %10.4f %9.4f", h.signalVariance, truth.signalVariance))
        print(String(format: "noise variance    %10.4f %9.4f", h.noiseVariance, truth.noiseVariance))
        print("(the signal variance is the least identifiable: one sampled function on a finite interval says little about it)")
        print(String(format: "test RMSE of the posterior mean against the noise-free function: %.4f (noise sd %.4f)",
                     fit.testRMSE, truth.noiseVariance.squareRoot()))
        do {
            let directory = (plot as NSString).deletingLastPathComponent
            if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            try posteriorPlot(data, fit).save(to: URL(fileURLWithPath: plot))
        } catch {
            exitWithError("could not write the plot to \(plot): \(error)")
        }
        print("wrote \(plot)")
    }
}
