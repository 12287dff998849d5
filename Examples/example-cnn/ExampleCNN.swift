import ArgumentParser
import Data
import ExampleSupport
import Foundation
import ONNX
import NN
import Optim

@main
struct ExampleCNN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "example-cnn",
        abstract: "Train a convolutional network on Fashion-MNIST (W2) or LeNet-5 (W3) on CIFAR-10 / Fashion-MNIST.",
        discussion: """
        --model cnn trains W2 on Fashion-MNIST. --model lenet5 trains LeNet-5 on CIFAR-10 when --data-dir holds its \
        binary batches (data_batch_1.bin …), otherwise on Fashion-MNIST padded to 32×32.
        --predict IMAGE loads a checkpoint and prints the top-3 classes of a 28×28 grayscale PNG or PGM.
        --checkpoint-dir DIR saves a checkpoint set (model, optimizer, epoch, random-generator state) there after every \
        epoch, written so that a kill at any instant leaves the previous set or the new one whole; --resume continues \
        from the newest complete set, with the batches and augmentations an uninterrupted run would have used.
        """
    )

    @Option(help: "cnn (W2) or lenet5 (W3).") var model = CNNModel.cnn
    @Option(help: "Number of passes over the training set.") var epochs = 2
    @Option(name: .customLong("batch-size"), help: "Examples per training step.") var batchSize = 64
    @Option(name: [.customLong("lr"), .customLong("learning-rate")], help: "Learning rate (default 1e-3).")
    var learningRate = 1e-3
    @Option(help: "adam, or sgd (momentum 0.9). Default: adam for cnn, sgd for lenet5 (as W3).") var optimizer: OptimizerChoice?
    @Option(help: "Seed for initialisation, shuffling and augmentation.") var seed: UInt64 = 0
    @Option(name: .customLong("data-dir"), help: "Fashion-MNIST IDX files, or CIFAR-10 binary batches for lenet5.")
    var dataDirectory = FashionMNIST.defaultDirectory
    @Option(name: .customLong("output-dir"), help: "Where curves and checkpoints go (default out/<model>).") var outputDirectory: String?
    @Option(help: "Threads for matrix products, convolutions and large elementwise loops.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Flag(inversion: .prefixedNo, help: "Random crop and flip on CIFAR-10 training images.") var augment = true
    @Option(help: "Classify this 28×28 grayscale PNG/PGM image instead of training.") var predict: String?
    @Option(help: "Checkpoint for --predict (default <output-dir>/model.safetensors).") var checkpoint: String?
    @OptionGroup var checkpoints: CheckpointOptions
    @OptionGroup var parallel: DistributedOptions
    @OptionGroup var onnx: ONNXExportOptions

    enum OptimizerChoice: String, ExpressibleByArgument { case adam, sgd }

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be positive, got \(epochs)") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else { throw ValidationError("--lr must be a positive number, got \(learningRate)") }
        guard threads > 0 else { throw ValidationError("--threads must be positive, got \(threads)") }
    }

    var output: String { outputDirectory ?? "out/\(model.rawValue)" }

    func run() throws {
        warnIfDebugBuild(example: "example-cnn")
        BLAS.threadCount = threads
        if let predict {
            try classify(imageAt: predict)
            return
        }
        _ = parallel.start(globalBatchSize: batchSize)
        requireWritableDirectory(output)
        let cifar = model == .lenet5 && cifarIsPresent(in: dataDirectory)
        do {
            if cifar {
                let train = try CIFAR10(directory: dataDirectory, split: .train)
                let test = try CIFAR10(directory: dataDirectory, split: .test)
                print("CIFAR-10: \(train.count) training and \(test.count) test images from \(dataDirectory)")
                if augment {
                    let augmentation = RandomTransform.randomCrop(size: 32, padding: 4).then(.randomHorizontalFlip())
                    let augmented = train.augmentingInputs(augmentation, seed: seed)
                    // A resumed run gives every image the augmentation of the epoch it resumes at.
                    try fit(on: augmented, test: test, channels: 3, classNames: CIFAR10.classNames,
                            resumeData: { augmented.resume(atEpoch: $0) })
                } else {
                    try fit(on: train, test: test, channels: 3, classNames: CIFAR10.classNames)
                }
            } else {
                let train = try FashionMNIST(directory: dataDirectory, split: .train)
                let test = try FashionMNIST(directory: dataDirectory, split: .test)
                print("Fashion-MNIST: \(train.count) training and \(test.count) test images from \(dataDirectory)")
                if model.inputSize == 28 {
                    try fit(on: train, test: test, channels: 1, classNames: FashionMNIST.classNames)
                } else {
                    print("(padded to 32×32 for LeNet-5)")
                    let pad = Transform.pad(to: 32)
                    try fit(on: train.transformingInputs(pad), test: test.transformingInputs(pad), channels: 1,
                              classNames: FashionMNIST.classNames)
                }
            }
        } catch let error as DataError {
            exitWithError(error.description)
        }
    }

    func fit<D: Dataset, T: Dataset>(on train: D, test: T, channels: Int, classNames: [String],
                                     resumeData: (Int) -> Void = { _ in }) throws
    where D.Element == (Tensor, Int), T.Element == (Tensor, Int) {
        print("Kernels: \(InstructionSet.summary); Float products: \(BLAS.floatProductKernels), \(threads) thread(s); model \(model.rawValue)")
        RandomGenerator.manualSeed(seed)
        let network = model.make(inputChannels: channels)
        let choice = optimizer ?? (model == .cnn ? .adam : .sgd)
        let optimizer: Optimizer = choice == .adam
            ? Adam(network.parameters(), learningRate: learningRate)
            : SGD(network.parameters(), learningRate: learningRate, momentum: 0.9)
        let configuration = ClassifierTrainingConfiguration(epochs: epochs, batchSize: batchSize, seed: seed,
                                                            outputDirectory: output, modelName: model.rawValue.uppercased(),
                                                            checkpointDirectory: checkpoints.checkpointDirectory,
                                                            resume: checkpoints.resume,
                                                            group: parallel.start(globalBatchSize: batchSize))
        do {
            let result = try trainClassifier(network, optimizer: optimizer, configuration: configuration,
                                             train: train, test: test, classNames: classNames, resumeData: resumeData)
            print(String(format: "final test accuracy %.4f; %.1f s per epoch, %.2f ms per step (median)",
                         result.testAccuracy.last ?? 0,
                         result.secondsPerEpoch.reduce(0, +) / Double(result.secondsPerEpoch.count),
                         result.msPerStep.sorted()[result.msPerStep.count / 2]))
            // Every rank holds the same trained weights; rank 0 writes the file, as it writes the other outputs.
            if configuration.group.map({ $0.rank == 0 }) ?? true {
                onnx.exportIfRequested(network, input: ONNXInput(shape: [1, channels, model.inputSize, model.inputSize]))
            }
        } catch let error as DataError {
            exitWithError(error.description)
        } catch {
            exitWithError(trainingFailureMessage(error, outputDirectory: output))
        }
    }

    /// Loads the checkpoint and prints the three most probable Fashion-MNIST classes of one image.
    func classify(imageAt path: String) throws {
        let checkpointPath = checkpoint ?? "\(output)/model.safetensors"
        let network = model.make(inputChannels: 1)
        do {
            _ = try network.load(from: URL(fileURLWithPath: checkpointPath))
        } catch {
            exitWithError("cannot load checkpoint \(checkpointPath): \(error)\n(train first with `swift run -c release example-cnn --model \(model.rawValue)`, or pass --checkpoint)")
        }
        let image: Tensor
        do { image = try GrayscaleImage.load(path) } catch { exitWithError(error.description) }
        guard image.shape == [1, 28, 28] else {
            exitWithError("\(path): expected a 28×28 grayscale image, got \(image.shape.dropFirst().map(String.init).joined(separator: "×"))")
        }
        let input = model.inputSize == 28 ? image : image.padded([(2, 2), (2, 2)])
        onnx.exportIfRequested(network, input: ONNXInput(shape: [1, 1, model.inputSize, model.inputSize]))
        network.eval()
        let probabilities = Graph.noGrad { network(Variable(input.unsqueezed(axis: 0))).softmax(axis: 1).value.doubles }
        print("\(path):")
        for (rank, index) in probabilities.indices.sorted(by: { probabilities[$0] > probabilities[$1] }).prefix(3).enumerated() {
            print(String(format: "  %d. %@  %.1f%%", rank + 1, FashionMNIST.classNames[index], probabilities[index] * 100))
        }
    }
}

extension CNNModel: ExpressibleByArgument {}

/// Whether `directory` (or its cifar-10-batches-bin folder) holds CIFAR-10's first binary training batch.
func cifarIsPresent(in directory: String) -> Bool {
    [directory, "\(directory)/\(CIFAR10.archiveFolder)"].contains { folder in
        ["data_batch_1.bin", "data_batch_1.bin.gz"].contains { FileManager.default.fileExists(atPath: "\(folder)/\($0)") }
    }
}
