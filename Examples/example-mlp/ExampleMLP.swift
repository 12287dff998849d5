import ArgumentParser
import Data
import ExampleSupport
import Foundation
import ONNX

@main
struct ExampleMLP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "example-mlp",
        abstract: "Train a 784-512-256-10 MLP on Fashion-MNIST with Adam (workload W1).",
        discussion: "Writes loss and accuracy curves (PNG) and a checkpoint (safetensors) to the output directory."
    )

    @Option(help: "Number of passes over the training set.") var epochs = 5
    @Option(name: .customLong("batch-size"), help: "Examples per training step.") var batchSize = 64
    @Option(name: [.customLong("lr"), .customLong("learning-rate")], help: "Adam learning rate.") var learningRate = 1e-3
    @Option(help: "Seed for initialisation and shuffling.") var seed: UInt64 = 0
    @Option(name: .customLong("data-dir"), help: "Directory with the Fashion-MNIST IDX files.")
    var dataDirectory = FashionMNIST.defaultDirectory
    @Option(name: .customLong("output-dir"), help: "Where curves and checkpoints go.") var outputDirectory = "out/mlp"
    @Option(help: "Threads for matrix products, convolutions and large elementwise loops.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @OptionGroup var checkpoints: CheckpointOptions
    @OptionGroup var parallel: DistributedOptions
    @OptionGroup var onnx: ONNXExportOptions

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be positive, got \(epochs)") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else { throw ValidationError("--lr must be a positive number, got \(learningRate)") }
        guard threads > 0 else { throw ValidationError("--threads must be positive, got \(threads)") }
    }

    func run() throws {
        warnIfDebugBuild(example: "example-mlp")
        let group = parallel.start(globalBatchSize: batchSize)
        requireWritableDirectory(outputDirectory)
        BLAS.threadCount = threads
        let train: FashionMNIST, test: FashionMNIST
        do {
            train = try FashionMNIST(directory: dataDirectory, split: .train)
            test = try FashionMNIST(directory: dataDirectory, split: .test)
        } catch {
            exitWithError(error.description)
        }
        print("Fashion-MNIST: \(train.count) training and \(test.count) test images from \(dataDirectory)")
        print("Kernels: \(InstructionSet.summary); Float products: \(BLAS.floatProductKernels), \(threads) thread(s)")
        let configuration = ClassifierTrainingConfiguration(epochs: epochs, batchSize: batchSize, seed: seed,
                                                            outputDirectory: outputDirectory, modelName: "MLP",
                                                            checkpointDirectory: checkpoints.checkpointDirectory,
                                                            resume: checkpoints.resume, group: group)
        do {
            let model = makeMLP(generator: RandomGenerator(seed: seed))
            let result = try trainMLP(configuration, learningRate: learningRate, train: train, test: test,
                                      classNames: FashionMNIST.classNames, model: model)
            // Every rank holds the same trained weights; rank 0 writes the file, as it writes the other outputs.
            if group.map({ $0.rank == 0 }) ?? true { onnx.exportIfRequested(model, input: ONNXInput(shape: [1, 784])) }
            print(String(format: "final test accuracy %.4f; %.1f s per epoch on average", result.testAccuracy.last ?? 0,
                         result.secondsPerEpoch.reduce(0, +) / Double(result.secondsPerEpoch.count)))
        } catch {
            exitWithError(trainingFailureMessage(error, outputDirectory: outputDirectory))
        }
    }
}
